"""A whole message a mail client submitted (SMTP submission): read what the send checks and the
sent box need from it, and complete the headers a relay expects.

The API builds its mail from fields; a mail client sends a finished MIME message. The checks of
sending still apply to it (the sender, the subject, the content), so the fields are read back
out of the message, with the standard library's parser, which takes any bytes (a part it cannot
decode reads as empty rather than failing the send).
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from tempmail.errors import InvalidMail
from tempmail.outbound.relays import domain_of

INVALID_FROM = "The From header must be the address you logged in as: {address}"


@dataclass(frozen=True, slots=True)
class SubmittedMessage:
    """What a submitted message says of itself: its From, subject and readable body."""

    from_address: str
    from_name: str
    subject: str
    content: str
    is_html: bool
    has_attachments: bool


def read_submitted(raw: bytes) -> SubmittedMessage:
    """The fields of `raw`; InvalidMail when its From is not exactly one address."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    addresses: tuple[Address, ...] = ()
    try:
        sender = message["From"]
        if sender is not None:
            addresses = tuple(sender.addresses)
    except (ValueError, IndexError, AttributeError):
        pass
    if len(addresses) != 1 or not addresses[0].addr_spec:
        raise InvalidMail("The From header must name one address")
    subject = _header_text(message, "Subject")
    content, is_html = "", False
    try:
        body = message.get_body(("html", "plain"))
        if body is not None:
            # As the API's content is: lines ending in LF (SMTP's CRLF is the transport's).
            content = str(body.get_content()).replace("\r\n", "\n")
            is_html = body.get_content_type() == "text/html"
        has_attachments = any(True for _ in message.iter_attachments())
    except (LookupError, ValueError, KeyError, AttributeError):
        # An unknown charset or a broken part: nothing readable, which the checks then judge.
        has_attachments = message.is_multipart()
    return SubmittedMessage(
        from_address=addresses[0].addr_spec.lower(),
        from_name=addresses[0].display_name,
        subject=subject,
        content=content,
        is_html=is_html,
        has_attachments=has_attachments,
    )


def _header_text(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name, ""))
    except (ValueError, IndexError, AttributeError):
        return ""


def with_transport_headers(raw: bytes, from_address: str) -> bytes:
    """`raw` with a Date and a Message-ID (on the sender's domain) added when it lacks them, as
    the API's mails have them: a relay may refuse, and a receiver mark as spam, a mail without
    (RFC 6409 8.2, 8.3). Everything else is passed on byte for byte."""
    head = raw.split(b"\r\n\r\n", 1)[0].lower()
    lines = head.split(b"\r\n")
    added = b""
    if not any(line.startswith(b"date:") for line in lines):
        added += f"Date: {formatdate(localtime=False, usegmt=True)}\r\n".encode()
    if not any(line.startswith(b"message-id:") for line in lines):
        added += f"Message-ID: {make_msgid(domain=domain_of(from_address))}\r\n".encode()
    return added + raw
