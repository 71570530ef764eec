"""Forwarding: a copy of every received mail to FORWARD_ADDRESS_LIST and to the domain rules: the
admin's `emailRuleSettings.emailForwardingList`, or, while the admin has none,
SUBDOMAIN_FORWARD_ADDRESS_LIST (the same `[{domains, forward}]` shape).

Each copy is a delivery of the outbox (`tempmail.inbound.outbox`): written with the mail while
any of those lists is set, retried with back-off when the relay fails."""

from __future__ import annotations

from tempmail.accounts.settings import AccountSettingsService
from tempmail.config import Settings
from tempmail.errors import SendFailed
from tempmail.inbound.mail_stored import MailStoredReport, StoredMail
from tempmail.inbound.outbox import DeliveryFailed
from tempmail.inbound.pipeline import header_of
from tempmail.outbound.relays import Sender

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

    async def configured(self) -> bool:
        """Whether any list may forward: a received mail then gets a `forward` row (its
        targets are worked out when it is delivered)."""
        if self.settings.FORWARD_ADDRESS_LIST or self.settings.SUBDOMAIN_FORWARD_ADDRESS_LIST:
            return True
        return bool((await self.accounts.get()).emailRuleSettings.get("emailForwardingList"))

    async def deliver(self, mail: StoredMail, delivery_id: int, report: MailStoredReport) -> bool:
        """The outbox's `forward`: the copy to every target in one relay transaction; False
        when there is none (or the mail is a forwarded copy itself)."""
        if header_of(mail.raw, FORWARD_MARKER):
            return False
        targets = await self.targets(mail.address)
        if not targets:
            return False
        marked = f"{FORWARD_MARKER}: {mail.address}\r\n".encode() + mail.raw
        try:
            await self.sender.send_raw(marked, mail.address, targets)
        except SendFailed as exc:
            raise DeliveryFailed(f"forward to {', '.join(targets)}: {exc}") from exc
        report.forwarded_to += targets
        return True
