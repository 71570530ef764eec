"""Leases of the scheduled jobs (`job_leases`): which node runs a job, and until when.

A lease is taken for a whole interval of the job, not only for its run: the nodes' schedulers
tick out of step, and a lease released at the end of a run would let the next node's tick run
the job again a moment later. Held for the interval, a job runs once per interval across every
node. Taking it is one statement (an upsert whose update applies only to a lease that has run
out), so two nodes asking at once get one yes between them on either back end. A node that dies
holds its lease only until it runs out; the next tick of another node takes it over.

Times are seconds since the epoch from each node's own clock: nodes are expected to keep their
clocks in step (NTP), as the timestamps of every other table already assume.
"""

from __future__ import annotations

import os
import secrets
import socket

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_TAKE = text(
    "INSERT INTO job_leases (name, holder, until, runs) VALUES (:name, :holder, :until, 1)"
    " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until,"
    " runs = job_leases.runs + 1"
    " WHERE job_leases.until <= :now"
    " RETURNING runs"
)
_EXTEND = text(
    "UPDATE job_leases SET until = :until WHERE name = :name AND holder = :holder AND until < :until"
)


def lease_holder() -> str:
    """This process's name on a lease (of a job, or of a delivery): host and pid for whoever
    reads the table, and a random part so a restarted process with a recycled pid is someone
    else."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class LeaseStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def take(self, name: str, holder: str, now: float, until: float) -> bool:
        """Whether `holder` now holds the lease of `name` until `until` (it had run out, or
        there was none)."""
        async with self.engine.begin() as conn:
            taken = (
                await conn.execute(_TAKE, {"name": name, "holder": holder, "now": now, "until": until})
            ).first()
        return taken is not None

    async def extend(self, name: str, holder: str, until: float) -> None:
        """Keep a lease `holder` still holds until `until` (a run that outlasts its interval)."""
        async with self.engine.begin() as conn:
            await conn.execute(_EXTEND, {"name": name, "holder": holder, "until": until})
