"""A mail's id is never handed out twice (migration 0007): it is the push API's event id, which
`Last-Event-ID` resumes from. SQLite gave a new row the id of the newest one once that was
deleted; `raw_mails` is rebuilt with AUTOINCREMENT, its rows, indexes and triggers kept."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import text

from tempmail.db.engine import Database
from tests.support import ScratchDatabase, Server, upgrade_to


def test_the_newest_mail_deleted_its_id_is_not_given_again(server: Server) -> None:
    address = server.new_address()
    server.send(address["address"], "Subject: first\r\n\r\nx\r\n")
    (first,) = server.mails(address["jwt"])["results"]
    assert server.admin("DELETE", f"/admin/mails/{first['id']}").status_code == 200
    server.send(address["address"], "Subject: second\r\n\r\nx\r\n")
    (second,) = server.mails(address["jwt"])["results"]
    assert second["id"] > first["id"]


def test_the_rebuild_keeps_every_mail_index_and_trigger(backend: str) -> None:
    scratch = ScratchDatabase(backend)
    try:
        asyncio.run(_rebuild(scratch.url, backend))
    finally:
        scratch.drop()


async def _rebuild(url: str, backend: str) -> None:
    db = Database(url)
    insert = "INSERT INTO raw_mails (address, raw, raw_blob, created_at) VALUES (:address, :raw, :blob, :at)"
    rows = [
        {
            "address": "a@test.example",
            "raw": "Subject: a\r\n\r\n1",
            "blob": None,
            "at": datetime(2026, 12, 1, 10, 0, 0),
        },
        {
            "address": "a@test.example",
            "raw": None,
            "blob": b"\x1f\x8b\x00",
            "at": datetime(2026, 12, 1, 10, 0, 1),
        },
        {
            "address": "b@test.example",
            "raw": "Subject: b\r\n\r\n3",
            "blob": None,
            "at": datetime(2026, 12, 1, 10, 0, 2),
        },
    ]
    columns = "SELECT id, address, raw, raw_blob, created_at FROM raw_mails ORDER BY id"

    async def objects(conn: Any) -> set[str]:
        found = await conn.execute(text("SELECT name FROM sqlite_master WHERE tbl_name = 'raw_mails'"))
        return {name for (name,) in found}

    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda sync: upgrade_to(sync, "0006"))
            await conn.execute(text(insert), rows)
            before = [tuple(row) for row in await conn.execute(text(columns))]
            kept = await objects(conn) if backend == "sqlite" else set()
        await db.upgrade()
        async with db.engine.begin() as conn:
            assert [tuple(row) for row in await conn.execute(text(columns))] == before
            if backend == "sqlite":
                assert kept | {"mail_deletions_logged"} <= await objects(conn)
            newest = max(row[0] for row in before)
            await conn.execute(text("DELETE FROM raw_mails WHERE id = :id"), {"id": newest})
            await conn.execute(text(insert), {**rows[0], "at": datetime(2026, 12, 1, 10, 0, 3)})
            assert await conn.scalar(text("SELECT max(id) FROM raw_mails")) == newest + 1
            counts = dict(
                tuple(row) for row in await conn.execute(text("SELECT address, mails FROM mail_counts"))
            )
            assert counts == {"a@test.example": 3}
    finally:
        await db.close()
