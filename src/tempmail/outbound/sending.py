"""Sending (COMPAT §6): from an address, by the admin, and the admin's structured send through a
relay; the balance, the server quota, send access and the sent box.

The checks run in the reference's order with its texts, so a client sees the same first error,
and a refused send changes nothing. The balance is reserved atomically before the relay is asked
and given back if the relay refuses, so it is charged only for mail that was accepted, and two
parallel sends can never spend one unit twice. Our own extras (a recipient's syntax, CR/LF in a
header, the mail a reply answers) are checked where the reference would have sent anyway.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from tempmail.accounts.addresses import INVALID_DOMAIN
from tempmail.accounts.domains import receives_mail_for
from tempmail.accounts.settings import AccountSettings, AccountSettingsService, SendMailLimitConfig
from tempmail.config import Settings
from tempmail.db.addresses import AddressStore
from tempmail.db.mails import MailStore, raw_bytes
from tempmail.db.paging import Page
from tempmail.db.sendbox import SendboxStore
from tempmail.db.senders import SenderStore
from tempmail.errors import ZH, ApiError, InvalidMail, SendFailed
from tempmail.inbound.pipeline import header_of
from tempmail.outbound.relays import NO_BACKEND, OutgoingMail, Sender, build_message, domain_of, mailbox
from tempmail.outbound.send_quota import QuotaReached, SendQuota
from tempmail.outbound.submitted import INVALID_FROM, read_submitted, with_transport_headers

NO_LIMIT_BALANCE = 99999
MAX_SUBJECT = 998
MAX_CONTENT = 5 * 1024 * 1024
ALREADY_REQUESTED = "Already requested"
INVALID_SENDER_ID = "Invalid address_id"
NO_DOMAIN_BINDING = "Please enable SEND_MAIL for this domain first"
NO_BALANCE = "No balance"
INVALID_RECIPIENT = "Invalid recipient address"
RECIPIENT_BLOCKED = "Address is blocked"
SUBJECT_EMPTY = "Subject is empty"
CONTENT_EMPTY = "Content is empty"
REPLY_NOT_FOUND = "Mail to reply to not found"


class SendError(Exception):
    """A send refused, with the reason text of the contract (`No balance`, ...)."""

    @property
    def known(self) -> bool:
        """The reason is one of the contract's texts (not a relay's or our own detail): the
        admin routes show only those, and `Operation failed` for anything else."""
        return str(self) in ZH


class RelayFailed(SendError):
    """The relay did not take a submitted mail: perhaps it will later (SMTP submission answers
    4xx, so the mail client keeps the mail and tries again), and nothing was charged."""


@dataclass(frozen=True, slots=True)
class Submission:
    """A whole message from a mail client: the address it logged in as, the envelope's
    recipients, the bytes, and where it connected from (for the sent box's record)."""

    address: str
    address_id: int
    recipients: list[str]
    raw: bytes
    client_ip: str


class SendRequest(BaseModel):
    """The body of every send call; `reply_mail_id` (ours) names an inbox mail being answered."""

    from_name: str = Field(default="", max_length=256)
    to_mail: str = Field(default="", max_length=320)
    to_name: str = Field(default="", max_length=256)
    subject: str = Field(default="", max_length=MAX_SUBJECT)
    content: str = Field(default="", max_length=MAX_CONTENT)
    is_html: bool = False
    reply_mail_id: int | None = Field(default=None, ge=1, le=2**63 - 1)


@dataclass(frozen=True, slots=True)
class Sending:
    """Who sends: the address, and whether its balance is checked."""

    address: str
    charged: bool
    address_id: int | None = None


class SendService:
    def __init__(
        self,
        settings: Settings,
        sender: Sender,
        senders: SenderStore,
        sendbox: SendboxStore,
        addresses: AddressStore,
        mails: MailStore,
        accounts: AccountSettingsService,
        quota: SendQuota,
    ) -> None:
        self.settings = settings
        self.sender = sender
        self.senders = senders
        self.sendbox = sendbox
        self.addresses = addresses
        self.mails = mails
        self.accounts = accounts
        self.quota = quota

    def unlimited(self, address: str, role: str | None, account: AccountSettings) -> bool:
        return (
            bool(role and role in self.settings.NO_LIMIT_SEND_ROLE)
            or address in account.noLimitSendAddressList
        )

    async def balance(self, address: str, role: str | None) -> int:
        """What `/api/settings` reports; the default balance is granted on first look (here or
        at the first send)."""
        if self.unlimited(address, role, await self.accounts.get()):
            return NO_LIMIT_BALANCE
        return await self._charged_balance(address)

    async def _charged_balance(self, address: str) -> int:
        if self.settings.DEFAULT_SEND_BALANCE > 0:
            await self.senders.grant_default(address, self.settings.DEFAULT_SEND_BALANCE)
        return await self.senders.balance(address)

    async def send_as_address(
        self, address: str, address_id: int, role: str | None, request: SendRequest, client_ip: str
    ) -> None:
        """COMPAT §6.1, its checks in the reference's order."""
        account = await self.accounts.get()
        if not await self._ours(address):
            raise SendError(INVALID_DOMAIN)
        charged = not self.unlimited(address, role, account)
        if charged and await self._charged_balance(address) <= 0:
            raise SendError(NO_BALANCE)
        await self._send(Sending(address, charged, address_id), request, account, client_ip)

    async def send_submitted(self, mail: Submission) -> None:
        """SMTP submission: `send_as_address` for a finished message, with its checks in its
        order, its texts and its charges, and one sendbox row as the API writes it.

        Each envelope recipient counts as one API send (a unit of balance, one on the quota),
        since the API sends to one recipient a call: a message to fifty must not cost one.
        Ours besides: the From header must be the sender (the API writes it; here the client
        does), and a message whose only content is an attachment is not empty."""
        address, count = mail.address, len(mail.recipients)
        account = await self.accounts.get()
        if not await self._ours(address):
            raise SendError(INVALID_DOMAIN)
        charged = not self.unlimited(address, None, account)
        if charged and await self._charged_balance(address) < count:
            raise SendError(NO_BALANCE)
        for recipient in mail.recipients:
            _check_recipient(recipient, account)
        try:
            message = read_submitted(mail.raw)
        except InvalidMail as exc:
            raise SendError(str(exc)) from None
        if message.from_address != address:
            raise SendError(INVALID_FROM.format(address=address))
        if not message.subject.strip():
            raise SendError(SUBJECT_EMPTY)
        if not message.content.strip() and not message.has_attachments:
            raise SendError(CONTENT_EMPTY)
        await self._quota_check(account.sendMailLimitConfig)
        if not self.sender.can_send_from(address):
            raise SendError(f"{NO_BACKEND} ({domain_of(address)})")
        reserved = 0
        try:
            while charged and reserved < count:
                if not await self.senders.reserve(address):
                    raise SendError(NO_BALANCE)
                reserved += 1
            await self.sender.send_submitted(
                with_transport_headers(mail.raw, address), address, mail.recipients
            )
        except (SendError, SendFailed) as exc:
            for _ in range(reserved):
                await self.senders.refund(address)
            if isinstance(exc, SendFailed):
                raise RelayFailed(str(exc)) from None
            raise
        for _ in range(count):
            await self.quota.count_sent(account.sendMailLimitConfig)
        await self.addresses.touch(mail.address_id)
        request = SendRequest.model_construct(
            from_name=message.from_name,
            to_name="",
            subject=message.subject,
            content=message.content,
            is_html=message.is_html,
        )
        await self.sendbox.add(address, sent_record(request, ", ".join(mail.recipients), mail.client_ip))

    async def _ours(self, address: str) -> bool:
        """The sender is one of our addresses: its domain is one we receive mail for."""
        return receives_mail_for(self.settings, domain_of(address), await self.accounts.subdomain_match())

    async def send_as_admin(self, from_mail: str, request: SendRequest, client_ip: str) -> None:
        """COMPAT §6.2: the address flow for any of our addresses, without a balance."""
        address = from_mail.strip().lower()
        if not await self._ours(address) or "@" not in address:
            raise SendError(INVALID_DOMAIN)
        await self._send(Sending(address, charged=False), request, await self.accounts.get(), client_ip)

    async def send_structured(self, mail: OutgoingMail) -> None:
        """`/admin/send_mail_by_binding`: a relay stands in for the reference's send binding;
        the quota counts it, the sent box and balances do not."""
        domain = domain_of(mail.from_address)
        allowed = self.settings.SEND_MAIL_DOMAINS
        if (allowed and domain not in allowed) or not self.sender.can_send_from(mail.from_address):
            raise SendError(NO_DOMAIN_BINDING)
        try:
            message = build_message(mail)
        except InvalidMail as exc:
            raise SendError(str(exc)) from None
        limits = (await self.accounts.get()).sendMailLimitConfig
        await self._quota_check(limits)
        try:
            await self.sender.send(message)
        except SendFailed as exc:
            raise SendError(str(exc)) from None
        await self.quota.count_sent(limits)

    def can_send_from(self, address: str) -> bool:
        """A relay (SMTP_CONFIG or Resend) serves this address's domain."""
        return self.sender.can_send_from(address)

    def has_binding(self) -> bool:
        """What stands for the reference's send binding: a relay for some domain."""
        return self.sender.has_any_relay()

    # --- send access and balances ---------------------------------------------------------

    async def request_access(self, address: str) -> None:
        """With a default balance the row is granted (and `Already requested` once it is spent
        or disabled); without one, a disabled row waits for the admin."""
        if self.settings.DEFAULT_SEND_BALANCE > 0:
            granted = await self._charged_balance(address) > 0
        else:
            granted = await self.senders.request_access(address)
        if not granted:
            raise ApiError(400, ALREADY_REQUESTED)

    async def senders_page(self, limit: int, offset: int, address: str) -> Page[Any]:
        """The admin's list of send access rows, filtered by an address substring."""
        return await self.senders.page(limit, offset, address.strip().lower())

    async def update_sender(self, row_id: int | None, balance: int, enabled: bool) -> None:
        """`row_id` is the id of the address_sender row, as in the reference."""
        if row_id is None or not await self.senders.update(row_id, balance, enabled):
            raise ApiError(400, INVALID_SENDER_ID)

    async def delete_sender(self, row_id: int) -> None:
        """Nothing to delete is no error (the reference answers success either way)."""
        await self.senders.delete(row_id)

    # --- the sent box -----------------------------------------------------------------------

    async def sent_page(self, limit: int, offset: int, owner: str = "") -> Page[Any]:
        """An address's sent items, or (for the admin) all whose address contains `owner`."""
        return await self.sendbox.page(limit, offset, owner.strip().lower())

    async def delete_sent(self, item_id: int, owner: str | None = None) -> None:
        """Only the owner's own item goes; an unknown id is no error, as in the reference."""
        await self.sendbox.delete(item_id, owner=owner)

    async def clear_sent(self, address: str) -> None:
        await self.sendbox.clear(address)

    async def _send(
        self, sending: Sending, request: SendRequest, account: AccountSettings, client_ip: str
    ) -> None:
        to_mail = request.to_mail.strip()
        _check_recipient(to_mail, account)
        if not request.subject.strip():
            raise SendError(SUBJECT_EMPTY)
        if not request.content.strip():
            raise SendError(CONTENT_EMPTY)
        message = build_message_for(sending.address, to_mail, request, await self._thread(sending, request))
        await self._quota_check(account.sendMailLimitConfig)
        if not self.sender.can_send_from(sending.address):
            raise SendError(f"{NO_BACKEND} ({domain_of(sending.address)})")
        if sending.charged and not await self.senders.reserve(sending.address):
            raise SendError(NO_BALANCE)
        try:
            await self.sender.send(message)
        except SendFailed as exc:
            if sending.charged:
                await self.senders.refund(sending.address)
            raise SendError(str(exc)) from None
        await self.quota.count_sent(account.sendMailLimitConfig)
        if sending.address_id is not None:
            await self.addresses.touch(sending.address_id)
        await self.sendbox.add(sending.address, sent_record(request, to_mail, client_ip))

    async def _quota_check(self, limits: SendMailLimitConfig | None) -> None:
        try:
            await self.quota.check(limits)
        except QuotaReached as exc:
            raise SendError(str(exc)) from None

    async def _thread(self, sending: Sending, request: SendRequest) -> tuple[str, list[str]]:
        """In-Reply-To and References of a reply to a mail of the sender's own inbox."""
        if request.reply_mail_id is None:
            return "", []
        row = await self.mails.get(request.reply_mail_id, owner=sending.address)
        if row is None:
            raise SendError(REPLY_NOT_FOUND)
        raw = raw_bytes(row)
        parent = header_of(raw, "Message-ID")
        if not parent:
            return "", []
        return parent, [*header_of(raw, "References").split(), parent]


def sent_record(request: SendRequest, to_mail: str, client_ip: str) -> str:
    """The sendbox row's `raw`, as the reference writes it (the web UI's sent box reads it)."""
    record = {
        "version": "v2",
        "from_name": request.from_name,
        "to_mail": to_mail,
        "to_name": request.to_name,
        "subject": request.subject,
        "content": request.content,
        "is_html": request.is_html,
        "geoData": {"ip": client_ip or "unknown"},
    }
    return json.dumps(record, ensure_ascii=False)


def build_message_for(
    from_address: str, to_mail: str, request: SendRequest, thread: tuple[str, list[str]]
) -> Any:
    """The EmailMessage of a send request; a header that would break the mail is a SendError."""
    try:
        return build_message(
            OutgoingMail(
                from_address=from_address,
                from_name=request.from_name,
                to=[to_mail],
                to_name=request.to_name,
                subject=request.subject,
                text="" if request.is_html else request.content,
                html=request.content if request.is_html else "",
                in_reply_to=thread[0],
                references=thread[1],
            )
        )
    except InvalidMail as exc:
        raise SendError(str(exc)) from None


def _check_recipient(recipient: str, account: AccountSettings) -> None:
    """A recipient the API would send to: a valid address, not on the admin's block list."""
    try:
        mailbox(recipient, "", "recipient address")
    except InvalidMail:
        raise SendError(INVALID_RECIPIENT) from None
    if any(blocked and blocked in recipient.lower() for blocked in account.sendBlockList):
        raise SendError(RECIPIENT_BLOCKED)
