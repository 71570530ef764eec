"""A JSON body read as whatever was sent, for the routes whose checks are the reference's own
(types included) rather than a coercing model's."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request


async def json_or_none(request: Request) -> Any:
    """The body as JSON, or None when it is not JSON: those routes answer a malformed body as
    they answer one without the fields they need."""
    try:
        return await request.json()
    # Not JSON, not UTF-8 (UnicodeDecodeError is a ValueError), or nested deeper than the
    # parser goes (`[[[[...`: a RecursionError, which would be a 500).
    except (ValueError, RecursionError):
        return None
