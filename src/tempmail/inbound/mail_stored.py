"""The "mail stored" event (API.md §5): what the pipeline publishes once a mail is committed.

Subscribers — the extraction, then the deliveries of the outbox (forwarding, webhooks,
auto-reply: `tempmail.inbound.outbox`, whose rows were written with the mail, so none is lost if this
queue is), and later push and Telegram — are registered at start-up by `tempmail.services`, in
the order they run; the pipeline knows none of them. All of it runs after SMTP has answered 250,
in background tasks that are tracked so shutdown can let them finish; a failing subscriber is
logged and never affects the stored mail or the others. Subscribers run one after the other over
a whole group of mails (what was queued while the workers waited), so one that writes to the
database (the extraction's metadata) can do it once per group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tempmail.inbound.ingest_meter import IngestMeter
from tempmail.inbound.parse import ParsedMail, parse_mail

log = logging.getLogger(__name__)

BACKGROUND_CONCURRENCY = 4
BACKLOG_BYTES = 64 * 1024 * 1024
YIELD_SECONDS = 0.05
# Receiving counts as a burst above this many mails a second (in this process): the work after
# the commit then waits, so that the burst is taken at full speed. Steady traffic, even a busy
# site's, is far below it and is never held up.
BURST_RATE = 50.0
# How long a mail's after-work may wait for a burst to end: forwards, webhooks and auto-replies
# of a long burst run this far behind it, not after it.
MAX_DELAY_SECONDS = 5.0
RATE_WINDOW_SECONDS = 0.2
# Deliveries a worker takes off the queue at once, to run the subscribers over as one group.
MAX_GROUP = 64


@dataclass(slots=True)
class StoredMail:
    """One committed copy, as the subscribers see it, with what earlier subscribers found out
    about it for the later ones (the extraction's result, read by webhooks)."""

    id: int
    address: str
    mail_from: str
    raw: bytes
    # The test route's `ai_extract_result`: the answer the extraction must take as its own.
    ai_answer: Any = None
    # {type, result, result_text} once the extraction found something, else None.
    extracted: dict[str, str] | None = None
    # The outbox rows written with it (`tempmail.inbound.outbox`): none, none to claim.
    deliveries: tuple[str, ...] = ()
    _parsed: ParsedMail | None = field(default=None, repr=False)

    async def parsed(self) -> ParsedMail:
        """The mail parsed once (off the event loop) for every subscriber that reads it."""
        if self._parsed is None:
            self._parsed = await asyncio.to_thread(parse_mail, self.raw)
        return self._parsed


@dataclass(slots=True)
class MailStoredReport:
    """What the subscribers did with a mail, for the test route that runs them in the open."""

    forwarded_to: list[str] = field(default_factory=list)
    replied: bool = False


Subscriber = Callable[[StoredMail, MailStoredReport], Awaitable[None]]
GroupSubscriber = Callable[[list[StoredMail], MailStoredReport], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Subscription:
    """One subscriber, as a handler of a whole group (a per-mail one loops over it)."""

    name: str
    run: GroupSubscriber


class MailStored:
    """Runs the subscribers on a queue served by a few background workers that give way to ingest.

    While mail arrives as fast as the server takes it, the workers wait (until BACKLOG_BYTES of
    mail is queued), so a burst is stored at full speed and what follows catches up right
    behind it. Lighter traffic does not hold them up.
    """

    def __init__(self, ingest: IngestMeter) -> None:
        self.ingest = ingest
        self.backlog_bytes = 0
        self._subscriptions: list[_Subscription] = []
        # Each delivery with the time it was queued.
        self._queue: asyncio.Queue[tuple[float, list[StoredMail]]] | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._detached: set[asyncio.Task[None]] = set()

    def subscribe(self, name: str, handler: Subscriber, *, detached: bool = False) -> None:
        """Run `handler` for every stored mail, after those subscribed before it. A `detached`
        one (webhooks, which wait between retries) runs in a task of its own, so it holds up
        neither the subscribers after it nor the queue; shutdown still waits for it."""

        async def each(mails: list[StoredMail], report: MailStoredReport) -> None:
            for mail in mails:
                if detached:
                    task = asyncio.get_running_loop().create_task(self._guarded(name, handler, mail, report))
                    self._detached.add(task)
                    task.add_done_callback(self._detached.discard)
                else:
                    await self._guarded(name, handler, mail, report)

        self._subscriptions.append(_Subscription(name, each))

    def subscribe_group(self, name: str, handler: GroupSubscriber) -> None:
        """Run `handler` once per group of stored mails, in the same order as `subscribe`."""

        async def group(mails: list[StoredMail], report: MailStoredReport) -> None:
            try:
                await handler(mails, report)
            except Exception:
                log.exception("%s of mails %s failed", name, [mail.id for mail in mails])

        self._subscriptions.append(_Subscription(name, group))

    def publish(self, mails: list[StoredMail]) -> None:
        """Queue the mails for the subscribers: it never delays the SMTP answer."""
        if self._queue is None:
            self._queue = asyncio.Queue()
            loop = asyncio.get_running_loop()
            self._workers = [loop.create_task(self._work(self._queue)) for _ in range(BACKGROUND_CONCURRENCY)]
        self.backlog_bytes += sum(len(mail.raw) for mail in mails)
        self._queue.put_nowait((time.monotonic(), mails))

    async def _work(self, queue: asyncio.Queue[tuple[float, list[StoredMail]]]) -> None:
        while True:
            queued_at, first = await queue.get()
            deliveries = [first]
            try:
                await self._give_way(queued_at)
                while len(deliveries) < MAX_GROUP and not queue.empty():
                    deliveries.append(queue.get_nowait()[1])
                await self.run([mail for mails in deliveries for mail in mails])
            finally:
                for mails in deliveries:
                    self.backlog_bytes -= sum(len(mail.raw) for mail in mails)
                    queue.task_done()

    async def _give_way(self, queued_at: float) -> None:
        """Wait while a burst is being received (over BURST_RATE mails a second), until the
        mail has waited MAX_DELAY_SECONDS or BACKLOG_BYTES are queued. Steady traffic does not
        wait at all."""
        # Three conditions that change independently (the rate, the age, the backlog): a short
        # poll by these few workers is the simplest correct wait for all of them.
        while (  # noqa: ASYNC110
            self.backlog_bytes < BACKLOG_BYTES
            and time.monotonic() - queued_at < MAX_DELAY_SECONDS
            and self.ingest.rate(RATE_WINDOW_SECONDS) > BURST_RATE
        ):
            await asyncio.sleep(YIELD_SECONDS)

    async def run(self, mails: list[StoredMail]) -> MailStoredReport:
        """Run every subscriber now, in order, and report (detached ones are only started)."""
        report = MailStoredReport()
        for subscription in self._subscriptions:
            await subscription.run(mails, report)
        return report

    @staticmethod
    async def _guarded(name: str, handler: Subscriber, mail: StoredMail, report: MailStoredReport) -> None:
        try:
            await handler(mail, report)
        except Exception:
            log.exception("%s of mail %s failed", name, mail.id)

    async def drain(self, grace_seconds: float) -> None:
        """At shutdown (ingest has stopped): finish what is queued within `grace_seconds`,
        then cancel what is left."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace_seconds):
                if self._queue is not None:
                    await self._queue.join()
                while self._detached:
                    await asyncio.wait(set(self._detached))
        leftovers = [*self._workers, *self._detached]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
