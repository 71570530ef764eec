"""The scheduled auto-cleanup, run as the hourly job runs it, against a real database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tempmail.config import load_settings
from tempmail.jobs import Scheduler, server_jobs
from tempmail.services import Services
from tests.support import ScratchDatabase, run_async


@pytest.fixture
def database(backend: str) -> Iterator[ScratchDatabase]:
    db = ScratchDatabase(backend)
    yield db
    db.drop()


async def _scheduled_cleanup(url: str) -> tuple[list[str], list[str]]:
    services = await Services.start(load_settings(DATABASE_URL=url, DOMAINS=["test.example"]))
    try:
        await services.mailbox.seed("old@test.example", b"Subject: old\r\n\r\nx", "a@remote.example", None)
        await services.mailbox.seed(
            "spam@test.example", b"Subject: spam\r\n\r\nx", "spammer@remote.example", None
        )
        await asyncio.sleep(1.1)
        await services.mailbox.seed("new@test.example", b"Subject: new\r\n\r\nx", "a@remote.example", None)
        await services.cleanup.save_settings(
            {
                "enableUnknowMailsAutoCleanup": True,
                "cleanUnknowMailsDays": 1,
                "customSqlCleanupList": [
                    {
                        "id": 1,
                        "name": "spam",
                        "sql": "DELETE FROM raw_mails WHERE source LIKE 'spam%'",
                        "enabled": True,
                    },
                    {"id": 2, "name": "off", "sql": "DELETE FROM raw_mails", "enabled": False},
                ],
            }
        )
        (job,) = [job for job in server_jobs(services) if job.name == "auto cleanup"]
        await job.run()
        page = await services.mailbox.page(10, 0)
        after_rules = [row.address for row in page.results]

        await services.cleanup.save_settings({"enableMailsAutoCleanup": True, "cleanMailsDays": 0})
        await asyncio.sleep(1.1)  # `0 days` deletes what is older than this second
        scheduler = Scheduler([job.__class__(job.name, 0.01, job.run)])
        scheduler.start()
        await asyncio.sleep(0.3)
        await scheduler.stop()
        page = await services.mailbox.page(10, 0)
        return after_rules, [row.address for row in page.results]
    finally:
        await services.close()


def test_hourly_job_runs_enabled_rules_only(database: ScratchDatabase) -> None:
    after_rules, after_scheduler = run_async(_scheduled_cleanup(database.url))
    assert after_rules == ["new@test.example", "old@test.example"], "only the enabled custom rule ran"
    assert after_scheduler == [], "the scheduler ran the job on its interval"
