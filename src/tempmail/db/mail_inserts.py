"""Committing received mail: SMTP answers 250 only once this returns, so its latency is every
sender's, and with a few parallel sessions it is what bounds ingest.

A group of rows (see `MailStore.insert`, the group commit) is one transaction either way:

- SQLite: stdlib `sqlite3` on a thread of its own, one hop per group: BEGIN IMMEDIATE, one
  INSERT per row (C speed; `lastrowid` gives each id), COMMIT with `synchronous=FULL`. Through
  SQLAlchemy's async engine the same group took a greenlet switch and an aiosqlite thread hop
  per step. The workers of one server (or several servers on one file) take turns on a file
  lock next to the database rather than in SQLite's busy handler, which sleeps in steps of
  milliseconds: a worker waiting for the other's commit is woken the moment it ends.
- PostgreSQL: asyncpg on a connection of its own, one statement and one round trip per group:
  an INSERT ... SELECT over `unnest` of one array per column, in autocommit mode (the statement
  is its transaction). Through SQLAlchemy's async engine the same multi-row INSERT took a
  greenlet switch per step and a statement text that grows with the group; this one is
  prepared once. Ids come from the table's sequence in the order the rows are inserted, which
  `ORDER BY` the rows' position makes the order given, so the ids sorted are the rows' ids.

Rows of the outbox (`tempmail.db.deliveries`) that some of the mails need go in the same
transaction: on SQLite one more INSERT per row inside it; on PostgreSQL a second statement of
its own would be a second round trip and an explicit transaction, so the INSERT becomes a
data-modifying CTE of one statement still (the outbox rows join the inserted ids by position).
A group that needs none (the default configuration: no forwarding, webhooks or auto-reply)
runs exactly the statements it ran before.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import bindparam, insert
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, OperationalError

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
_ROW_INSERT = insert(raw_mails).values(
    {raw_mails.c[name]: bindparam(name) for name in (*COLUMNS, "created_at")}
)


# Outbox rows to write with a group: (position of the mail among the rows, kind).
Queued = Sequence[tuple[int, str]]


class MailInserts(ABC):
    @abstractmethod
    async def insert(
        self, rows: Sequence[Mapping[str, Any]], queued: Queued = (), due: datetime | None = None
    ) -> list[int]:
        """Store the rows (COLUMNS) in one transaction, with the outbox rows `queued` (pending,
        due at `due`); the mails' ids, in the order given."""

    @abstractmethod
    async def close(self) -> None:
        """Release what the inserts hold."""


_PG_INSERT = """
INSERT INTO raw_mails (message_id, source, address, raw, raw_blob, metadata, created_at)
SELECT message_id, source, address, raw, raw_blob, metadata, $7::timestamp
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::text[])
     WITH ORDINALITY AS rows(message_id, source, address, raw, raw_blob, metadata, position)
ORDER BY position
RETURNING id
"""
# The same, with the outbox rows of some of the mails: $8 their mails' positions (1-based), $9
# their kinds, $10 when they are due.
_PG_INSERT_QUEUED = """
WITH inserted AS (
    INSERT INTO raw_mails (message_id, source, address, raw, raw_blob, metadata, created_at)
    SELECT message_id, source, address, raw, raw_blob, metadata, $7::timestamp
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::text[])
         WITH ORDINALITY AS rows(message_id, source, address, raw, raw_blob, metadata, position)
    ORDER BY position
    RETURNING id, address
), numbered AS (
    SELECT id, address, row_number() OVER (ORDER BY id) AS position FROM inserted
), queued AS (
    INSERT INTO deliveries (mail_id, kind, address, status, attempts, next_attempt_at, created_at)
    SELECT numbered.id, wanted.kind, numbered.address, 'pending', 0, $10::timestamp, $7::timestamp
    FROM numbered JOIN unnest($8::bigint[], $9::text[]) AS wanted(position, kind)
         ON wanted.position = numbered.position
)
SELECT id FROM inserted
"""
_SQLITE_QUEUE = (
    "INSERT INTO deliveries (mail_id, kind, address, status, attempts, next_attempt_at, created_at)"
    " VALUES (?, ?, ?, 'pending', 0, ?, ?)"
)
# Errors after which the group is tried once more on a new connection (the server restarted,
# or dropped the connection while it was idle).
_PG_CONNECTION_LOST = (
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.InterfaceError,
    ConnectionError,
)


class PostgresInserts(MailInserts):
    """asyncpg, on one connection: `MailStore` commits one group at a time."""

    def __init__(self, url: str) -> None:
        self.dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._conn: asyncpg.Connection | None = None

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(self.dsn)
        return self._conn

    async def _insert(
        self, rows: Sequence[Mapping[str, Any]], queued: Queued, due: datetime | None
    ) -> list[int]:
        conn = await self._connection()
        columns = [[row[name] for row in rows] for name in COLUMNS]
        if queued:
            positions = [position + 1 for position, _ in queued]
            kinds = [kind for _, kind in queued]
            records = await conn.fetch(
                _PG_INSERT_QUEUED, *columns, utcnow(), positions, kinds, due or utcnow()
            )
        else:
            records = await conn.fetch(_PG_INSERT, *columns, utcnow())
        return sorted(int(record[0]) for record in records)

    async def insert(
        self, rows: Sequence[Mapping[str, Any]], queued: Queued = (), due: datetime | None = None
    ) -> list[int]:
        try:
            try:
                return await self._insert(rows, queued, due)
            except _PG_CONNECTION_LOST:
                await self._drop()
                return await self._insert(rows, queued, due)
        except (asyncpg.PostgresError, *_PG_CONNECTION_LOST) as exc:
            # As the engine would raise it, so callers handle one kind of database error.
            raise DBAPIError(_PG_INSERT, None, exc) from exc

    async def _drop(self) -> None:
        if self._conn is not None:
            self._conn.terminate()
            self._conn = None

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None


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

    def _insert(self, rows: Sequence[Mapping[str, Any]], queued: Queued, due: datetime | None) -> list[int]:
        conn = self._open()
        created_at = utcnow().strftime(TIMESTAMP_FORMAT)
        due_at = (due or utcnow()).strftime(TIMESTAMP_FORMAT)
        values = [self._insert_row.arguments({**row, "created_at": created_at}) for row in rows]
        assert self._lock_fd is not None
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                ids = [int(conn.execute(self._insert_row.sql, row).lastrowid or 0) for row in values]
                for position, kind in queued:
                    conn.execute(
                        _SQLITE_QUEUE, (ids[position], kind, rows[position]["address"], due_at, created_at)
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        return ids

    async def insert(
        self, rows: Sequence[Mapping[str, Any]], queued: Queued = (), due: datetime | None = None
    ) -> list[int]:
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._thread, self._insert, rows, queued, due
            )
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
