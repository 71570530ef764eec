"""Forwarding: a copy of every received mail to FORWARD_ADDRESS_LIST and to the domain rules: the
admin's `emailRuleSettings.emailForwardingList`, or, while the admin has none,
SUBDOMAIN_FORWARD_ADDRESS_LIST (the same `[{domains, forward}]` shape)."""

from __future__ import annotations

import logging

from tempmail.accounts.settings import AccountSettingsService
from tempmail.config import Settings
from tempmail.errors import SendFailed
from tempmail.inbound.mail_stored import MailStoredReport, StoredMail
from tempmail.inbound.pipeline import header_of
from tempmail.outbound.relays import Sender

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
        """FORWARD_ADDRESS_LIST, plus the rules for the recipient's domain, compared lower-cased
        (a rule without domains applies to every domain)."""
        domain = address.rpartition("@")[2].lower()
        targets = list(self.settings.FORWARD_ADDRESS_LIST)
        rules = (await self.accounts.get()).emailRuleSettings.get("emailForwardingList") or [
            rule.model_dump() for rule in self.settings.SUBDOMAIN_FORWARD_ADDRESS_LIST
        ]
        for rule in rules:
            if not isinstance(rule, dict) or not rule.get("forward"):
                continue
            domains = [str(d).strip().lower() for d in rule.get("domains") or []]
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

    async def on_mail_stored(self, mail: StoredMail, report: MailStoredReport) -> None:
        report.forwarded_to += await self.forward(mail)
