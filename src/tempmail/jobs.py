"""Background jobs: periodic work that shares the server's loop (retention, maintenance).

Each job runs on its own interval; a failing run is logged and retried at the next tick, never
taking the server down. Stopping cancels the sleepers and waits for a running job to end.

A server of several workers runs them in worker 0 only: each works on the database as a whole
(rows past their time, the SQLite file), so once per node is enough, and none keeps anything
in the process. Several nodes on one PostgreSQL database each have a worker 0, so every run
first takes the job's lease (`tempmail.db.leases`): one node runs it per interval, whichever
ticks first, and a node that dies mid-run leaves the job to the others once its lease runs out.
A run that outlasts its interval keeps extending its lease, so no other node starts the job
while it is still running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tempmail.db.leases import LeaseStore, lease_holder
from tempmail.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[], Awaitable[None]]


class Scheduler:
    """Runs each job every `every_seconds`; with `leases`, only when this node takes the job's
    lease for the interval (see the module's docstring), else always (a single process)."""

    def __init__(self, jobs: list[Job], leases: LeaseStore | None = None) -> None:
        self.jobs = jobs
        self.leases = leases
        self.holder = lease_holder()
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
                if not await self._take(job):
                    continue
                await self._run_holding(job)
            except Exception:
                log.exception("background job %s failed; retrying next time", job.name)

    async def _take(self, job: Job) -> bool:
        if self.leases is None:
            return True
        now = time.time()
        return await self.leases.take(job.name, self.holder, now, now + job.every_seconds)

    async def _run_holding(self, job: Job) -> None:
        """Run the job, extending its lease every half interval while it runs."""
        if self.leases is None:
            await job.run()
            return
        keeper = asyncio.create_task(self._keep_lease(job, self.leases))
        try:
            await job.run()
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper

    async def _keep_lease(self, job: Job, leases: LeaseStore) -> None:
        while True:
            await asyncio.sleep(job.every_seconds / 2)
            try:
                await leases.extend(job.name, self.holder, time.time() + job.every_seconds)
            except Exception:
                log.exception("extending the lease of job %s failed", job.name)


# The search index catches up this often (a search scans what it has not reached itself).
SEARCH_INDEX_SECONDS = 5


def server_jobs(services: Services) -> list[Job]:
    """The jobs `tempmail serve` runs; JOBS_INTERVAL_SECONDS (ours, for tests and trials)
    puts all of them on one shorter interval."""
    jobs = [
        Job("auto cleanup", 3600, services.cleanup.run_scheduled),
        Job("database maintenance", 3600, services.database.maintain),
        Job("expired verification codes", 600, services.users.purge_expired_codes),
        Job("expired passkey challenges", 600, services.passkeys.purge_expired_challenges),
        Job("delivered outbox rows", 3600, services.outbox.purge_delivered),
        Job("search index", SEARCH_INDEX_SECONDS, services.search.index_pending),
    ]
    every = services.settings.JOBS_INTERVAL_SECONDS
    scheduled = [Job(job.name, every, job.run) for job in jobs] if every > 0 else jobs
    return scheduled + telegram_polling(services)


# How often the node polling Telegram renews its hold (every half of it), and how soon after
# start-up, or after that node died, one node starts polling.
TELEGRAM_POLLING_LEASE_SECONDS = 5.0


def telegram_polling(services: Services) -> list[Job]:
    """The bot's getUpdates in polling mode, as a job that never ends on its own: the node that
    takes its lease polls for as long as it runs and keeps the lease meanwhile, so exactly one
    node asks Telegram (two would be refused), and another takes over once that one is gone.
    The offset they go on from is in the database."""
    settings = services.settings
    if not services.telegram.configured or settings.TELEGRAM_MODE != "polling":
        return []
    every = settings.JOBS_INTERVAL_SECONDS or TELEGRAM_POLLING_LEASE_SECONDS
    return [Job("telegram polling", every, services.telegram.poll)]


def server_scheduler(services: Services) -> Scheduler:
    """The jobs of `tempmail serve`, each run under its lease."""
    return Scheduler(server_jobs(services), services.job_leases)
