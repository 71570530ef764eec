"""Deliveries once, durably: forwards, webhooks and auto-replies through the outbox.

What a stored mail owes the outside world is written as rows of `deliveries` in the transaction
that stores it (see `tempmail.db.deliveries`), one per kind switched on (`kinds`: forwarding
configured, TELEGRAM_BOT_TOKEN, ENABLE_WEBHOOK, ENABLE_AUTO_REPLY; none in the default
configuration, whose ingest writes nothing more). Then:

- The worker that stored the mail delivers its rows right after the extraction (a "mail stored"
  subscriber, so webhooks carry what it found): forward and auto-reply in turn, webhooks in
  tasks of their own (a slow receiver holds up nothing). `POST /admin/test/receive_mail` runs
  the same code in the open and reports what it did.
- Every worker also polls (every POLL_SECONDS, and when a retry falls due) for rows nobody
  holds that are due: mail stored by a node that died before delivering it (its rows fall due a
  lease's length after the mail), deliveries whose worker died mid-way (their lease ran out),
  and retries. The mail is then read from the database.

Each row is held under a lease while it is delivered, renewed while the delivery runs, so no two
workers or nodes deliver it at once. A success marks it done; a failure counts an attempt, keeps
the error and makes it due again after 1, 4, 16 … seconds (at most an hour), until
DELIVERY_MAX_ATTEMPTS, when it is kept as failed (`GET /admin/deliveries`). A row with nothing
to do after all (no forward target, no reply set, the mail deleted) is dropped.

"Once" across a crash is at-least-once plus a key: a worker that dies after the receiver took
the delivery but before marking it done leaves it to another worker, which sends it again.
Webhook requests therefore carry `X-Tempmail-Delivery: <delivery id>`, the same on every attempt
of one delivery, by which a receiver drops a repeat; SMTP has no such key, so a forward or an
auto-reply may, after such a crash only, arrive twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tempmail.db.deliveries import KINDS, STATUSES, Claimed, DeliveryRow, DeliveryStore
from tempmail.db.mails import MailStore, raw_bytes
from tempmail.db.paging import Page
from tempmail.db.tables import utcnow
from tempmail.errors import ApiError
from tempmail.inbound.mail_stored import MailStoredReport, StoredMail
from tempmail.inbound.metadata import stored_result

log = logging.getLogger(__name__)

# How often a worker looks for due rows it did not store itself.
POLL_SECONDS = 2.0
# Rows one poll claims at most (a worker renews the leases of what it holds until it is done).
CLAIM_BATCH = 16
# Deliveries running at once in a worker.
CONCURRENCY = 8
RETRY_FIRST_SECONDS = 1.0
RETRY_FACTOR = 4.0
RETRY_MAX_SECONDS = 3600.0
# Delivered rows are kept this long for the admin, then purged by a scheduled job.
KEEP_DONE = timedelta(days=7)
INVALID_STATUS = "Invalid status: use pending, done or failed"


class DeliveryFailed(Exception):
    """An attempt failed, for the reason given (our words, kept as the row's last error);
    `final` when trying again cannot help (a setting that cannot be delivered)."""

    def __init__(self, reason: str, final: bool = False) -> None:
        super().__init__(reason)
        self.final = final


# Delivers one kind for one mail (delivery id for an idempotency key, the report of the test
# route); False when there was nothing to deliver; raises DeliveryFailed.
Handler = Callable[[StoredMail, int, MailStoredReport], Awaitable[bool]]
# Whether a kind is switched on, asked for every stored mail: must be cheap (settings, caches).
Switch = Callable[[], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class _Kind:
    handler: Handler
    switch: Switch
    # Run in a task of its own by the worker that stored the mail (webhooks).
    detached: bool


def retry_delay(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`, after `attempts` failed ones."""
    return float(min(RETRY_MAX_SECONDS, RETRY_FIRST_SECONDS * RETRY_FACTOR ** max(0, attempts - 1)))


class Outbox:
    def __init__(
        self, store: DeliveryStore, mails: MailStore, lease_seconds: float, max_attempts: int
    ) -> None:
        self.store = store
        self.mails = mails
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self._kinds: dict[str, _Kind] = {}
        self._slots = asyncio.Semaphore(CONCURRENCY)
        # Rows this worker holds, whose leases it renews.
        self._held: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake: asyncio.Event | None = None
        self._loops: list[asyncio.Task[None]] = []

    def register(self, kind: str, handler: Handler, switch: Switch, *, detached: bool = False) -> None:
        """Deliver `kind` (one of KINDS) with `handler` for every mail stored while `switch` says on."""
        assert kind in KINDS, kind
        self._kinds[kind] = _Kind(handler, switch, detached)

    async def kinds(self) -> tuple[str, ...]:
        """The rows a mail stored now needs, in the order they are delivered."""
        return tuple([kind for kind in KINDS if kind in self._kinds and await self._kinds[kind].switch()])

    def due(self) -> timedelta:
        """When new rows fall due for other workers: after the storing worker had a lease's time."""
        return timedelta(seconds=self.lease_seconds)

    # --- the storing worker ------------------------------------------------------------------

    async def on_mails_stored(self, mails: list[StoredMail], report: MailStoredReport) -> None:
        """Deliver the rows of mails this worker just stored ("mail stored" subscriber)."""
        owed = [mail.id for mail in mails if mail.deliveries]
        if not owed:
            # The default configuration: no rows were written, so there is nothing to ask.
            return
        claimed = await self.store.claim_mails(owed)
        if not claimed:
            return
        self._held.update(claimed_row.id for claimed_row in claimed)
        stored = {mail.id: mail for mail in mails}
        order = {kind: position for position, kind in enumerate(KINDS)}
        for row in sorted(claimed, key=lambda row: (row.mail_id, order.get(row.kind, len(order)))):
            kind = self._kinds.get(row.kind)
            if kind is not None and kind.detached:
                self._spawn(self._attempt(row, stored.get(row.mail_id), report))
            else:
                await self._attempt(row, stored.get(row.mail_id), report)

    # --- every worker ------------------------------------------------------------------------

    def start(self) -> None:
        """Poll for due rows and renew the leases held, until `stop`."""
        self._wake = asyncio.Event()
        self._loops = [asyncio.create_task(self._poll(self._wake)), asyncio.create_task(self._renew())]

    async def stop(self, grace_seconds: float) -> None:
        """Let running deliveries finish within `grace_seconds`, then cancel what is left (its
        rows fall to another worker once their leases run out)."""
        for loop in self._loops:
            loop.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace_seconds):
                while self._tasks:
                    await asyncio.wait(set(self._tasks))
        leftovers = list(self._tasks)
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)

    async def _poll(self, wake: asyncio.Event) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), POLL_SECONDS)
            wake.clear()
            try:
                claimed = await self.store.claim_due(CLAIM_BATCH) if await self.store.any_due() else []
            except Exception:
                log.exception("looking for due deliveries failed")
                continue
            self._held.update(row.id for row in claimed)
            for row in claimed:
                self._spawn(self._attempt(row, None, MailStoredReport()))
            if len(claimed) == CLAIM_BATCH:
                wake.set()

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                await self.store.renew(sorted(self._held))
            except Exception:
                log.exception("renewing the leases of deliveries failed")

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _wake_in(self, seconds: float) -> None:
        if self._wake is not None:
            asyncio.get_running_loop().call_later(seconds, self._wake.set)

    async def _load(self, mail_id: int) -> StoredMail | None:
        """A mail stored by another worker or node, as the handlers take it."""
        row = await self.mails.get(mail_id)
        if row is None:
            return None
        mail = StoredMail(row.id, row.address or "", row.source or "", raw_bytes(row))
        mail.extracted = stored_result(row.metadata)
        return mail

    async def _attempt(self, row: Claimed, mail: StoredMail | None, report: MailStoredReport) -> None:
        """One attempt at a row this worker holds; its outcome is written back."""
        try:
            kind = self._kinds.get(row.kind)
            if kind is None:
                await self._fail(row, DeliveryFailed(f"{row.kind} deliveries are not configured here"))
                return
            if mail is None:
                mail = await self._load(row.mail_id)
            if mail is None:
                await self.store.drop(row.id)
                return
            try:
                async with self._slots:
                    delivered = await kind.handler(mail, row.id, report)
            except DeliveryFailed as exc:
                await self._fail(row, exc)
                return
            except Exception as exc:
                log.exception("%s delivery %s of mail %s failed", row.kind, row.id, row.mail_id)
                await self._fail(row, DeliveryFailed(f"internal error ({type(exc).__name__})"))
                return
            if delivered:
                await self.store.done(row.id)
            else:
                await self.store.drop(row.id)
        except Exception:
            # The database: the row stays held until its lease runs out, then is tried again.
            log.exception("recording %s delivery %s of mail %s failed", row.kind, row.id, row.mail_id)
        finally:
            self._held.discard(row.id)

    async def _fail(self, row: Claimed, exc: DeliveryFailed) -> None:
        attempts = row.attempts + 1
        retry = None if exc.final or attempts >= self.max_attempts else retry_delay(attempts)
        log.warning(
            "%s delivery %s of mail %s failed (attempt %d%s): %s",
            row.kind,
            row.id,
            row.mail_id,
            attempts,
            "" if retry is not None else ", given up",
            exc,
        )
        await self.store.failed(row.id, str(exc), retry)
        if retry is not None:
            self._wake_in(retry)

    # --- the admin ---------------------------------------------------------------------------

    async def page(self, limit: int, offset: int, status: str | None) -> Page[DeliveryRow]:
        """`GET /admin/deliveries`: newest first, of one status (pending, done, failed) or all."""
        if status is not None and status not in STATUSES:
            raise ApiError(400, INVALID_STATUS)
        return await self.store.page(limit, offset, status)

    async def purge_delivered(self) -> None:
        """The scheduled job: rows delivered more than KEEP_DONE ago go; failed ones stay."""
        await self.store.purge_done(utcnow() - KEEP_DONE)
