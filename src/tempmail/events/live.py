"""New mail pushed live: what the event streams (`GET /api/events`, `/user_api/events`,
`/admin/events`) and the long poll (`GET /api/mails?wait=N`) are made of.

Everyone who uses a throw-away inbox is waiting for one mail. Each process has one `LiveMail`:
the database's feed (`tempmail.db.mail_feed`) tells it of every mail committed or deleted by
any worker of any node, and it hands an event to each listener whose scope (one address, a
user's bound addresses, or every address for the admin) holds the mail's address. A mail's
event says who sent it, its subject and the code found in it (no body): the row is read back
and looked at only when some listener here wants it, so a process with no listeners pays for
nothing but the feed's notice.

A listener whose queue fills (a client that stopped reading) is ended; it reconnects with
`Last-Event-ID`, and `missed` gives it what came since from the database, so a slow client
loses nothing but its place in the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from tempmail.db.mail_feed import MailChange, MailFeed
from tempmail.db.mails import MailRow, MailStore, raw_bytes
from tempmail.db.paging import Page
from tempmail.events.extraction import ExtractionService
from tempmail.inbound.metadata import Result, stored_result
from tempmail.inbound.pipeline import header_of

log = logging.getLogger(__name__)


# Events a listener may have waiting before it is ended (see the module's docstring).
QUEUE_LIMIT = 1000
# Mails a resuming stream reads from the database at a time (page after page until none is left).
CATCH_UP_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class MailEvent:
    """One event of a stream: `mail` (with the mail's id as the event id, so `Last-Event-ID`
    resumes from it) or `deleted` (no event id: a resumed stream replays mails, not deletions)."""

    kind: str
    id: int
    address: str | None
    data: dict[str, Any]


class Listener:
    """A stream's or a long poll's place: the addresses it wants (None: every address) and the
    events waiting for it.

    A process holds thousands of these (one per open stream), so it is a deque and at most one
    future, not an asyncio.Queue (three deques, an Event, and their bookkeeping)."""

    __slots__ = ("_events", "_waiter", "addresses")

    def __init__(self, addresses: frozenset[str] | None) -> None:
        self.addresses = addresses
        self._events: deque[MailEvent | None] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def offer(self, event: MailEvent) -> bool:
        """Queue the event; False when QUEUE_LIMIT are waiting already."""
        if len(self._events) >= QUEUE_LIMIT:
            return False
        self._put(event)
        return True

    def close(self) -> None:
        """Queue the end (None), in place of the last event if the queue is full: what reads
        it stops at once, as it must for a stream that fell behind."""
        if len(self._events) >= QUEUE_LIMIT:
            self._events.pop()
        self._put(None)

    def _put(self, item: MailEvent | None) -> None:
        self._events.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def next(self, seconds: float) -> MailEvent | None:
        """The next event (None: the end), waiting at most `seconds` (then TimeoutError)."""
        if not self._events:
            loop = asyncio.get_running_loop()
            self._waiter = waiter = loop.create_future()
            timer = loop.call_later(seconds, _wake, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
            if not self._events:
                raise TimeoutError
        return self._events.popleft()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def mail_event(row: MailRow, found: Result | None) -> MailEvent:
    """A stored mail's event: who sent it, its subject and the code (or link) found in it."""
    data = {
        "id": row.id,
        "address": row.address,
        "source": row.source,
        "subject": header_of(raw_bytes(row), "Subject"),
        "created_at": row.created_at,
        "code": found["result"] if found is not None and found["type"] == "auth_code" else None,
        "extract": found,
    }
    return MailEvent("mail", row.id, row.address, data)


def deleted_event(change: MailChange) -> MailEvent:
    return MailEvent("deleted", change.id, change.address, {"id": change.id, "address": change.address})


