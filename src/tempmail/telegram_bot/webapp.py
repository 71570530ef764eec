"""The mini app's proof of who is asking: Telegram WebApp `initData`, checked as Telegram documents
("Validating data received via the Mini App"): the fields but `hash`, sorted, joined by newlines,
signed with HMAC-SHA256 under HMAC-SHA256("WebAppData", bot token). python-telegram-bot has no
helper for it; the standard library's hmac does the signing, and the comparison is constant-time.

Init data older than MAX_AGE_SECONDS is refused, so a copy that leaked cannot be used for ever.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import parse_qsl

from tempmail.errors import ApiError

INVALID_INIT_DATA = "Invalid Telegram initData"
MAX_AGE_SECONDS = 24 * 3600


def _secret(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def sign_init_data(fields: dict[str, str], bot_token: str) -> str:
    """The `hash` of init data with these fields (what Telegram computes; tests sign with it)."""
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    return hmac.new(_secret(bot_token), check.encode(), hashlib.sha256).hexdigest()


def user_of(init_data: str, bot_token: str, now: float | None = None) -> tuple[str, str | None]:
    """The Telegram user id (as text) and language code that signed init data speak for; a 401
    for anything else (unsigned, tampered, stale, no user)."""
    try:
        fields = dict(parse_qsl(init_data, keep_blank_values=True, strict_parsing=True))
    except ValueError:
        raise ApiError(401, INVALID_INIT_DATA) from None
    given = fields.pop("hash", "")
    if not given or not hmac.compare_digest(sign_init_data(fields, bot_token), given):
        raise ApiError(401, INVALID_INIT_DATA)
    try:
        signed_at = int(fields.get("auth_date", ""))
        user = json.loads(fields.get("user", ""))
    except ValueError:
        raise ApiError(401, INVALID_INIT_DATA) from None
    if (now if now is not None else time.time()) - signed_at > MAX_AGE_SECONDS:
        raise ApiError(401, INVALID_INIT_DATA)
    if not isinstance(user, dict) or isinstance(user.get("id"), bool) or not isinstance(user.get("id"), int):
        raise ApiError(401, INVALID_INIT_DATA)
    language = user.get("language_code")
    return str(user["id"]), language if isinstance(language, str) else None
