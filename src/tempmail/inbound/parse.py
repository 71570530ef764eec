"""MIME -> the fields the API shows: sender, subject, bodies, attachments.

Parsing uses the standard library's `email` package with `policy.default` (see `POLICY`). Real
mail is often broken (unknown charsets, missing boundaries, 8-bit headers, bad base64), and a
mail that was accepted must always be shown: every step here degrades to what can be read and
never raises.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage, Message
from email.parser import BytesParser
from typing import Any

_TEXT_TYPES = ("text/plain", "text/html")
_UNICODE_LABELS = ("utf-8", "utf8", "us-ascii", "ascii")


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    mime_type: str
    disposition: str
    size: int
    content_id: str

    def api_fields(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "mimeType": self.mime_type,
            "disposition": self.disposition,
            "size": self.size,
        }


@dataclass(frozen=True, slots=True)
class ParsedMail:
    sender: str = ""
    to: str = ""
    subject: str = ""
    date: str = ""
    message_id: str = ""
    text: str = ""
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)

    def api_fields(self) -> dict[str, Any]:
        """What the parsed-mail API adds to a mail row (cloudflare_temp_email's names)."""
        return {
            "sender": self.sender,
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
            "attachments": [a.api_fields() for a in self.attachments],
        }


class _StructureParsedOnce(HeaderRegistry):
    """policy.default's header factory, except that the headers that give a message its
    structure are parsed once per distinct value.

    `policy.default` builds a header object on every read, and the parser and the `Message`
    methods read Content-Type over and over (twenty-odd times for a text+HTML mail): that was
    most of the cost of parsing a mail. Header objects are never changed in place, and the same
    few values (`text/plain; charset="utf-8"`) come in mail after mail, so one object serves.
    """

    def __init__(self) -> None:
        super().__init__()
        self._parsed_once = functools.lru_cache(maxsize=1024)(super().__call__)
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        """The header class for `name`: the registry builds a new class on every call (every
        header read); one per name serves."""
        key = name.lower()
        if key not in self._classes:
            if len(self._classes) >= MAX_HEADER_CLASSES:  # names come from mail: keep it bounded
                self._classes.clear()
            self._classes[key] = super().__getitem__(name)
        return self._classes[key]

    def __call__(self, name: str, value: str) -> BaseHeader:
        if name.lower() in _STRUCTURE_HEADERS:
            return self._parsed_once(name, value)
        return super().__call__(name, value)


MAX_HEADER_CLASSES = 1024
_STRUCTURE_HEADERS = frozenset({"content-type", "content-disposition", "content-transfer-encoding"})
POLICY = policy.default.clone(header_factory=_StructureParsedOnce())


def header_block(raw: bytes) -> bytes:
    """The header lines of `raw`, through the blank line that ends them (CRLF or bare LF
    mail), or all of `raw` when no blank line follows."""
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        end = raw.find(b"\n\n")
    return raw if end < 0 else raw[: end + 2]


def _parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=POLICY).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def _header(message: Message, name: str) -> str:
    """A header as display text.

    8-bit bytes in a header (legal only with SMTPUTF8, common anyway) arrive as surrogate
    escapes; those are decoded as UTF-8, else Latin-1, instead of becoming U+FFFD. A header the
    policy cannot parse falls back to its raw text.
    """
    raw = next((str(v) for k, v in message.raw_items() if k.lower() == name.lower()), None)
    if raw is None:
        return ""
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        data = raw.encode("utf-8", "surrogateescape")
        return " ".join(_decode_text(data, None).split())
    try:
        return str(message.get(name)).strip()
    except Exception:
        return " ".join(raw.split())