class LiveMail:
    def __init__(self, feed: MailFeed, mails: MailStore, extraction: ExtractionService) -> None:
        self.feed = feed
        self.mails = mails
        self.extraction = extraction
        self._listeners: set[Listener] = set()
        # The same listeners by the address they want, and those that want every address: a
        # burst of mail meets thousands of open streams, each wanting one address.
        self._by_address: dict[str, set[Listener]] = {}
        self._everyone: set[Listener] = set()
        # Changes in commit order, turned into events one batch after another, so that a
        # mail's event never comes after its deletion's.
        self._changes: asyncio.Queue[list[MailChange]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.feed.start(self._changes.put_nowait)
        self._task = asyncio.get_running_loop().create_task(self._dispatch(), name="live mail")

    def listen(self, addresses: Iterable[str] | None) -> Listener:
        """A new listener; changes committed from now on reach it. `end` it when done."""
        listener = Listener(None if addresses is None else frozenset(addresses))
        self._listeners.add(listener)
        if listener.addresses is None:
            self._everyone.add(listener)
        else:
            for address in listener.addresses:
                self._by_address.setdefault(address, set()).add(listener)
        self.feed.listening(True)
        return listener

    def end(self, listener: Listener) -> None:
        if listener not in self._listeners:
            return
        self._listeners.discard(listener)
        self._everyone.discard(listener)
        for address in listener.addresses or ():
            wanting = self._by_address.get(address)
            if wanting is not None:
                wanting.discard(listener)
                if not wanting:
                    del self._by_address[address]
        if not self._listeners:
            self.feed.listening(False)

    def _wanting(self, address: str | None) -> list[Listener]:
        by_address = self._by_address.get(address) if address is not None else None
        return [*self._everyone, *(by_address or ())]

    async def when_new(
        self, address: str, seconds: float, after_id: int | None, read: Callable[[], Awaitable[Page[MailRow]]]
    ) -> Page[MailRow]:
        """The long poll: `read()`'s page (of `address`'s mail, newest first) as soon as it holds
        a mail newer than `after_id` (without one: newer than the newest when asked), else after
        `seconds`. Listening starts before the first read, so no mail slips in between."""
        listener = self.listen([address])
        try:
            page = await read()
            newest = page.results[0].id if page.results else 0
            if after_id is not None and newest > after_id:
                return page
            known = newest if after_id is None else after_id
            loop = asyncio.get_running_loop()
            deadline = loop.time() + seconds
            with contextlib.suppress(TimeoutError):
                while (event := await listener.next(deadline - loop.time())) is not None:
                    if event.kind == "mail" and event.id > known:
                        return await read()
            return page
        finally:
            self.end(listener)

    async def missed(self, after_id: int, addresses: Collection[str] | None) -> list[MailEvent]:
        """The events of the mails stored after `after_id` (for `addresses`; every address when
        None), oldest first, a page of at most CATCH_UP_LIMIT: what a resuming stream missed."""
        if addresses is not None and not addresses:
            return []
        owners = None if addresses is None else list(addresses)
        rows = await self.mails.after(after_id, owners, CATCH_UP_LIMIT)
        return [await self._event(row) for row in rows]

    async def _event(self, row: MailRow) -> MailEvent:
        found = stored_result(row.metadata)
        if found is None and row.address is not None:
            found = await self.extraction.found_in(row.address, raw_bytes(row))
        return mail_event(row, found)

    async def _dispatch(self) -> None:
        while True:
            changes = await self._changes.get()
            try:
                await self._hand_out(changes)
            except Exception:
                log.exception("handing out %d mail changes failed", len(changes))

    async def _hand_out(self, changes: list[MailChange]) -> None:
        wanted = [c for c in changes if self._everyone or c.address in self._by_address]
        added = [c.id for c in wanted if not c.deleted]
        rows = {row.id: row for row in await self.mails.with_ids(added)} if added else {}
        for change in wanted:
            if change.deleted:
                event = deleted_event(change)
            elif change.id in rows:
                event = await self._event(rows[change.id])
            else:  # deleted again before it could be read
                continue
            for listener in self._wanting(change.address):
                if not listener.offer(event):
                    log.info("an event stream fell %d events behind; ending it", QUEUE_LIMIT)
                    self.end(listener)
                    listener.close()

    def end_all(self) -> None:
        """End every listener: their streams close, so a stopping server need not wait for
        them (a stream would otherwise stay open for as long as its client likes)."""
        for listener in list(self._listeners):
            listener.close()
            self.end(listener)

    async def close(self) -> None:
        self.end_all()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.feed.close()
