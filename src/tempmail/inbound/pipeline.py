"""What happens to a received mail, from SMTP DATA (or the test route) to the stored row.

The order is API.md §5: checks that may reject each recipient run first, then every accepted
recipient is stored in one transaction, and only after that commit may SMTP answer 250.
Stages are small callables, each switched by its own setting, so that SMTP and
`POST /admin/test/receive_mail` run exactly the same code. The outbox rows of what the mail
then owes (forward, webhook, auto-reply: `tempmail.inbound.outbox`) are written in the same
transaction as the mail.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from tempmail.accounts.domains import receives_mail_for
from tempmail.accounts.settings import AccountSettingsService
from tempmail.config import Settings
from tempmail.db.addresses import AddressStore
from tempmail.db.mails import MailStore, NewMail
from tempmail.db.tables import utcnow
from tempmail.inbound.attachments import EXCEED_SIZE, strip_attachments
from tempmail.inbound.ingest_meter import IngestMeter
from tempmail.inbound.junk import AuthResults, JunkFilter
from tempmail.inbound.mail_stored import MailStored, StoredMail
from tempmail.inbound.outbox import Outbox
from tempmail.inbound.parse import header_block

log = logging.getLogger(__name__)

MAX_MESSAGE_ID = 255
# The reasons a recipient is refused, as the reference names them (`rejected` of the test
# route; SMTP answers 550 with them).
BLOCKED_SENDER = "Reject from address"
JUNK = "Junk mail"
UNKNOWN_ADDRESS = "Unknown address"
RELAYING_DENIED = "Relaying denied"
_FOLDING = re.compile(r"\r?\n[ \t]+")


@dataclass(frozen=True, slots=True)
class InboundMail:
    """A message as it arrived: envelope, exact bytes, and where it came from."""

    mail_from: str
    recipients: Sequence[str]
    raw: bytes
    peer_ip: str | None = None
    helo: str = ""
    # The test route's `ai_extract_result`, handed to the extraction (see StoredMail.ai_answer).
    ai_answer: Any = None
    headers: HeaderBlock = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", HeaderBlock(self.raw))


@dataclass(slots=True)
class Delivery:
    """One recipient's copy on its way through the stages; a stage may replace `raw`."""

    recipient: str
    raw: bytes
    auth: AuthResults | None = None
    # Why a stage refused it, beyond the reason's fixed text (the junk checks' results).
    detail: str = ""


@dataclass(slots=True)
class ReceiveResult:
    stored_ids: list[int] = field(default_factory=list)
    # Recipient -> the reference's reason text (the test route's `rejected`).
    rejected: dict[str, str] = field(default_factory=dict)
    # Recipient -> what the SMTP refusal adds to the reason (which junk check failed).
    details: dict[str, str] = field(default_factory=dict)
    forwarded_to: list[str] = field(default_factory=list)
    reply_called: bool = False

    def refusal(self) -> str:
        """The first refused recipient's reason, with its detail, for the SMTP answer."""
        recipient, reason = next(iter(self.rejected.items()))
        detail = self.details.get(recipient)
        return f"{reason} ({detail})" if detail else reason


class StoreFailed(Exception):
    """The mail could not be committed: the sender must retry (SMTP 451), nothing was kept."""


# A stage before storing: may replace `delivery.raw`; returns a rejection reason, or None to let
# the mail through.
Stage = Callable[[InboundMail, Delivery], Awaitable[str | None]]


class HeaderBlock:
    """A message's header block, parsed once, for stages that each read a header or two.

    Several stages read headers of every mail, so this stays cheap: only the header block is
    parsed, with compat32 (no header objects built). A header we cannot decode must never cost
    the mail, so every error reads as "absent".
    """

    def __init__(self, raw: bytes) -> None:
        block = header_block(raw).decode("utf-8", errors="replace")
        try:
            self._message: Message | None = HeaderParser(policy=compat32).parsestr(block)
        except Exception:
            self._message = None

    def get(self, name: str) -> str:
        """One header's text (unfolded, encoded words decoded); "" when absent or unreadable."""
        try:
            value = None if self._message is None else self._message.get(name)
        except Exception:
            return ""
        if value is None:
            return ""
        text = _FOLDING.sub(" ", str(value))
        with contextlib.suppress(HeaderParseError, LookupError, UnicodeError, ValueError):
            text = str(make_header(decode_header(text)))
        return text.strip()


def header_of(raw: bytes, name: str) -> str:
    """One header of `raw` (see `HeaderBlock`); parse once with HeaderBlock to read several."""
    return HeaderBlock(raw).get(name)


