"""The verification corpus: real-looking mails, each with the answer the extractor should give.

Two parts, read alike:

* `eml/`: whole messages as a mail server receives them (`*.eml`), their answers and languages
  in `eml/expected.json` (`{"file.eml": {"type": ..., "result": ..., "language": ...}}`).
* `cases/<language>.json`: shorter mails written as data, a list per language. A case has an
  `id`, a `subject`, a `text` and/or an `html` body (a string, or a list of lines joined with
  line breaks), the expected `type` (`auth_code`, `auth_link` or `none`) and `result` (the code
  or the URL, `""` for none) and, where the extractor is known to get it wrong, `known_miss`:
  why. The answer is always the true one, never what the extractor happens to say.

Read by test_codes.py, test_cases.py and bench/codes.py.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

HERE = Path(__file__).parent
EML = HERE / "eml"
CASES = HERE / "cases"
TYPES = ("auth_code", "auth_link", "none")


@dataclass(frozen=True)
class Mail:
    """A corpus mail and its true answer."""

    name: str  # "chase_one_time_code.eml", or "<language>/<id>" for a case
    language: str
    subject: str
    text: str
    html: str
    type: str
    result: str
    known_miss: str = ""  # why the extractor gets this one wrong; "" when it should be right


def _part_text(part: Message) -> str:
    """A text part's content; falls back to a lenient decode when the charset is odd."""
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except Exception:
        pass
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    with contextlib.suppress(LookupError):
        return payload.decode(charset, "replace")
    return payload.decode("utf-8", "replace")


def load_mail(name: str) -> tuple[str, str, str]:
    """(subject, text body, html body) of an .eml file, the way a mail server would see them."""
    message = email.message_from_bytes((EML / name).read_bytes(), policy=email.policy.default)
    try:
        subject = str(message["subject"] or "")
    except Exception:
        subject = ""
    text = html = ""
    for part in message.walk():
        if part.is_multipart():
            continue
        mime = part.get_content_type()
        if mime == "text/plain" and not text:
            text = _part_text(part)
        elif mime == "text/html" and not html:
            html = _part_text(part)
    return subject, text, html


def eml_expected() -> dict[str, dict[str, str]]:
    expected: dict[str, dict[str, str]] = json.loads((EML / "expected.json").read_text("utf-8"))
    return expected


def eml_mails() -> list[Mail]:
    return [
        Mail(name, answer["language"], *load_mail(name), answer["type"], answer["result"])
        for name, answer in sorted(eml_expected().items())
    ]


def _body(value: str | list[str] | None) -> str:
    return "\n".join(value) if isinstance(value, list) else value or ""


def case_mails() -> list[Mail]:
    mails: list[Mail] = []
    for path in sorted(CASES.glob("*.json")):
        for case in json.loads(path.read_text("utf-8")):
            mails.append(
                Mail(
                    f"{path.stem}/{case['id']}",
                    path.stem,
                    case.get("subject", ""),
                    _body(case.get("text")),
                    _body(case.get("html")),
                    case["type"],
                    case["result"],
                    case.get("known_miss", ""),
                )
            )
    return mails
