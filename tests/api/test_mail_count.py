"""The count on the first page of every mail (`/admin/mails`) follows every way mail comes and
goes: received, deleted one by one, an inbox cleared, an address deleted with its mail. On
PostgreSQL it is kept by triggers (migration 0005), also for rows stored before the migration."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from alembic import command
from sqlalchemy import Connection, text

from tempmail.db.engine import Database, _alembic_config
from tests.support import ScratchDatabase, Server


def total(server: Server) -> int:
    response = server.admin("GET", "/admin/mails?limit=1&offset=0")
    assert response.status_code == 200, response.text
    return int(response.json()["count"])


def test_the_count_of_every_mail_follows_every_change(fresh_server: Callable[[], Server]) -> None:
    server = fresh_server()
    keep, drop = server.new_address(), server.new_address()
    for box, mails in ((keep, 3), (drop, 2)):
        for n in range(mails):
            server.send(box["address"], f"Subject: {n}\r\n\r\nbody {n}\r\n")
    server.send("nobody@test.example", "Subject: unknown\r\n\r\nfor no address\r\n")
    assert total(server) == 6
    first = server.mails(keep["jwt"])["results"][0]["id"]
    assert server.admin("DELETE", f"/admin/mails/{first}").status_code == 200
    assert total(server) == 5
    assert server.with_jwt("DELETE", "/api/clear_inbox", keep["jwt"]).status_code == 200
    assert total(server) == 3
    assert server.with_jwt("DELETE", "/api/delete_address", drop["jwt"]).status_code == 200
    assert total(server) == 1


@pytest.mark.backends("postgresql")
def test_the_migration_counts_what_was_stored_before_it(backend: str) -> None:
    scratch = ScratchDatabase(backend)
    try:
        asyncio.run(_migrate_with_mails_in_between(scratch.url))
    finally:
        scratch.drop()


async def _migrate_with_mails_in_between(url: str) -> None:
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda sync: _upgrade_to(sync, "0004"))
            await conn.execute(
                text(
                    "INSERT INTO raw_mails (address, raw, created_at) SELECT 'a@test.example', 'x', now()"
                    " FROM generate_series(1, 7)"
                )
            )
        await db.upgrade()
        async with db.engine.begin() as conn:
            assert await conn.scalar(text("SELECT mails FROM raw_mails_count")) == 7
            await conn.execute(text("DELETE FROM raw_mails WHERE id <= 2"))
            await conn.execute(
                text("INSERT INTO raw_mails (address, raw, created_at) VALUES ('b', 'y', now())")
            )
            assert await conn.scalar(text("SELECT mails FROM raw_mails_count")) == 6
            await conn.execute(text("TRUNCATE raw_mails"))
            assert await conn.scalar(text("SELECT mails FROM raw_mails_count")) == 0
    finally:
        await db.close()


def _upgrade_to(connection: Connection, revision: str) -> None:
    config = _alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
