"""Mail rows as the API shows them: the stored row, or the row with parsed fields."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from tempmail.db.mails import raw_bytes
from tempmail.inbound.parse import parse_mail


def mail_row(row: Any) -> dict[str, Any]:
    """A mail row as the API returns it: every column, `raw` as text, never `raw_blob`.

    Bytes that are not UTF-8 are shown with U+FFFD in `raw`; the parsed-mail routes read the
    exact stored bytes and decode each part with its declared charset.
    """
    raw = row.raw if row.raw_blob is None else raw_bytes(row).decode("utf-8", errors="replace")
    return {
        "id": row.id,
        "message_id": row.message_id,
        "source": row.source,
        "address": row.address,
        "raw": raw,
        "metadata": row.metadata,
        "created_at": row.created_at,
    }


def stored_raw(row: Any) -> bytes:
    """The exact bytes a stored mail row holds, whether they were kept compressed or not."""
    return raw_bytes(row)


def parsed_row(row: Any) -> dict[str, Any]:
    """The row without `raw`, plus sender, subject, text, html and the attachment list, and
    nothing else (the code or link found in it is in `metadata`, as in the reference)."""
    shown = mail_row(row)
    shown.pop("raw")
    shown.update(parse_mail(raw_bytes(row)).api_fields())
    return shown


async def parsed_rows(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Parse a page off the event loop: a few large mails must not stall SMTP and the API."""
    return await asyncio.to_thread(lambda: [parsed_row(row) for row in rows])
