"""Auto-reply (API.md §8): an address answers its senders with a fixed message.

Never to bounces, auto-replies or mailing lists (RFC 3834), and at most once per sender per
day, so two auto-responders can never talk to each other forever.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from pydantic import BaseModel

from tempmail.db.auto_reply import AutoReplyStore
from tempmail.db.kv import CACHE_SECONDS, SettingsStore
from tempmail.errors import ApiError, InvalidMail, SendFailed
from tempmail.inbound.mail_stored import MailStoredReport, StoredMail
from tempmail.inbound.pipeline import HeaderBlock, header_of
from tempmail.outbound.relays import OutgoingMail, Sender, build_message
from tempmail.ttl_cache import MISSING, TtlCache

log = logging.getLogger(__name__)

MAX_FIELD = 255
ONCE_PER_SECONDS = 86400
REPLIED_PREFIX = "auto_replied:"
_AUTOMATED_LOCAL_PARTS = re.compile(
    r"^(mailer-daemon|postmaster|owner-.*|.*-request|no-?reply|bounces?)$", re.I
)


class AutoReplySettings(BaseModel):
    subject: str = ""
    message: str = ""
    source_prefix: str = ""
    name: str = ""
    enabled: bool = True


def sender_matches(source_prefix: str, sender: str) -> bool:
    """Empty: everyone; `/regex/`: a regex search on the sender; else a prefix of it."""
    if not source_prefix:
        return True
    if len(source_prefix) >= 2 and source_prefix.startswith("/") and source_prefix.endswith("/"):
        try:
            return re.search(source_prefix[1:-1], sender) is not None
        except (re.error, OverflowError, RecursionError):
            return False
    return sender.lower().startswith(source_prefix.lower())


def is_automated(mail: StoredMail) -> bool:
    """RFC 3834 §2: no reply to an empty return path, to auto-submitted mail, or to lists."""
    if not mail.mail_from or _AUTOMATED_LOCAL_PARTS.match(mail.mail_from.partition("@")[0]):
        return True
    headers = HeaderBlock(mail.raw)
    auto_submitted = headers.get("Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if headers.get("Precedence").lower() in ("bulk", "list", "junk"):
        return True
    return any(headers.get(name) for name in ("List-Id", "List-Unsubscribe", "X-Autoreply"))


class AutoReplyService:
    def __init__(self, enabled: bool, store: AutoReplyStore, kv: SettingsStore, sender: Sender) -> None:
        self.enabled = enabled
        self.store = store
        self._settings: TtlCache[str, dict[str, Any] | None] = TtlCache(CACHE_SECONDS)
        # (address, sender) pairs answered today, remembered until their claim in the database
        # expires, so that a sender who writes again costs no database read. Only ever skips a
        # reply the database would also refuse.
        self._replied: TtlCache[str, bool] = TtlCache(ONCE_PER_SECONDS)
        self.kv = kv
        self.sender = sender

    def _require_enabled(self) -> None:
        if not self.enabled:
            raise ApiError(403, "Auto reply is disabled")

    async def get(self, address: str) -> dict[str, Any]:
        self._require_enabled()
        stored = await self.store.get(address)
        if stored is None:
            return {}
        return {**stored, "enabled": bool(stored["enabled"])}

    async def save(self, address: str, settings: AutoReplySettings) -> None:
        self._require_enabled()
        if not settings.subject or not settings.message:
            raise ApiError(400, "Invalid subject or message")
        if len(settings.subject) > MAX_FIELD or len(settings.message) > MAX_FIELD:
            raise ApiError(400, "Subject or message is too long")
        values = settings.model_dump()
        values["enabled"] = int(settings.enabled)
        await self.store.save(address, values)
        self._settings.pop(address)

    async def reply(self, mail: StoredMail) -> bool:
        """Answer `mail` if its address wants to and the sender may get an answer today."""
        if not self.enabled or is_automated(mail):
            return False
        settings = self._settings.get(mail.address)
        if settings is MISSING:
            settings = await self.store.get(mail.address)
            self._settings.put(mail.address, settings)
        if not isinstance(settings, dict) or (
            not settings["enabled"] or not sender_matches(settings["source_prefix"] or "", mail.mail_from)
        ):
            return False
        once_a_day = f"{REPLIED_PREFIX}{mail.address}:{mail.mail_from.lower()}"
        if self._replied.get(once_a_day) is not MISSING:
            return False  # the common case: the same sender writes again the same day
        replied = await self.kv.get_expiring(once_a_day)
        if replied is not None:
            self._replied.put(once_a_day, True, replied.expires - time.time())
            return False
        if not await self.kv.claim(once_a_day, ONCE_PER_SECONDS):
            return False
        self._replied.put(once_a_day, True, ONCE_PER_SECONDS)
        parent = header_of(mail.raw, "Message-ID")
        try:
            message = build_message(
                OutgoingMail(
                    from_address=mail.address,
                    from_name=settings["name"] or "",
                    to=[mail.mail_from],
                    subject=settings["subject"] or "",
                    text=settings["message"] or "",
                    in_reply_to=parent,
                    references=[parent] if parent else [],
                    headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
                )
            )
            await self.sender.send(message)
        except (InvalidMail, SendFailed) as exc:
            log.warning("auto-reply from %s to %s failed: %s", mail.address, mail.mail_from, exc)
            return False
        return True

    async def on_mail_stored(self, mail: StoredMail, report: MailStoredReport) -> None:
        report.replied |= await self.reply(mail)
