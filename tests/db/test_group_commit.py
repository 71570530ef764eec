"""The group commit of received mail (`tempmail.db.group_commit`, `tempmail.db.mail_inserts`):
deliveries share a transaction, each gets back its own rows' ids, and a row that fails fails
only its own delivery."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tempmail.db.engine import Database
from tempmail.db.group_commit import MAX_GROUP, DeliveryQueue
from tests.support import ScratchDatabase

REFUSED = "refused@test.example"


def _row(address: str) -> dict[str, object]:
    return {
        "message_id": f"<{address}>",
        "source": "a@remote.example",
        "address": address,
        "raw": f"To: {address}\r\n\r\nx",
        "raw_blob": None,
        "metadata": None,
    }


@pytest.fixture
def scratch(backend: str) -> Iterator[ScratchDatabase]:
    database = ScratchDatabase(backend)
    yield database
    database.drop()


@contextlib.contextmanager
def _write_turn_held(url: str) -> Iterator[None]:
    """Hold the SQLite workers' write turn (the file lock the ingest thread takes), so that
    every delivery queued meanwhile is in the one group taken when it is let go."""
    if not url.startswith("sqlite:///"):
        # PostgreSQL's committer task first runs once the deliveries queued with it are.
        yield
        return
    lock = os.open(f"{url.removeprefix('sqlite:///')}-ingest-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
    finally:
        os.close(lock)


async def _commit_together(
    url: str, deliveries: list[list[str]], refuse: str
) -> list[list[int] | BaseException]:
    db = Database(url)
    try:
        await db.upgrade()
        async with db.engine.begin() as conn:
            await conn.execute(text(refuse))
        inserts = db.mail_inserts()
        with _write_turn_held(url):
            waiting = [
                asyncio.ensure_future(inserts.insert([_row(address) for address in addresses]))
                for addresses in deliveries
            ]
            await asyncio.sleep(0.05)
        results: list[list[int] | BaseException] = await asyncio.gather(*waiting, return_exceptions=True)
        async with db.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT id, address FROM raw_mails"))).all()
        stored: dict[int, str] = {int(mail_id): address for mail_id, address in rows}
        for addresses, result in zip(deliveries, results, strict=True):
            if isinstance(result, list):
                assert [stored[mail_id] for mail_id in result] == addresses
        assert REFUSED not in stored.values()
        return results
    finally:
        await db.close()


def test_deliveries_get_their_own_ids_and_a_bad_row_fails_only_its_delivery(
    scratch: ScratchDatabase, backend: str
) -> None:
    refuse = (
        "CREATE TRIGGER refuse BEFORE INSERT ON raw_mails WHEN NEW.address = 'refused@test.example'"
        " BEGIN SELECT RAISE(ABORT, 'refused'); END"
        if backend == "sqlite"
        else "ALTER TABLE raw_mails ADD CONSTRAINT refuse CHECK (address <> 'refused@test.example')"
    )
    deliveries = [
        ["a@test.example"],
        ["b@test.example", "c@test.example"],
        [REFUSED],
        ["d@test.example", REFUSED],
        ["e@test.example"],
    ]
    results = asyncio.run(_commit_together(scratch.url, deliveries, refuse))
    assert [isinstance(result, SQLAlchemyError) for result in results] == [False, False, True, True, False]
    assert [len(result) for result in results if isinstance(result, list)] == [1, 2, 1]


def _queued(queue: DeliveryQueue, rows: int, kinds: tuple[tuple[int, str], ...] = ()) -> None:
    due = datetime(2026, 12, 7) if kinds else None
    queue.add([_row(f"{n}@test.example") for n in range(rows)], kinds, due)


def test_a_group_takes_the_oldest_deliveries_within_its_bounds() -> None:
    async def run() -> None:
        queue = DeliveryQueue(max_rows=5)
        for rows in (2, 2, 2, 1):
            _queued(queue, rows)
        first = queue.take()
        assert first is not None and [len(d.rows) for d in first.deliveries] == [2, 2]
        second = queue.take()
        assert second is not None and [len(d.rows) for d in second.deliveries] == [2, 1]
        assert queue.take() is None
        # A delivery larger than the bound goes alone, never split.
        _queued(queue, 7)
        _queued(queue, 1)
        alone = queue.take()
        assert alone is not None and [len(d.rows) for d in alone.deliveries] == [7]
        next_one = queue.take()
        assert next_one is not None and [len(d.rows) for d in next_one.deliveries] == [1]
        many = DeliveryQueue()
        for _ in range(MAX_GROUP + 1):
            _queued(many, 1)
        full = many.take()
        assert full is not None and len(full.deliveries) == MAX_GROUP

    asyncio.run(run())


def test_a_group_numbers_outbox_rows_among_all_its_rows_and_cuts_ids_back() -> None:
    async def run() -> None:
        queue = DeliveryQueue()
        _queued(queue, 2)
        _queued(queue, 3, ((1, "forward"), (2, "webhook")))
        group = queue.take()
        assert group is not None
        assert group.queued == [(3, "forward"), (4, "webhook")]
        assert group.due == datetime(2026, 12, 7)
        assert group.ids_per_delivery([10, 11, 12, 13, 14]) == [[10, 11], [12, 13, 14]]

    asyncio.run(run())


def test_after_a_shared_commit_fails_each_delivery_is_tried_alone() -> None:
    async def run() -> None:
        queue = DeliveryQueue()
        for _ in range(3):
            _queued(queue, 1)
        group = queue.take()
        assert group is not None and len(group.deliveries) == 3
        assert queue.failed(group, RuntimeError("shared")) is None
        assert not any(d.future.done() for d in group.deliveries)
        _queued(queue, 1)
        alone = [queue.take() for _ in range(3)]
        assert [g.deliveries for g in alone if g is not None] == [[d] for d in group.deliveries]
        last = queue.take()
        assert last is not None and len(last.deliveries) == 1 and not last.deliveries[0].alone
        assert alone[0] is not None
        own = queue.failed(alone[0], RuntimeError("own"))
        assert own is not None
        own.settle()
        with pytest.raises(RuntimeError, match="own"):
            group.deliveries[0].future.result()

    asyncio.run(run())
