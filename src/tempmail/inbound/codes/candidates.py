"""What every code candidate shares, however it was printed: the record, and the hostile contexts.

A code candidate is a run of text that could be the code (`delimited` and `standalone` find
them). Wherever it was found, it is dropped when it sits inside a URL or an e-mail address, or
when the characters around it make it part of a date, time, price, phone number, path, colour or
a longer number: no keyword nearby can make those a code.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from tempmail.inbound.codes.document import url_matches

MAX_CANDIDATES = 3_000
# A run of letters and digits that holds a digit: where every candidate starts or ends.
DIGIT_RUN_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]*[0-9][A-Za-z0-9]*")


@dataclass(slots=True)
class Candidate:
    """A possible code: where it stands, what it is reported as, and (once scored) how likely."""

    value: str  # as reported
    key: str  # for merging occurrences (separators removed, upper-cased)
    start: int
    end: int
    numeric: bool
    score: float = 0.0
    keyword: float = 0.0


_CURRENCY_BEFORE = "$€£¥￥₩₽₹฿₫"
_CURRENCY_WORD_BEFORE_RE = re.compile(
    r"(?<![^\W\d_])(?:rs|inr|usd|eur|gbp|rmb|cny|jpy|krw|chf|r\$|us\$|hk\$)\.?$", re.IGNORECASE
)
_AFTER_UNIT_RE = re.compile(
    r"\s?(?:[年月日時时分秒号號元円원€%％$₽]|"
    r"(?:px|pt|em|ms|kg|km|mb|gb|tb|kb|mins?|minutes?|hours?|hrs?|days?|secs?|seconds?|lbs?|usd|eur|gbp|"
    r"cny|rmb|jpy|krw|rub|dollars?|euros?|yuan|yen|won|руб|мин|сек|ч)(?![^\W\d_])|"
    r"[人件个個名位回次点歳岁살개명층호室楼樓階]|р\.)",
    re.IGNORECASE,
)
# The lookbehind makes a match start only at the beginning of a run: no quadratic backtracking.
_EMAIL_RE = re.compile(r"(?<![\w.%+\-])[\w.%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")


def blocked_spans(text: str) -> list[tuple[int, int]]:
    """URLs and e-mail addresses: numbers inside them are never codes."""
    spans = [m.span() for m in url_matches(text)]
    if "@" in text:
        spans += [m.span() for m in _EMAIL_RE.finditer(text)]
    return sorted(spans)


def inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether `start:end` overlaps one of the sorted `spans` (`blocked_spans`)."""
    index = bisect.bisect_right(spans, (start, 10**12)) - 1
    return any(s < end and start < e for s, e in spans[max(0, index - 2) : index + 2])


def _char(text: str, index: int) -> str:
    return text[index] if 0 <= index < len(text) else ""


def hostile_neighbours(text: str, start: int, end: int, numeric: bool) -> bool:
    """True when the characters around a token make it part of something that is not a code."""
    before, after = _char(text, start - 1), _char(text, end)
    before2, after2 = _char(text, start - 2), _char(text, end + 1)
    if (before and before in "_#＃№+*/\\@=&?%.") or (after and after in "_*/\\@=%％"):
        return True  # #333333, +49 ..., 139****2046, /path/1234, a=1234, 1234%
    if (before and before in ".,:" and before2.isdigit()) or (after and after in ".:" and after2.isdigit()):
        return True  # 1,250.00  14:32  203.0.113.42  18.236.120
    if after == "," and text[end + 1 : end + 3].isdigit():
        # 1299,00 €, 4821,4822; but in "493027，5分钟" (NFKC makes the Chinese comma ",") a code and a count
        return True
    if (before and before in "-–" and before2.isalnum()) or (after and after in "-–" and after2.isalnum()):
        return True  # 2025-03-12  1-800-935-9935  SF-123  3F9A2C1E-0004
    if numeric and ((before == " " and before2.isdigit()) or (after == " " and after2.isdigit())):
        return True  # 4000 960 960, 0800 887 0463: a phone number or a long spaced id
    window = text[max(0, start - 5) : start].rstrip()
    if (window and window[-1] in _CURRENCY_BEFORE) or _CURRENCY_WORD_BEFORE_RE.search(window):
        return True  # $1299, ¥128, Rs. 5000, EUR 20
    if _AFTER_UNIT_RE.match(text, end):
        return True  # 2025年, 3000 ms, 1299 руб., 950 円
    return bool(re.match(r"\s?\.[0-9]", text[end : end + 3]))
