"""Committing received mail: SMTP answers 250 only once this returns, so its latency is every
sender's, and with a few parallel sessions it is what bounds ingest.

A group of rows (see `MailStore.insert`, the group commit) is one transaction either way:

- SQLite: stdlib `sqlite3` on a thread of its own, one hop per group: BEGIN IMMEDIATE, one
  INSERT per row (C speed; `lastrowid` gives each id), COMMIT with `synchronous=FULL`. Through
  SQLAlchemy's async engine the same group took a greenlet switch and an aiosqlite thread hop
  per step. The workers of one server (or several servers on one file) take turns on a file
  lock next to the database rather than in SQLite's busy handler, which sleeps in steps of
  milliseconds: a worker waiting for the other's commit is woken the moment it ends.
- PostgreSQL: SQLAlchemy's multi-row INSERT ... RETURNING on the async engine in autocommit
  mode, one statement and one round trip per group (ids in the order of the rows given).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import bindparam, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from tempmail.db.reads import compile_for
from tempmail.db.sqlite_setup import make_durable
from tempmail.db.tables import TIMESTAMP_FORMAT, raw_mails, utcnow

# The columns a received mail is stored with (created_at is set here, as the table's default
# would: the direct path runs past SQLAlchemy's defaults).
COLUMNS = ("message_id", "source", "address", "raw", "raw_blob", "metadata")
# Pages the WAL may grow by before a commit of received mail folds it back into the database
# file (SQLite's default is 1 000: 4 MB, a few hundred mails). Folding copies every page once
# more and syncs the file; at 64 MB a burst of thousands of mails is taken first and folded
# after, while the WAL stays bounded (the hourly upkeep truncates it).
WAL_CHECKPOINT_PAGES = 16_384
_RETURNING_INSERT = insert(raw_mails).returning(raw_mails.c.id, sort_by_parameter_order=True)
_ROW_INSERT = insert(raw_mails).values(
    {raw_mails.c[name]: bindparam(name) for name in (*COLUMNS, "created_at")}
)


class MailInserts(ABC):
    @abstractmethod
    async def insert(self, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """Store the rows (COLUMNS) in one transaction; their ids, in the order given."""

    @abstractmethod
    async def close(self) -> None:
        """Release what the inserts hold."""


class EngineInserts(MailInserts):
    """Through the async engine; it must be in autocommit mode (see `Database.ingest_engine`)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def insert(self, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        async with self.engine.connect() as conn:
            return [int(row.id) for row in await conn.execute(_RETURNING_INSERT, list(rows))]

    async def close(self) -> None:
        """Nothing: the engine is the Database's."""


class SqliteInserts(MailInserts):
    def __init__(self, path: str, dialect: Dialect) -> None:
        self.path = path
        self._insert_row = compile_for(_ROW_INSERT, dialect)
        # One thread: its connection is used by it alone, and commits are serial anyway.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-ingest")
        self._conn: sqlite3.Connection | None = None
        self._lock_fd: int | None = None

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            make_durable(conn)
            conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            self._lock_fd = os.open(f"{self.path}-ingest-lock", os.O_RDWR | os.O_CREAT, 0o600)
            self._conn = conn
        return self._conn

    def _insert(self, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        conn = self._open()
        created_at = utcnow().strftime(TIMESTAMP_FORMAT)
        values = [self._insert_row.arguments({**row, "created_at": created_at}) for row in rows]
        assert self._lock_fd is not None
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                ids = [int(conn.execute(self._insert_row.sql, row).lastrowid or 0) for row in values]
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        return ids

    async def insert(self, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, self._insert, rows)
        except sqlite3.Error as exc:
            # As the engine would raise it, so callers handle one kind of database error.
            raise OperationalError(self._insert_row.sql, None, exc) from exc

    async def close(self) -> None:
        self._thread.shutdown(wait=True)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
