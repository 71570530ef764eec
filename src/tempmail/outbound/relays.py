"""Outbound mail: build an RFC 5322 message and hand it to the relay of the sender's domain.

One sender for every caller (the send API, the admin, verification codes, and later
forwarding and auto-reply), so relay choice, TLS and authentication are decided in one place.
"""

from __future__ import annotations

import base64
import email
import email.policy
import logging
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from html import unescape

import aiosmtplib
import httpx
import nh3

from tempmail.config import Settings, SmtpRelay
from tempmail.errors import InvalidMail, SendFailed

log = logging.getLogger(__name__)

SEND_TIMEOUT_SECONDS = 30.0
NO_BACKEND = "Please enable resend, smtp or SEND_MAIL for this domain"
# Headers Resend is given as fields of its own, not in `headers`.
RESEND_FIELDS = {"from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id", "mime-version"}


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent along (the admin's structured send)."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """A mail to send, as callers describe it."""

    from_address: str
    to: list[str]
    subject: str
    text: str = ""
    html: str = ""
    from_name: str = ""
    to_name: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    reply_to: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)


def _single_line(value: str, what: str) -> str:
    if "\r" in value or "\n" in value:
        raise InvalidMail(f"{what} must not contain line breaks")
    return value


def mailbox(addr: str, name: str, what: str) -> Address:
    _single_line(name, what)
    local, at, domain = _single_line(addr, what).strip().rpartition("@")
    if not at or not local or not domain or " " in addr.strip():
        raise InvalidMail(f"Invalid {what}: {addr!r}")
    try:
        return Address(display_name=name, username=local, domain=domain)
    except (ValueError, IndexError) as exc:
        raise InvalidMail(f"Invalid {what}: {addr!r}") from exc


def domain_of(addr: str) -> str:
    return addr.rpartition("@")[2].lower()


def build_message(mail: OutgoingMail) -> EmailMessage:
    """An EmailMessage with Message-ID on the sender's domain, Date, and a text alternative
    for HTML bodies (clients that cannot show HTML still get the words)."""
    if not mail.to:
        raise InvalidMail("Invalid recipient address")
    message = EmailMessage()
    message["From"] = mailbox(mail.from_address, mail.from_name, "sender address")
    message["To"] = [mailbox(to, mail.to_name, "recipient address") for to in mail.to]
    for name, addresses in (("Cc", mail.cc), ("Bcc", mail.bcc), ("Reply-To", mail.reply_to)):
        if addresses:
            message[name] = [mailbox(addr, "", "recipient address") for addr in addresses]
    message["Subject"] = _single_line(mail.subject, "Subject")
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=domain_of(mail.from_address))
    if mail.in_reply_to:
        message["In-Reply-To"] = _single_line(mail.in_reply_to, "In-Reply-To")
        message["References"] = " ".join(_single_line(ref, "References") for ref in mail.references)
    for name, value in mail.headers.items():
        message[name] = _single_line(value, name)
    if mail.html:
        message.set_content(mail.text or _text_of_html(mail.html))
        message.add_alternative(mail.html, subtype="html")
    else:
        message.set_content(mail.text)
    for attachment in mail.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=_single_line(attachment.filename, "filename"),
        )
    return message


def _envelope_recipients(payload: dict[str, object], envelope: list[str]) -> None:
    """Hold Resend's `to`/`cc`/`bcc` of `payload` to the envelope's recipients (see
    `Sender._send_with_resend`)."""
    wanted = {addr.lower(): addr for addr in envelope}
    placed: set[str] = set()
    for key in ("to", "cc"):
        named = payload.pop(key, [])
        kept = [addr for addr in named if addr.lower() in wanted] if isinstance(named, list) else []
        placed.update(addr.lower() for addr in kept)
        if kept:
            payload[key] = kept
    hidden = [addr for low, addr in wanted.items() if low not in placed]
    payload.pop("bcc", None)
    if hidden:
        payload["bcc"] = hidden
    if "to" not in payload:
        # Resend needs a `to`: a mail of Bcc recipients only goes to them as `to`.
        payload["to"] = payload.pop("bcc", [])


def _text_of_html(html: str) -> str:
    """A readable plain-text rendering of an HTML body, for the text alternative."""
    text = nh3.clean(html.replace("<br", "\n<br").replace("</p>", "</p>\n"), tags=set())
    return "\n".join(line.strip() for line in unescape(text).splitlines()).strip() + "\n"