def _payload_bytes(part: Message) -> bytes:
    """The decoded body bytes of a leaf part (base64/QP undone, leniently)."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _decode_text(data: bytes, charset: str | None) -> str:
    """Bytes in the declared charset, else UTF-8. When neither fits: a mail labelled UTF-8 or
    ASCII (or not labelled) is nearly always Latin-1 in truth; any other label keeps its charset
    with U+FFFD for the few bad bytes."""
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        with contextlib.suppress(LookupError, UnicodeDecodeError):
            return data.decode(candidate)
    label = (charset or "").lower().replace("_", "-")
    if label and label not in _UNICODE_LABELS:
        with contextlib.suppress(LookupError):
            return data.decode(label, errors="replace")
    return data.decode("latin-1")


def _text_of(part: Message) -> str:
    """A body part as text with `\n` line ends, as `EmailMessage.get_content` gives them."""
    charset = None
    with contextlib.suppress(Exception):
        charset = part.get_content_charset()
    return _decode_text(_payload_bytes(part), charset).replace("\r\n", "\n")


def _filename(part: Message) -> str:
    try:
        return part.get_filename() or ""
    except Exception:
        return ""


def _disposition(part: Message) -> str:
    try:
        return part.get_content_disposition() or ""
    except Exception:
        return ""


def _is_attachment(part: Message, mime_type: str) -> bool:
    if _disposition(part) == "attachment" or _filename(part):
        return True
    return mime_type not in _TEXT_TYPES


def _leaves(message: Message) -> list[tuple[Message, str]]:
    """Leaf parts in order, with their content type; message/rfc822 is kept whole (a leaf)."""
    found: list[tuple[Message, str]] = []
    stack: list[Message] = [message]
    while stack:
        part = stack.pop()
        try:
            mime_type = part.get_content_type()
        except Exception:
            mime_type = "application/octet-stream"
        children = part.get_payload() if part.is_multipart() else None
        if isinstance(children, list) and mime_type != "message/rfc822":
            stack.extend(reversed([c for c in children if isinstance(c, Message)]))
        else:
            found.append((part, mime_type))
    return found


def _attachment(part: Message, mime_type: str) -> tuple[Attachment, bytes]:
    if mime_type == "message/rfc822":
        inner = part.get_payload()
        enclosed = inner[0] if isinstance(inner, list) and inner else None
        data = enclosed.as_bytes() if isinstance(enclosed, Message) else _payload_bytes(part)
    else:
        data = _payload_bytes(part)
    content_id = _header(part, "Content-ID").strip("<>")
    disposition = _disposition(part) or ("inline" if content_id else "attachment")
    return Attachment(_filename(part), mime_type, disposition, len(data), content_id), data


def attachment_parts(message: Message) -> list[tuple[Message, Attachment]]:
    """The attachment leaves of a parsed message, with what the API says of each."""
    return [
        (part, _attachment(part, mime)[0]) for part, mime in _leaves(message) if _is_attachment(part, mime)
    ]


def _walk(raw: bytes) -> tuple[EmailMessage | None, str, str, list[tuple[Attachment, bytes]]]:
    """One pass over the message: (message, text, html, attachments with their bytes)."""
    try:
        message = _parse(raw)
    except Exception:
        return None, raw.decode("utf-8", "replace"), "", []
    text = html = ""
    attachments: list[tuple[Attachment, bytes]] = []
    for part, mime_type in _leaves(message):
        try:
            if _is_attachment(part, mime_type):
                attachments.append(_attachment(part, mime_type))
            elif mime_type == "text/plain" and not text:
                text = _text_of(part)
            elif mime_type == "text/html" and not html:
                html = _text_of(part)
        except Exception:
            continue
    return message, text, html, attachments


def parse_mail(raw: bytes) -> ParsedMail:
    """Every field that can be read; never raises."""
    message, text, html, attachments = _walk(raw)
    if message is None:
        return ParsedMail(text=text)
    return ParsedMail(
        sender=_header(message, "From"),
        to=_header(message, "To"),
        subject=_header(message, "Subject"),
        date=_header(message, "Date"),
        message_id=_header(message, "Message-ID"),
        text=text,
        html=html,
        attachments=[attachment for attachment, _ in attachments],
    )


def attachment_content(raw: bytes, index: int) -> tuple[Attachment, bytes] | None:
    """The index-th attachment (the order of ParsedMail.attachments) with its bytes."""
    _, _, _, attachments = _walk(raw)
    return attachments[index] if 0 <= index < len(attachments) else None
