"""What was stored and deleted, anywhere: the push API's source (migration 0007).

A client of `GET /api/events` may be connected to any worker of any node, while its mail
arrives over SMTP at another, or is deleted through a third (or by the clean-up job, or the
admin's own SQL). Each process runs one feed, which hands `MailChange`s, in commit order, to
the one handler the push service gives it:

- PostgreSQL: a connection of its own LISTENs to the channels the triggers of 0007 notify
  (`[[id, address], ...]` per statement, delivered on commit). A dropped connection is opened
  again with a growing pause; what was stored meanwhile is caught up by reading the mails
  after the last id heard (with a margin: ids are drawn before commit, so concurrent
  transactions of two nodes commit out of id order). Deletions meanwhile are not replayed.
- SQLite (the workers of one server on one file): one writer at a time, so ids grow in commit
  order and a feed tails `raw_mails` by id, and `mail_deletions` by seq. It looks every
  POLL_SECONDS, and reads only when `PRAGMA data_version` says another connection (any worker's
  commit of received mail, a delete, the clean-up) wrote the file since: a memory read of the
  WAL index otherwise. It runs only while the process has listeners (`listening`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

ADDED_CHANNEL = "tempmail_mail_added"
DELETED_CHANNEL = "tempmail_mail_deleted"
# How the PostgreSQL feed's connection shows in pg_stat_activity.
APPLICATION_NAME = "tempmail mail feed"
# SQLite: how often a feed with listeners looks for other workers' writes (a memory read of the
# WAL index when nothing changed).
POLL_SECONDS = 0.03
# Rows one look reads at most; a larger burst is read over several looks, in order.
TAIL_ROWS = 1000
# PostgreSQL: ids below the last one heard that a catch-up reads again (concurrent commits).
CATCH_UP_MARGIN = 1000
# Ids a PostgreSQL feed remembers having passed on, so a catch-up never repeats one.
REMEMBERED_IDS = 20_000
RECONNECT_PAUSES = (0.1, 0.5, 1.0, 2.0, 5.0)
# How long a deletion stays in SQLite's log (the hourly upkeep prunes older ones): far longer
# than any feed takes to read it.
DELETIONS_KEPT_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class MailChange:
    """A mail committed (`deleted` False) or deleted, by id and the address it was for."""

    id: int
    address: str | None
    deleted: bool = False


ChangeHandler = Callable[[list[MailChange]], None]


class MailFeed(ABC):
    """Hands every committed change to `handler` (see the module's docstring)."""

    def __init__(self) -> None:
        self.handler: ChangeHandler | None = None

    @abstractmethod
    async def start(self, handler: ChangeHandler) -> None:
        """Begin; a change committed after this returns reaches `handler`."""

    @abstractmethod
    def listening(self, active: bool) -> None:
        """Whether the process has listeners now; a feed may rest while it has none, and a
        change committed after `listening(True)` returns still reaches the handler."""

    @abstractmethod
    async def close(self) -> None: ...

    def _emit(self, changes: list[MailChange]) -> None:
        if changes and self.handler is not None:
            self.handler(changes)


class SqliteFeed(MailFeed):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._active = False
        self._last_id = 0
        self._last_seq = 0
        self._version = -1
        self._task: asyncio.Task[None] | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA query_only=ON")
        return self._conn

    async def start(self, handler: ChangeHandler) -> None:
        self.handler = handler

    def listening(self, active: bool) -> None:
        if active and not self._active:
            # From now on: the changes before are the listeners' catch-up, not the feed's.
            conn = self._connection()
            (self._last_id,) = conn.execute("SELECT coalesce(max(id), 0) FROM raw_mails").fetchone()
            (self._last_seq,) = conn.execute("SELECT coalesce(max(seq), 0) FROM mail_deletions").fetchone()
            self._version = -1
            if self._task is None or self._task.done():
                self._task = asyncio.get_running_loop().create_task(self._poll(), name="mail feed")
        self._active = active

    async def _poll(self) -> None:
        while self._active:
            await asyncio.sleep(POLL_SECONDS)
            try:
                self._look()
            except sqlite3.Error:
                log.exception("reading the mail feed failed; trying again")

    def _look(self) -> None:
        """Everything committed since the last look, in order (bounded index walks: run on the
        loop's thread, like the hot reads)."""
        conn = self._connection()
        # Changes whenever another connection commits to the file, this process's commit of
        # received mail included (its own connection): unchanged, there is nothing to read.
        version = int(conn.execute("PRAGMA data_version").fetchone()[0])
        if version == self._version:
            return
        self._version = version
        while True:
            added = conn.execute(
                "SELECT id, address FROM raw_mails WHERE id > ? ORDER BY id LIMIT ?",
                (self._last_id, TAIL_ROWS),
            ).fetchall()
            removed = conn.execute(
                "SELECT seq, mail_id, address FROM mail_deletions WHERE seq > ? ORDER BY seq LIMIT ?",
                (self._last_seq, TAIL_ROWS),
            ).fetchall()
            if added:
                self._last_id = int(added[-1][0])
            if removed:
                self._last_seq = int(removed[-1][0])
            changes = [MailChange(int(row[0]), row[1]) for row in added]
            changes += [MailChange(int(row[1]), row[2], deleted=True) for row in removed]
            self._emit(changes)
            if len(added) < TAIL_ROWS and len(removed) < TAIL_ROWS:
                return

    async def close(self) -> None:
        self._active = False
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _changes(payload: str, deleted: bool) -> list[MailChange]:
    try:
        rows = json.loads(payload)
        return [MailChange(int(row[0]), row[1], deleted) for row in rows]
    except (ValueError, TypeError, IndexError):
        log.warning("unreadable mail notification %.80r", payload)
        return []


class PostgresFeed(MailFeed):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self._floor = 0
        self._last_id = 0
        self._passed: deque[int] = deque(maxlen=REMEMBERED_IDS)
        self._passed_set: set[int] = set()

    async def start(self, handler: ChangeHandler) -> None:
        """Listening from the start (a notification costs a listener next to nothing), so a
        new listener never waits for a connection."""
        self.handler = handler
        await self._connect()
        assert self._conn is not None
        # Mails stored before the start are no one's news: a catch-up never reaches below.
        self._floor = self._last_id = int(
            await self._conn.fetchval("SELECT coalesce(max(id), 0) FROM raw_mails")
        )
        self._task = asyncio.get_running_loop().create_task(self._keep(), name="mail feed")

    def listening(self, active: bool) -> None:
        """Always listening (see `start`)."""

    async def _connect(self) -> None:
        conn = await asyncpg.connect(self.dsn, server_settings={"application_name": APPLICATION_NAME})
        await conn.add_listener(ADDED_CHANNEL, self._heard)
        await conn.add_listener(DELETED_CHANNEL, self._heard)
        conn.add_termination_listener(lambda _conn: self._lost.set())
        self._conn = conn

    def _heard(self, _conn: Any, _pid: int, channel: str, payload: str) -> None:
        self._pass_on(_changes(payload, deleted=channel == DELETED_CHANNEL))

    def _pass_on(self, changes: Sequence[MailChange]) -> None:
        fresh = []
        for change in changes:
            if not change.deleted:
                if change.id in self._passed_set:
                    continue
                if len(self._passed) == self._passed.maxlen:
                    self._passed_set.discard(self._passed[0])
                self._passed.append(change.id)
                self._passed_set.add(change.id)
                self._last_id = max(self._last_id, change.id)
            fresh.append(change)
        self._emit(fresh)

    async def _keep(self) -> None:
        """Open the connection again whenever it drops, then catch up."""
        while True:
            await self._lost.wait()
            self._lost.clear()
            log.warning("the mail feed's PostgreSQL connection dropped; opening it again")
            for attempt in range(1_000_000):
                await asyncio.sleep(RECONNECT_PAUSES[min(attempt, len(RECONNECT_PAUSES) - 1)])
                try:
                    await self._connect()
                    await self._catch_up()
                    break
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("the mail feed cannot reach PostgreSQL yet: %s", exc)

    async def _catch_up(self) -> None:
        assert self._conn is not None
        since = max(self._floor, self._last_id - CATCH_UP_MARGIN)
        while True:
            rows = await self._conn.fetch(
                "SELECT id, address FROM raw_mails WHERE id > $1 ORDER BY id LIMIT $2", since, TAIL_ROWS
            )
            self._pass_on([MailChange(int(row[0]), row[1]) for row in rows])
            if len(rows) < TAIL_ROWS:
                return
            since = int(rows[-1][0])

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None
