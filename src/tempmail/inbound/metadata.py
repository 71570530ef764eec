"""The text of `raw_mails.metadata` (COMPAT §12): what the extraction found in a mail.

The reference's shape, as its JSON.stringify writes it:
`{"ai_extract":{"type":…,"result":…,"result_text":…},"extracted_at":"<ISO-8601 UTC>"}`; the API
returns it as that string. Written by `tempmail.events.extraction`, read back for webhook tests.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

RESULT_TYPES = ("auth_code", "auth_link", "service_link", "subscription_link", "other_link")
Result = dict[str, str]


def as_result(answer: Any) -> Result | None:
    """An extraction answer (JSON text or an object) as `{type, result, result_text}`, or None
    when it names nothing: type `none` or unknown, an empty result, not an object."""
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except ValueError:
            return None
    if not isinstance(answer, dict):
        return None
    found = {key: str(answer.get(key) or "") for key in ("type", "result", "result_text")}
    return found if found["type"] in RESULT_TYPES and found["result"] else None


def metadata_text(found: Result, now: datetime | None = None) -> str:
    """The column's text for a result, stamped `now` (milliseconds, `Z`, as JavaScript's)."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    extracted_at = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    document = {"ai_extract": found, "extracted_at": extracted_at}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def stored_result(metadata: str | None) -> Result | None:
    """The result a stored row's `metadata` holds, if any."""
    try:
        decoded = json.loads(metadata or "null")
    except ValueError:
        return None
    return as_result(decoded.get("ai_extract")) if isinstance(decoded, dict) else None