def message_id_of(headers: HeaderBlock) -> str | None:
    """The Message-ID for its column, without the NUL bytes a sender may put in (PostgreSQL's
    text cannot hold them: the mail itself, in `raw`/`raw_blob`, keeps them)."""
    return headers.get("Message-ID").replace("\x00", "")[:MAX_MESSAGE_ID] or None


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        mails: MailStore,
        addresses: AddressStore,
        accounts: AccountSettingsService,
        mail_stored: MailStored,
        meter: IngestMeter,
        outbox: Outbox | None = None,
    ) -> None:
        self.settings = settings
        self.mails = mails
        self.addresses = addresses
        self.accounts = accounts
        self.auth = JunkFilter(settings)
        self.mail_stored = mail_stored
        self.meter = meter
        self.outbox = outbox
        self.stages: list[Stage] = [
            self._our_domain,
            self._blocked_sender,
            self._junk,
            self._unknown_address,
            self._remove_attachments,
        ]

    async def receive(self, mail: InboundMail, wait_after_store: bool = False) -> ReceiveResult:
        """Run every stage for every recipient; raise StoreFailed if the commit fails.

        What follows the commit runs in the background, or, with `wait_after_store`, before
        returning, with its outcome in the result.
        """
        try:
            return await self._receive(mail, wait_after_store)
        finally:
            self.meter.answered()

    async def _receive(self, mail: InboundMail, wait_after_store: bool) -> ReceiveResult:
        result = ReceiveResult()
        accepted: list[Delivery] = []
        auth = await self._authenticate(mail)
        for recipient in mail.recipients:
            delivery = Delivery(recipient.lower(), mail.raw, auth)
            for stage in self.stages:
                reason = await stage(mail, delivery)
                if reason is not None:
                    result.rejected[delivery.recipient] = reason
                    if delivery.detail:
                        result.details[delivery.recipient] = delivery.detail
                    break
            else:
                accepted.append(delivery)
        if accepted:
            kinds = await self.outbox.kinds() if self.outbox is not None else ()
            result.stored_ids = await self._store(mail, accepted, kinds)
            stored = [
                StoredMail(
                    mail_id, d.recipient, mail.mail_from, d.raw, ai_answer=mail.ai_answer, deliveries=kinds
                )
                for mail_id, d in zip(result.stored_ids, accepted, strict=True)
            ]
            if wait_after_store:
                report = await self.mail_stored.run(stored)
                result.forwarded_to, result.reply_called = report.forwarded_to, report.replied
            else:
                self.mail_stored.publish(stored)
        return result

    async def _store(
        self, mail: InboundMail, deliveries: list[Delivery], kinds: tuple[str, ...]
    ) -> list[int]:
        """Commit the accepted copies, each with its outbox rows of `kinds`."""
        due = utcnow() + self.outbox.due() if self.outbox is not None and kinds else None
        rows = [
            NewMail(
                address=d.recipient,
                source=mail.mail_from,
                raw=d.raw,
                message_id=message_id_of(mail.headers),
                deliveries=kinds,
                deliveries_due=due,
            )
            for d in deliveries
        ]
        try:
            return await self.mails.insert(rows)
        except (SQLAlchemyError, OSError) as exc:
            log.exception("storing a mail for %s failed", [d.recipient for d in deliveries])
            raise StoreFailed(str(exc)) from exc

    async def accepts_domain(self, domain: str) -> bool:
        """Mail for this domain is ours to store (SMTP asks at RCPT, per recipient)."""
        return receives_mail_for(self.settings, domain, await self.accounts.subdomain_match())

    async def _our_domain(self, mail: InboundMail, delivery: Delivery) -> str | None:
        """Never an open relay. SMTP refuses at RCPT already; this guards the test route."""
        _, _, domain = delivery.recipient.rpartition("@")
        return None if await self.accepts_domain(domain) else RELAYING_DENIED

    async def _blocked_sender(self, mail: InboundMail, delivery: Delivery) -> str | None:
        """BLACK_LIST and the admin's `fromBlockList`: substrings of the envelope sender or
        the From header, compared case-insensitively."""
        account = await self.accounts.get()
        blocked = [*self.settings.BLACK_LIST, *account.fromBlockList]
        needles = [b.strip().lower() for b in blocked if b.strip()]
        if not needles:
            return None
        senders = f"{mail.mail_from}\n{mail.headers.get('From')}".lower()
        return BLOCKED_SENDER if any(n in senders for n in needles) else None

    async def _authenticate(self, mail: InboundMail) -> AuthResults | None:
        """SPF, DKIM and DMARC once per mail (not per recipient), when junk checks are on."""
        if not self.settings.ENABLE_CHECK_JUNK_MAIL:
            return None
        return await self.auth.check(
            mail.raw, mail.mail_from, mail.peer_ip, mail.helo, mail.headers.get("From")
        )

    async def _junk(self, mail: InboundMail, delivery: Delivery) -> str | None:
        """Reject junk; record what was verified in our own Authentication-Results header."""
        if delivery.auth is None:
            return None
        if self.auth.is_junk(delivery.auth):
            delivery.detail = ", ".join(f"{c}={delivery.auth.result(c)}" for c in ("spf", "dkim", "dmarc"))
            return JUNK
        delivery.raw = f"{delivery.auth.header}\r\n".encode() + delivery.raw
        return None

    async def _unknown_address(self, mail: InboundMail, delivery: Delivery) -> str | None:
        """With `blockReceiveUnknowAddressEmail` on, refuse mail for addresses never created."""
        rules = (await self.accounts.get()).emailRuleSettings
        if not rules.get("blockReceiveUnknowAddressEmail"):
            return None
        if await self.addresses.get_by_name(delivery.recipient) is None:
            return UNKNOWN_ADDRESS
        return None

    async def _remove_attachments(self, mail: InboundMail, delivery: Delivery) -> str | None:
        """REMOVE_ALL_ATTACHMENT, or REMOVE_EXCEED_SIZE_ATTACHMENT for mails over EXCEED_SIZE."""
        cfg = self.settings
        oversized = cfg.REMOVE_EXCEED_SIZE_ATTACHMENT and len(delivery.raw) > EXCEED_SIZE
        if cfg.REMOVE_ALL_ATTACHMENT or oversized:
            delivery.raw = await asyncio.to_thread(strip_attachments, delivery.raw)
        return None
