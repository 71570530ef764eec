"""Auto-reply (API.md §8, COMPAT §14): an address answers its senders with a fixed message.

As the reference does: every received mail that has a Message-ID and whose envelope sender
matches the address's `source_prefix` gets the reply, however often that sender writes: clients
and the reference's tests expect a reply to each qualifying mail. The reply says
`Auto-Submitted: auto-replied`, so a well-behaved responder on the other side does not answer
it; with AUTO_REPLY_SKIP_AUTOMATED (ours, off by default) we do not answer automated mail either
(RFC 3834 §2), so two responders can never keep answering each other. Each reply is a delivery
of the outbox (`tempmail.inbound.outbox`), written with the mail while ENABLE_AUTO_REPLY is on and
retried with back-off when the relay fails.
"""

from __future__ import annotations

import logging
import re
from email.message import EmailMessage
from typing import Any

from pydantic import BaseModel

from tempmail.db.auto_reply import AutoReplyStore
from tempmail.db.kv import CACHE_SECONDS
from tempmail.errors import ApiError, InvalidMail, SendFailed
from tempmail.inbound.mail_stored import MailStoredReport, StoredMail
from tempmail.inbound.outbox import DeliveryFailed
from tempmail.inbound.pipeline import HeaderBlock, header_of
from tempmail.outbound.relays import OutgoingMail, Sender, build_message
from tempmail.ttl_cache import Generation, TtlCache

log = logging.getLogger(__name__)

MAX_FIELD = 255
DISABLED = "Auto reply is disabled"
INVALID_TEXT = "Invalid subject or message"
TOO_LONG = "Subject or message is too long"
DEFAULT_SUBJECT = "Auto-reply"
DEFAULT_MESSAGE = "This is an auto-reply message, please reconact later."


class AutoReplySettings(BaseModel):
    """`POST /api/auto_reply`'s `auto_reply`; a missing field is stored empty (or off)."""

    subject: str = ""
    message: str = ""
    source_prefix: str = ""
    name: str = ""
    enabled: bool = False


def sender_matches(source_prefix: str, sender: str) -> bool:
    """Empty: everyone; `/regex/` (longer than 2): a regex search on the sender; else a
    case-sensitive prefix of it."""
    if not source_prefix:
        return True
    if len(source_prefix) > 2 and source_prefix.startswith("/") and source_prefix.endswith("/"):
        try:
            return re.search(source_prefix[1:-1], sender) is not None
        except (re.error, OverflowError, RecursionError):
            return False
    return sender.startswith(source_prefix)


_AUTOMATED_LOCAL_PARTS = re.compile(
    r"^(mailer-daemon|postmaster|owner-.*|.*-request|no-?reply|bounces?)$", re.I
)


def is_automated(mail: StoredMail) -> bool:
    """RFC 3834 §2: no reply to a daemon's return path, to auto-submitted mail, or to lists."""
    if _AUTOMATED_LOCAL_PARTS.match(mail.mail_from.partition("@")[0]):
        return True
    headers = HeaderBlock(mail.raw)
    auto_submitted = headers.get("Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if headers.get("Precedence").lower() in ("bulk", "list", "junk"):
        return True
    return any(headers.get(name) for name in ("List-Id", "List-Unsubscribe", "X-Autoreply"))


class AutoReplyService:
    def __init__(
        self,
        enabled: bool,
        store: AutoReplyStore,
        sender: Sender,
        skip_automated: bool = False,
        generation: Generation | None = None,
    ) -> None:
        self.enabled = enabled
        self.skip_automated = skip_automated
        self.store = store
        # With the server's generation, a reply saved through one worker is used by all at once.
        self._settings: TtlCache[str, dict[str, Any] | None] = TtlCache(CACHE_SECONDS, generation=generation)
        self.sender = sender

    def _require_enabled(self) -> None:
        if not self.enabled:
            raise ApiError(403, DISABLED)

    async def get(self, address: str) -> dict[str, Any]:
        """`{}` when none is saved, else exactly subject, message, enabled, source_prefix, name."""
        self._require_enabled()
        stored = await self.store.get(address)
        if stored is None:
            return {}
        return {**stored, "enabled": bool(stored["enabled"])}

    async def save(self, address: str, settings: AutoReplySettings) -> None:
        """A reply that is on needs a subject and a message; one that is off may be empty."""
        self._require_enabled()
        if (not settings.subject or not settings.message) and settings.enabled:
            raise ApiError(400, INVALID_TEXT)
        if len(settings.subject) > MAX_FIELD or len(settings.message) > MAX_FIELD:
            raise ApiError(400, TOO_LONG)
        values = settings.model_dump()
        values["enabled"] = int(settings.enabled)
        await self.store.save(address, values)
        self._settings.invalidate(address)

    async def _settings_of(self, address: str) -> dict[str, Any] | None:
        """The address's reply, kept in memory briefly: every received mail asks."""
        cached = await self._settings.fetch(address, lambda: self.store.get(address))
        return cached if isinstance(cached, dict) else None

    async def switched_on(self) -> bool:
        """Whether received mail gets an `auto_reply` row (ENABLE_AUTO_REPLY)."""
        return self.enabled

    async def _reply_to(self, mail: StoredMail) -> EmailMessage | None:
        """The reply `mail` gets, if its address wants to answer it."""
        parent = header_of(mail.raw, "Message-ID")
        if not self.enabled or not parent or not mail.mail_from:
            return None
        if self.skip_automated and is_automated(mail):
            return None
        settings = await self._settings_of(mail.address)
        if not settings or not settings["enabled"]:
            return None
        if not sender_matches(settings["source_prefix"] or "", mail.mail_from):
            return None
        try:
            return build_message(
                OutgoingMail(
                    from_address=mail.address,
                    from_name=settings["name"] or mail.address,
                    to=[mail.mail_from],
                    subject=settings["subject"] or DEFAULT_SUBJECT,
                    text=settings["message"] or DEFAULT_MESSAGE,
                    in_reply_to=parent,
                    references=[parent],
                    headers={"Auto-Submitted": "auto-replied"},
                )
            )
        except InvalidMail as exc:
            log.warning("auto-reply from %s to %s cannot be built: %s", mail.address, mail.mail_from, exc)
            return None

    async def deliver(self, mail: StoredMail, delivery_id: int, report: MailStoredReport) -> bool:
        """The outbox's `auto_reply`: False when the mail gets none. The report's `replied`
        (the test route's `replyCalled`: the reference's reply hook was called) is set once the
        reply is handed to the relay, even if the relay then refuses it."""
        message = await self._reply_to(mail)
        if message is None:
            return False
        report.replied = True
        try:
            await self.sender.send(message)
        except SendFailed as exc:
            raise DeliveryFailed(f"auto-reply to {mail.mail_from}: {exc}") from exc
        return True
