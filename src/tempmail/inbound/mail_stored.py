"""What follows a committed mail (API.md §5): forward → webhooks → auto-reply.

All of it runs after SMTP has answered 250, in background tasks that are tracked so shutdown
can let them finish; a failing step is logged and never affects the stored mail or the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from tempmail.accounts.settings import AccountSettingsService
from tempmail.config import Settings
from tempmail.events.webhooks import WebhookService
from tempmail.inbound.pipeline import AfterStoreReport, IngestMeter, StoredMail, header_of
from tempmail.outbound.auto_reply import AutoReplyService
from tempmail.outbound.relays import Sender, SendFailed

log = logging.getLogger(__name__)

# Put on every forwarded copy: a copy that comes back to us (a forward target on one of our own
# domains) is not forwarded again, so two rules can never bounce a mail between them forever.
FORWARD_MARKER = "X-Tempmail-Forwarded-For"
BACKGROUND_CONCURRENCY = 4
BACKLOG_BYTES = 64 * 1024 * 1024
YIELD_SECONDS = 0.05
# Ingest counts as saturated while mail was being received more than this share of the time.
BUSY_SHARE = 0.5


class Forwarder:
    def __init__(self, settings: Settings, sender: Sender, accounts: AccountSettingsService) -> None:
        self.settings = settings
        self.sender = sender
        self.accounts = accounts

    async def targets(self, address: str) -> list[str]:
        """FORWARD_ADDRESS_LIST, plus the admin's rules for the recipient's domain (a rule
        without domains applies to every domain)."""
        domain = address.rpartition("@")[2]
        targets = list(self.settings.FORWARD_ADDRESS_LIST)
        rules = (await self.accounts.get()).emailRuleSettings.get("emailForwardingList") or []
        for rule in rules:
            if not isinstance(rule, dict) or not rule.get("forward"):
                continue
            domains = [str(d).lower() for d in rule.get("domains") or []]
            if not domains or domain in domains:
                targets.append(str(rule["forward"]))
        return [t for t in dict.fromkeys(t.strip() for t in targets) if t and t.lower() != address]

    async def forward(self, mail: StoredMail) -> list[str]:
        if header_of(mail.raw, FORWARD_MARKER):
            return []
        targets = await self.targets(mail.address)
        if not targets:
            return []
        marked = f"{FORWARD_MARKER}: {mail.address}\r\n".encode() + mail.raw
        try:
            await self.sender.send_raw(marked, mail.address, targets)
        except SendFailed as exc:
            log.warning("forwarding mail %s to %s failed: %s", mail.id, targets, exc)
            return []
        return targets


class AfterStoreSteps:
    """Runs the steps on a queue served by a few background workers that give way to ingest.

    While mail arrives as fast as the server takes it, the workers wait (until BACKLOG_BYTES of
    mail is queued), so a burst is stored at full speed and forwarding, webhooks and replies
    catch up right behind it. Lighter traffic does not hold them up.
    """

    def __init__(
        self,
        forwarder: Forwarder,
        webhooks: WebhookService,
        auto_reply: AutoReplyService,
        ingest: IngestMeter,
    ) -> None:
        self.forwarder = forwarder
        self.webhooks = webhooks
        self.auto_reply = auto_reply
        self.ingest = ingest
        self.backlog_bytes = 0
        self._queue: asyncio.Queue[list[StoredMail]] | None = None
        self._workers: list[asyncio.Task[None]] = []
        # Webhook deliveries: tasks of their own (they wait between retries), a few at a time.
        self._deliveries: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(BACKGROUND_CONCURRENCY)

    def schedule(self, mails: list[StoredMail]) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue()
            loop = asyncio.get_running_loop()
            self._workers = [loop.create_task(self._work(self._queue)) for _ in range(BACKGROUND_CONCURRENCY)]
        self.backlog_bytes += sum(len(mail.raw) for mail in mails)
        self._queue.put_nowait(mails)

    async def _work(self, queue: asyncio.Queue[list[StoredMail]]) -> None:
        while True:
            mails = await queue.get()
            try:
                await self._give_way()
                await self.run(mails)
            finally:
                self.backlog_bytes -= sum(len(mail.raw) for mail in mails)
                queue.task_done()

    async def _give_way(self) -> None:
        """Wait while ingest is saturated: mail was being received more than BUSY_SHARE of the
        last YIELD_SECONDS. Light traffic, which is received a few per cent of the time, waits
        at most one such interval; a backlog of BACKLOG_BYTES waits no longer."""
        # Two conditions that change independently (the share, the backlog): a short poll by
        # these few workers is the simplest correct wait for either.
        while self.backlog_bytes < BACKLOG_BYTES and self.ingest.active(YIELD_SECONDS):
            before = self.ingest.clock()
            await asyncio.sleep(YIELD_SECONDS)
            if self.ingest.clock() - before < YIELD_SECONDS * BUSY_SHARE:
                return

    async def run(self, mails: list[StoredMail]) -> AfterStoreReport:
        report = AfterStoreReport()
        for mail in mails:
            try:
                report.forwarded_to += await self.forwarder.forward(mail)
            except Exception:
                log.exception("forwarding mail %s failed", mail.id)
            # Webhooks retry for a while; they must not hold up the auto-reply.
            delivery = asyncio.get_running_loop().create_task(self._fire_webhooks(mail))
            self._deliveries.add(delivery)
            delivery.add_done_callback(self._deliveries.discard)
            try:
                report.replied |= await self.auto_reply.reply(mail)
            except Exception:
                log.exception("auto-reply to mail %s failed", mail.id)
        return report

    async def _fire_webhooks(self, mail: StoredMail) -> None:
        try:
            await self.webhooks.fire(mail, self._slots)
        except Exception:
            log.exception("webhooks of mail %s failed", mail.id)

    async def drain(self, grace_seconds: float) -> None:
        """At shutdown (ingest has stopped): finish what is queued within `grace_seconds`,
        then cancel what is left."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace_seconds):
                if self._queue is not None:
                    await self._queue.join()
                while self._deliveries:
                    await asyncio.wait(set(self._deliveries))
        leftovers = [*self._workers, *self._deliveries]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
