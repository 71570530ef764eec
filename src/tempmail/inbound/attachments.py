"""Attachment removal on receive (REMOVE_ALL_ATTACHMENT, REMOVE_EXCEED_SIZE_ATTACHMENT).

Each removed attachment becomes a short text/plain part naming what was there, so the stored
message stays valid MIME and the reader knows something was taken out. Parsing and
re-serialising use the stdlib `email` package; headers the sender wrote are kept as written.
"""

from __future__ import annotations

import base64
from email import policy
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from io import BytesIO

from tempmail.inbound.parse import attachment_parts

# Above this size a message loses its attachments when REMOVE_EXCEED_SIZE_ATTACHMENT is on (the
# reference's limit: what one database row of its storage could hold).
EXCEED_SIZE = 1024 * 1024
# Serialise without re-folding or re-encoding the headers we did not touch.
_KEEP = policy.compat32.clone(linesep="\r\n", max_line_length=0)


def strip_attachments(raw: bytes) -> bytes:
    """`raw` with every attachment replaced by a note; `raw` itself when it has none."""
    try:
        message = BytesParser(policy=_KEEP).parsebytes(raw)
    except Exception:
        return raw
    parts = attachment_parts(message)
    if not parts:
        return raw
    for part, attachment in parts:
        _replace_with_note(part, attachment.filename or attachment.mime_type, attachment.size)
    out = BytesIO()
    BytesGenerator(out, policy=_KEEP, mangle_from_=False).flatten(message)
    return out.getvalue()


def _replace_with_note(part: Message, name: str, size: int) -> None:
    for header in list(part.keys()):
        if header.lower().startswith("content-"):
            del part[header]
    note = f"[attachment removed by the mail server: {name}, {size} bytes]\r\n"
    part["Content-Type"] = 'text/plain; charset="utf-8"'
    part["Content-Transfer-Encoding"] = "base64"
    part["Content-Disposition"] = "inline"
    part.set_payload(base64.encodebytes(note.encode("utf-8")).decode("ascii"))