class Sender:
    """Delivers messages through the relay configured in SMTP_CONFIG for the sender's domain."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http

    def resend_token_for(self, sender: str) -> str:
        """RESEND_TOKEN_<DOMAIN> (dots as underscores, upper-case) wins over RESEND_TOKEN."""
        key = domain_of(sender).replace(".", "_").replace("-", "_").upper()
        return self.settings.RESEND_TOKENS.get(key) or self.settings.RESEND_TOKEN

    def can_send_from(self, sender: str) -> bool:
        return bool(self.resend_token_for(sender) or self.relay_for(sender))

    def has_any_relay(self) -> bool:
        """Some relay is configured, for some domain: tempmail's stand-in for the reference's
        Cloudflare send binding."""
        cfg = self.settings
        return bool(cfg.RESEND_TOKEN or cfg.RESEND_TOKENS or cfg.SMTP_CONFIG)

    def relay_for(self, sender: str) -> SmtpRelay | None:
        """The relay of the sender's domain, or of its nearest parent domain that has one."""
        labels = domain_of(sender).split(".")
        for start in range(len(labels)):
            relay = self.settings.SMTP_CONFIG.get(".".join(labels[start:]))
            if relay is not None:
                return relay
        return None

    async def send_text(self, from_address: str, from_name: str, to: str, subject: str, text: str) -> None:
        """A plain-text mail of the server's own (a verification code); raises InvalidMail
        before anything is sent, SendFailed when no relay took it."""
        mail = OutgoingMail(
            from_address=from_address, from_name=from_name, to=[to], subject=subject, text=text
        )
        await self.send(build_message(mail))

    async def send(self, message: EmailMessage) -> None:
        """Hand the message to Resend or the SMTP relay; return only once it was accepted."""
        sender = message["From"].addresses[0].addr_spec
        token = self.resend_token_for(sender)
        if token:
            await self._send_with_resend(message, token)
            return
        relay = self.relay_for(sender)
        if relay is None:
            raise SendFailed(f"{NO_BACKEND} ({domain_of(sender)})")
        await self._send_with_smtp(message, relay)

    async def send_submitted(self, raw: bytes, mail_from: str, recipients: list[str]) -> None:
        """A whole message from a mail client (SMTP submission) to its envelope recipients:
        byte for byte through the SMTP relay of `mail_from`'s domain, or taken apart for
        Resend, which then sends to the same recipients (those of the envelope only)."""
        token = self.resend_token_for(mail_from)
        if token:
            message = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            await self._send_with_resend(message, token, envelope=recipients)
            return
        relay = self.relay_for(mail_from)
        if relay is None:
            raise SendFailed(f"{NO_BACKEND} ({domain_of(mail_from)})")
        await self._send_with_smtp(raw, relay, mail_from, recipients)

    async def _send_with_resend(
        self, message: EmailMessage, token: str, envelope: list[str] | None = None
    ) -> None:
        """Resend's HTTP API (POST /emails) with the bodies and threading headers of `message`.
        With `envelope`, the mail goes to those recipients only: those named in To and Cc keep
        their place, the others (a mail client's Bcc) are sent as Bcc."""
        payload: dict[str, object] = {"from": str(message["From"]), "subject": str(message["Subject"])}
        for name in ("To", "Cc", "Bcc", "Reply-To"):
            if message[name]:
                payload[name.lower().replace("-", "_")] = [a.addr_spec for a in message[name].addresses]
        if envelope is not None:
            _envelope_recipients(payload, envelope)
        for subtype in ("plain", "html"):
            part = message.get_body((subtype,))
            if part is not None and part.get_content_type() == f"text/{subtype}":
                payload["text" if subtype == "plain" else "html"] = part.get_content()
        extra = {
            name: str(value)
            for name, value in message.items()
            if name.lower() not in RESEND_FIELDS and not name.lower().startswith("content-")
        }
        if extra:
            payload["headers"] = extra
        files = [
            {
                "filename": part.get_filename() or "attachment",
                "content": base64.b64encode(bytes(part.get_payload(decode=True))).decode(),
            }
            for part in message.iter_attachments()
        ]
        if files:
            payload["attachments"] = files
        url = self.settings.RESEND_API_URL.rstrip("/") + "/emails"
        try:
            response = await self.http.post(
                url, json=payload, headers={"Authorization": f"Bearer {token}"}, timeout=SEND_TIMEOUT_SECONDS
            )
        except httpx.HTTPError as exc:
            raise SendFailed(f"Resend could not be reached: {exc}") from exc
        if response.status_code >= 300:
            raise SendFailed(f"Resend refused the mail ({response.status_code}): {response.text[:200]}")

    async def send_raw(self, raw: bytes, mail_from: str, recipients: list[str]) -> None:
        """Pass a received message on unchanged (forwarding): only an SMTP relay can carry the
        exact bytes, so the relay of `mail_from`'s domain is required."""
        relay = self.relay_for(mail_from)
        if relay is None:
            raise SendFailed(f"Forwarding needs an SMTP relay for {domain_of(mail_from)} in SMTP_CONFIG")
        await self._send_with_smtp(raw, relay, mail_from, recipients)

    async def _send_with_smtp(
        self,
        message: EmailMessage | bytes,
        relay: SmtpRelay,
        mail_from: str | None = None,
        recipients: list[str] | None = None,
    ) -> None:
        if isinstance(message, EmailMessage):
            sender = message["From"].addresses[0].addr_spec
        else:
            sender = mail_from or ""
        credentials = relay.credentials
        try:
            await aiosmtplib.send(
                message,
                sender=mail_from,
                recipients=recipients,
                hostname=relay.host,
                port=relay.port,
                use_tls=relay.secure,
                start_tls=None if not relay.secure else False,
                username=credentials.get("username") or credentials.get("user") or None,
                password=credentials.get("password") or credentials.get("pass") or None,
                timeout=SEND_TIMEOUT_SECONDS,
                validate_certs=relay.validateCerts,
                local_hostname=self.settings.SMTP_HOSTNAME,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("relay %s:%s refused a mail from %s: %s", relay.host, relay.port, sender, exc)
            raise SendFailed(f"The mail relay did not accept the mail: {exc}") from exc
