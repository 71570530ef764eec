"""Background jobs: periodic work that shares the server's loop (retention, maintenance).

Each job runs on its own interval; a failing run is logged and retried at the next tick, never
taking the server down. Stopping cancels the sleepers and waits for a running job to end.

A server of several workers runs them in worker 0 only: each works on the database as a whole
(rows past their time, the SQLite file), so once per node is enough, and none keeps anything
in the process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tempmail.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[], Awaitable[None]]


class Scheduler:
    def __init__(self, jobs: list[Job]) -> None:
        self.jobs = jobs
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._loop(job), name=f"job:{job.name}") for job in self.jobs]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _loop(self, job: Job) -> None:
        while True:
            await asyncio.sleep(job.every_seconds)
            try:
                await job.run()
            except Exception:
                log.exception("background job %s failed; retrying next time", job.name)


def server_jobs(services: Services) -> list[Job]:
    """The jobs `tempmail serve` runs."""
    return [
        Job("auto cleanup", 3600, services.cleanup.run_scheduled),
        Job("database maintenance", 3600, services.database.maintain),
        Job("expired verification codes", 600, services.users.purge_expired_codes),
        Job("expired passkey challenges", 600, services.passkeys.purge_expired_challenges),
    ]
