"""The search index (migration 0010) on both back ends: a search goes through its indexes
(EXPLAIN), the indexer fills it by id, a deleted mail leaves it, and the migration goes down
and up again."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from sqlalchemy import TextClause, text

from tempmail.db.engine import Database, _alembic_config
from tempmail.db.mail_search import (
    LIKE_IDS,
    MailSearchStore,
    like_pattern,
)
from tempmail.db.mails import MailStore
from tempmail.inbound.ingest_meter import IngestMeter
from tempmail.inbound.search import MailSearch
from tests.support import ScratchDatabase

INSERT = (
    "INSERT INTO raw_mails (address, source, raw, created_at)"
    " VALUES (:address, :source, :raw, CURRENT_TIMESTAMP)"
)
# A row no mail reader would write, which must not stop the indexer.
ODD_ROW = "INSERT INTO raw_mails (raw, created_at) VALUES ('not a mail', CURRENT_TIMESTAMP)"
BUSY = "busy@test.example"
# Rows enough for an index to pay on PostgreSQL, all of the busy address (so that only the text
# is selective); they name no mail, so no search shows them.
MORE_ROWS = (
    "INSERT INTO mail_search SELECT n, 'busy@test.example', 'update number ' || n"
    " FROM generate_series(100000, 160000) AS n"
)


def raw(n: int) -> str:
    subject = "The needle in the haystack" if n == 777 else f"Update number {n}"
    return f"From: Shop <shop@remote.example>\r\nSubject: {subject}\r\n\r\nHello, here is update {n}.\r\n"


async def plan(db: Database, statement: Any, params: dict[str, Any]) -> str:
    """The back end's plan of `statement`, one string."""
    driver_params: Any = ()
    if isinstance(statement, TextClause):
        sql, driver_params = statement.text, params  # sqlite3 takes named parameters itself
    else:
        literal = {"literal_binds": True}
        sql = str(statement.params(**params).compile(dialect=db.engine.dialect, compile_kwargs=literal))
    async with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            rows = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, driver_params)
            return "\n".join(str(row[-1]) for row in rows)
        await conn.execute(text("ANALYZE mail_search"))
        rows = await conn.exec_driver_sql("EXPLAIN " + sql)
        return "\n".join(str(row[0]) for row in rows)


async def _index_and_explain(url: str) -> None:
    db = Database(url)
    try:
        await db.upgrade()
        rows = [{"address": BUSY, "source": "shop@remote.example", "raw": raw(n)} for n in range(1500)]
        async with db.engine.begin() as conn:
            await conn.execute(text(INSERT), rows)
            await conn.execute(text(ODD_ROW))
        store = MailSearchStore(db.engine)
        search = MailSearch(
            store, MailStore(db.engine, db.mail_inserts(), await db.open_reads(), False), IngestMeter()
        )
        # Before the indexer ran, the search scans the address's mail itself.
        before = await search.search(BUSY, "NEEDLE", 10, 0)
        assert [row.id for row in before.results] == [778] and before.count == 1
        while await store.pending(await store.indexed_through(), 1):
            await search.index_pending()
        assert await store.indexed_through() == (1501 if db.dialect == "sqlite" else 501)
        after = await search.search(BUSY, "needle", 10, 0)
        assert [row.id for row in after.results] == [778] and after.count == 1
        assert (await search.search(BUSY, "update", 5, 0)).count == 1500

        params = {"owner": BUSY, "limit": 10}
        if db.dialect == "sqlite":
            found = await plan(db, LIKE_IDS, {**params, "pattern": like_pattern("needle")})
            assert "USING INDEX idx_mail_search_address" in found, found
        else:
            # At a few thousand rows a scan is cheaper, and PostgreSQL rightly scans.
            async with db.engine.begin() as conn:
                await conn.execute(text(MORE_ROWS))
            found = await plan(db, LIKE_IDS, {**params, "pattern": like_pattern("needle")})
            assert "idx_mail_search_body" in found and "Seq Scan on mail_search" not in found, found

        # A deleted mail leaves the index, whatever deletes it.
        async with db.engine.begin() as conn:
            await conn.execute(text("DELETE FROM raw_mails WHERE id = 778"))
            assert (
                await conn.execute(text("SELECT count(*) FROM mail_search WHERE mail_id = 778"))
            ).scalar() == 0
        assert (await search.search(BUSY, "needle", 10, 0)).count == 0

        # Down to 0009 and up again.
        async with db.engine.begin() as conn:
            await conn.run_sync(_downgrade_to_0009)
            tables = "SELECT count(*) FROM mail_search"
            failed = await conn.run_sync(lambda sync: _fails(sync, tables))
            assert failed
        await db.upgrade()
        assert await store.indexed_through() == 0
    finally:
        await db.close()


def _downgrade_to_0009(connection: Any) -> None:
    config = _alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "0009")


def _fails(connection: Any, statement: str) -> bool:
    nested = connection.begin_nested()
    try:
        connection.execute(text(statement))
    except Exception:
        nested.rollback()
        return True
    nested.rollback()
    return False


def test_search_uses_its_index_and_follows_deletes(backend: str) -> None:
    scratch = ScratchDatabase(backend)
    try:
        asyncio.run(_index_and_explain(scratch.url))
    finally:
        scratch.drop()
