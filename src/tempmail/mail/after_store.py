"""What follows a committed mail (API.md §5): forward → webhooks → auto-reply.

All of it runs after SMTP has answered 250, in background tasks that are tracked so shutdown
can let them finish; a failing step is logged and never affects the stored mail or the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine

from tempmail.account_settings import AccountSettingsService
from tempmail.autoreply import AutoReplyService
from tempmail.config import Settings
from tempmail.mail.pipeline import AfterStoreReport, StoredMail, header_of
from tempmail.mail.send import Sender, SendFailed
from tempmail.webhooks import WebhookService

log = logging.getLogger(__name__)

# Put on every forwarded copy: a copy that comes back to us (a forward target on one of our own
# domains) is not forwarded again, so two rules can never bounce a mail between them forever.
FORWARD_MARKER = "X-Tempmail-Forwarded-For"


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
    def __init__(self, forwarder: Forwarder, webhooks: WebhookService, auto_reply: AutoReplyService) -> None:
        self.forwarder = forwarder
        self.webhooks = webhooks
        self.auto_reply = auto_reply
        self._tasks: set[asyncio.Task[object]] = set()

    def _spawn(self, work: Coroutine[object, None, object]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def schedule(self, mails: list[StoredMail]) -> None:
        self._spawn(self.run(mails))

    async def run(self, mails: list[StoredMail]) -> AfterStoreReport:
        report = AfterStoreReport()
        for mail in mails:
            try:
                report.forwarded_to += await self.forwarder.forward(mail)
            except Exception:
                log.exception("forwarding mail %s failed", mail.id)
            # Webhooks retry for a while; they must not hold up the auto-reply.
            self._spawn(self._fire_webhooks(mail))
            try:
                report.replied |= await self.auto_reply.reply(mail)
            except Exception:
                log.exception("auto-reply to mail %s failed", mail.id)
        return report

    async def _fire_webhooks(self, mail: StoredMail) -> None:
        try:
            await self.webhooks.fire(mail)
        except Exception:
            log.exception("webhooks of mail %s failed", mail.id)

    async def drain(self, grace_seconds: float) -> None:
        """At shutdown: give running steps `grace_seconds`, then cancel what is left."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
