"""The verification corpus: real-looking mails, each with the answer the extractor should give.

Two parts, read alike:

* `eml/`: whole messages as a mail server receives them (`*.eml`), their answers and languages
  in `eml/expected.json` (`{"file.eml": {"type": ..., "result": ..., "language": ...}}`).
* `cases/<language>.json`: shorter mails written as data, a list per language. A case has an
  `id`, a `subject`, a `text` and/or an `html` body (a string, or a list of lines joined with
  line breaks), the expected `type` (`auth_code`, `auth_link` or `none`) and `result` (the code
  or the URL, `""` for none) and, where the extractor is known to get it wrong, `known_miss`:
  why. The answer is always the true one, never what the extractor happens to say.

Read by test_codes.py, test_cases.py and bench/codes.py, which score it with `Tally`.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

HERE = Path(__file__).parent
EML = HERE / "eml"
CASES = HERE / "cases"
TYPES = ("auth_code", "auth_link", "none")
CASE_KEYS = {"id", "subject", "text", "html", "type", "result", "known_miss"}


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
            if unknown := set(case) - CASE_KEYS:  # a misspelt "known_miss" would pass unnoticed
                raise ValueError(f"{path.name}: case {case.get('id')!r} has unknown keys {sorted(unknown)}")
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


@dataclass
class Tally:
    """Right and wrong answers over some mails: precision, recall and false positives."""

    mails: int = 0
    right: int = 0
    reported: int = 0  # mails for which a code or a link was given
    reported_right: int = 0
    answerable: int = 0  # mails whose true answer is a code or a link
    found: int = 0
    nothing: int = 0  # mails whose true answer is "none"
    false_alarms: int = 0  # of those, the ones for which something was reported anyway
    misses: list[str] = field(default_factory=list)

    def add(self, mail: Mail, got_type: str, got_result: str) -> None:
        right = (got_type, got_result) == (mail.type, mail.result)
        self.mails += 1
        self.right += right
        if got_type != "none":
            self.reported += 1
            self.reported_right += right
        if mail.type == "none":
            self.nothing += 1
            self.false_alarms += got_type != "none"
        else:
            self.answerable += 1
            self.found += right
        if not right:
            self.misses.append(
                f"{mail.name}: got {got_type} {got_result!r}, want {mail.type} {mail.result!r}"
            )

    @property
    def precision(self) -> float:
        """Of the answers given, the share that is exactly right."""
        return self.reported_right / self.reported if self.reported else 1.0

    @property
    def recall(self) -> float:
        """Of the mails that have an answer, the share found exactly."""
        return self.found / self.answerable if self.answerable else 1.0

    @property
    def false_alarm_rate(self) -> float:
        """Of the mails that ask for nothing, the share for which something was reported."""
        return self.false_alarms / self.nothing if self.nothing else 0.0
