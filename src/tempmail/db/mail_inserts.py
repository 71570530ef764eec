"""Committing received mail: SMTP answers 250 only once this returns, so its latency is every
sender's, and with a few parallel sessions it is what bounds ingest.

Deliveries are committed by group (`tempmail.db.group_commit`); a group is one transaction
either way:

- SQLite: stdlib `sqlite3` on a thread of its own: one multi-row INSERT in autocommit mode,
  its own transaction, committed with `synchronous=FULL` (the ids are the consecutive ones up
  to `lastrowid`). It is one call into SQLite: every call releases the GIL and takes it back,
  and with the event loop busy each taking back waits for the loop to let go (up to the
  interpreter's 5 ms switch interval), all with the write turn held; a thread taking the GIL
  back after each of BEGIN, one INSERT per row and COMMIT held it 3-4 times as long (21.6 ms
  against 5.8 for a group of two, beside a thread that never lets go). Through SQLAlchemy's
  async engine a group took a greenlet switch and an aiosqlite thread hop per step. The
  workers of one server (or several servers on one file) take turns on a file lock next to the
  database rather than in SQLite's busy handler, which sleeps in steps of milliseconds: a
  worker waiting for the other's commit is woken the moment it ends. The thread takes its group
  only once it holds that lock, so every delivery that arrived during the wait is in it (with
  the group taken before the wait, those waited for the next turn: 1.8 mails a commit in a
  burst of 8 sessions on two workers, 2.1-2.4 now).
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
import contextlib
import fcntl
import functools
import os
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from tempmail.db.group_commit import MAX_ROWS, DeliveryQueue, Group, Outcome, Queued
from tempmail.db.sqlite_setup import make_durable
from tempmail.db.tables import TIMESTAMP_FORMAT, utcnow

# The columns a received mail is stored with (created_at is set here, as the table's default
# would: the direct path runs past SQLAlchemy's defaults).
COLUMNS = ("message_id", "source", "address", "raw", "raw_blob", "metadata")
# Pages the WAL may grow by before a commit of received mail folds it back into the database
# file (SQLite's default is 1 000: 4 MB, a few hundred mails). Folding copies every page once
# more and syncs the file; at 64 MB a burst of thousands of mails is taken first and folded
# after, while the WAL stays bounded (the hourly upkeep truncates it).
WAL_CHECKPOINT_PAGES = 16_384


@functools.lru_cache(maxsize=64)
def _sqlite_insert(rows: int) -> str:
    """The INSERT of `rows` received mails (COLUMNS and created_at), one statement."""
    row = f"({', '.join('?' * (len(COLUMNS) + 1))})"
    return f"INSERT INTO raw_mails ({', '.join(COLUMNS)}, created_at) VALUES {', '.join([row] * rows)}"


def _ids_ending_at(last: int, rows: int) -> list[int]:
    """The ids of the rows of one INSERT, the last of which is `last`: SQLite numbers the rows
    of a statement one after the other (the write lock held, nothing else inserts between), so
    they are the `rows` ids up to it."""
    return list(range(last - rows + 1, last + 1))


class MailInserts(ABC):
    """Where received mail is committed, by group (`tempmail.db.group_commit`)."""

    def __init__(self, max_rows: int = MAX_ROWS) -> None:
        self._queue = DeliveryQueue(max_rows)

    async def insert(
        self, rows: Sequence[Mapping[str, Any]], queued: Queued = (), due: datetime | None = None
    ) -> list[int]:
        """Store one delivery's rows (COLUMNS), with the outbox rows `queued` (pending, due at
        `due`), in the transaction of the group it joins; the rows' ids, in the order given,
        once that transaction is committed."""
        future = self._queue.add(rows, queued, due)
        self._commit_soon()
        # Shielded: a client hanging up must not cancel a commit others share.
        return await asyncio.shield(future)

    @abstractmethod
    def _commit_soon(self) -> None:
        """Make sure the queue is being committed (called on the event loop)."""

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
    """asyncpg, on one connection: a task on the event loop commits one group at a time, taking
    the next as soon as the connection is free."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._conn: asyncpg.Connection | None = None
        self._committer: asyncio.Task[None] | None = None

    def _commit_soon(self) -> None:
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_queue())

    async def _commit_queue(self) -> None:
        while (group := self._queue.take()) is not None:
            try:
                ids = await self._insert_reconnecting(group)
            except Exception as exc:
                outcome: Outcome | None = self._queue.failed(group, exc)
            else:
                outcome = Outcome(group, ids)
            if outcome is not None:
                outcome.settle()

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(self.dsn)
        return self._conn

    async def _insert(self, group: Group) -> list[int]:
        conn = await self._connection()
        columns = [[row[name] for row in group.rows] for name in COLUMNS]
        if group.queued:
            positions = [position + 1 for position, _ in group.queued]
            kinds = [kind for _, kind in group.queued]
            records = await conn.fetch(
                _PG_INSERT_QUEUED, *columns, utcnow(), positions, kinds, group.due or utcnow()
            )
        else:
            records = await conn.fetch(_PG_INSERT, *columns, utcnow())
        return sorted(int(record[0]) for record in records)

    async def _insert_reconnecting(self, group: Group) -> list[int]:
        try:
            try:
                return await self._insert(group)
            except _PG_CONNECTION_LOST:
                await self._drop()
                return await self._insert(group)
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
    """stdlib `sqlite3` on a thread of its own, which commits groups until none waits, taking
    each once it holds the workers' write turn."""

    def __init__(self, path: str) -> None:
        # A group is one statement, of seven parameters a row: SQLite before 3.32 takes 999.
        with contextlib.closing(sqlite3.connect(":memory:")) as probe:
            parameters = probe.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        super().__init__(min(MAX_ROWS, parameters // (len(COLUMNS) + 1)))
        self.path = path
        # One thread: its connection is used by it alone, and commits are serial anyway.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-ingest")
        self._conn: sqlite3.Connection | None = None
        self._lock_fd: int | None = None

    def _commit_soon(self) -> None:
        # Once per delivery: a call that finds the queue emptied by an earlier one returns at
        # once, and none can miss a delivery (each is queued before its call is).
        self._thread.submit(self._commit_queue, asyncio.get_running_loop())

    def _commit_queue(self, loop: asyncio.AbstractEventLoop) -> None:
        while self._queue:
            outcome = self._commit_next()
            if outcome is not None:
                loop.call_soon_threadsafe(outcome.settle)

    def _open(self) -> tuple[sqlite3.Connection, int]:
        if self._conn is None or self._lock_fd is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            make_durable(conn)
            conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            self._lock_fd = os.open(f"{self.path}-ingest-lock", os.O_RDWR | os.O_CREAT, 0o600)
            self._conn = conn
        return self._conn, self._lock_fd

    def _commit_next(self) -> Outcome | None:
        """The oldest waiting deliveries in one transaction, taken once the write turn is ours."""
        try:
            conn, lock_fd = self._open()
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
        except (OSError, sqlite3.Error) as exc:
            group = self._queue.take()
            return None if group is None else self._queue.failed(group, self._engine_error(exc))
        try:
            group = self._queue.take()
            if group is None:
                return None
            try:
                return Outcome(group, self._insert(conn, group))
            except Exception as exc:
                return self._queue.failed(group, self._engine_error(exc))
        finally:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)

    def _insert(self, conn: sqlite3.Connection, group: Group) -> list[int]:
        created_at = utcnow().strftime(TIMESTAMP_FORMAT)
        values = [value for row in group.rows for value in (*(row[name] for name in COLUMNS), created_at)]
        rows = _sqlite_insert(len(group.rows))
        if not group.queued:
            # One statement in autocommit mode is its own transaction: one call into SQLite for
            # the whole group, commit and fsync included. Every call is a release and a
            # re-acquisition of the GIL, and while the event loop is busy each re-acquisition
            # waits, with the workers' write turn held.
            last = conn.execute(rows, values).lastrowid or 0
            return _ids_ending_at(last, len(group.rows))
        due_at = (group.due or utcnow()).strftime(TIMESTAMP_FORMAT)
        conn.execute("BEGIN IMMEDIATE")
        try:
            ids = _ids_ending_at(conn.execute(rows, values).lastrowid or 0, len(group.rows))
            conn.executemany(
                _SQLITE_QUEUE,
                [
                    (ids[position], kind, group.rows[position]["address"], due_at, created_at)
                    for position, kind in group.queued
                ],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return ids

    def _engine_error(self, exc: Exception) -> Exception:
        """As the engine would raise it, so callers handle one kind of database error."""
        if isinstance(exc, sqlite3.Error):
            return OperationalError(_sqlite_insert(1), None, exc)
        return exc

    async def close(self) -> None:
        self._thread.shutdown(wait=True)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
