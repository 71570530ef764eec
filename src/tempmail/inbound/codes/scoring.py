"""Which code candidate, if any, is the mail's one-time code.

Every candidate, however it was printed, is scored the same way: by how close a keyword of any
supported language is (a code is only reported when one is near: precision matters more than
recall, because a wrong "code" misleads the user), by its layout (alone on its line, after a
colon, emphasised), by its format (six digits is the usual code, a year or a date is not), and
penalised for order/phone/account words just before it, for address and legal-footer lines and
for a promo/postcode phrase governing it. The subject counts as one short line about the code;
a candidate both in the subject and the body gains. The best above `CODE_THRESHOLD` wins.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections import Counter

from tempmail.inbound.codes.candidates import (
    DIGIT_RUN_RE,
    MAX_CANDIDATES,
    Candidate,
    blocked_spans,
)
from tempmail.inbound.codes.delimited import delimited_candidates
from tempmail.inbound.codes.document import Document, Lines
from tempmail.inbound.codes.keywords import ID_CONTEXT_RE, KEYWORD_RE, Keyword, keywords_in
from tempmail.inbound.codes.standalone import standalone_candidates

CODE_THRESHOLD = 3.0
_YEAR_RE = re.compile(r"(?:19|20)[0-9]{2}")
_DATE8_RE = re.compile(r"(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])")
_DIGIT_RE = re.compile(r"[0-9]")


def code_candidates(text: str, blocked: list[tuple[int, int]]) -> list[Candidate]:
    """Every code candidate of `text`: the codes printed in parts, then the lone tokens."""
    # Every candidate holds a digit: the runs that have one, and their neighbours (the other
    # half of a pair), are all that need a look. Most runs of a mail are words.
    runs = list(itertools.islice(DIGIT_RUN_RE.finditer(text), MAX_CANDIDATES * 4))
    found, used = delimited_candidates(text, runs, blocked)
    return found + standalone_candidates(text, runs, blocked, used, MAX_CANDIDATES - len(found))


def _keyword_score(
    cand: Candidate, keywords: list[Keyword], starts: list[int], lines: Lines
) -> tuple[float, bool]:
    """Keyword support for a candidate, and whether a promo/postcode phrase governs it.

    Keywords before the code on its line count most ("Your code: 123456"), then keywords after
    it on the line ("123456 is your code"), then keywords on the few lines above ("Use this code:"
    with the code on a line of its own). A keyword right next to the code ("code is 1234",
    "1234 es tu código") is worth extra: that is how every code sentence is built.
    """
    text = lines.text
    line_no = lines.index(cand.start)
    first_line, seen = line_no, 0
    while first_line > 0 and seen < 3 and line_no - first_line < 20:
        first_line -= 1
        seen += not lines.blank(first_line)
    window_start = max(lines.starts[first_line], cand.start - 300)
    window_end = min(lines.bounds(line_no)[1], cand.end + 100)
    lo = bisect.bisect_left(starts, window_start)
    hi = bisect.bisect_right(starts, window_end)
    supports: list[float] = []
    nearest_before: Keyword | None = None
    adjacent = False
    for kw in keywords[lo:hi]:
        kw_line = lines.index(kw.start)
        if kw.end <= cand.start:
            gap = cand.start - kw.end
            if kw_line == line_no:
                factor = max(0.0, 1.0 - gap / 150)
                adjacent |= not kw.negative and gap <= 12 and not _DIGIT_RE.search(text, kw.end, cand.start)
            else:
                above = sum(1 for i in range(kw_line + 1, line_no + 1) if not lines.blank(i))
                factor = max(0.0, 0.85 - 0.15 * (above - 1) - gap / 600)
            if nearest_before is None or kw.end > nearest_before.end:
                nearest_before = kw
        elif kw.start >= cand.end and kw_line == line_no:
            gap = kw.start - cand.end
            factor = max(0.0, 0.9 - gap / 150)
            adjacent |= not kw.negative and gap <= 20 and not _DIGIT_RE.search(text, cand.end, kw.start)
        else:
            continue
        if not kw.negative and factor > 0:
            supports.append(kw.weight * factor)
    governed_by_negative = (
        nearest_before is not None
        and nearest_before.negative
        and lines.index(nearest_before.start) == line_no
        and cand.start - nearest_before.end <= 40
    )
    if not supports:
        return 0.0, governed_by_negative
    supports.sort(reverse=True)
    bonus = supports[0] + 0.25 * sum(1 for s in supports[1:4] if s >= 0.8)
    if adjacent:
        bonus += 0.75
        if text[max(0, cand.start - 3) : cand.start].strip().endswith((":", "：")):
            bonus += 0.5  # "Code: 4821", a label and its value
    return bonus, governed_by_negative


def _in_emphasis(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    index = bisect.bisect_right(spans, (start, 10**12)) - 1
    return any(s <= start and end <= e for s, e in spans[max(0, index - 3) : index + 1])


def _layout_score(doc: Document, cand: Candidate, lines: Lines) -> float:
    """How the code is presented: alone on its line, after a colon, emphasised."""
    text = doc.text
    line_start, line_end = lines.bounds(lines.index(cand.start))
    score = 0.0
    if line_end - line_start <= (cand.end - cand.start) + 16:
        bare = text[line_start:line_end].strip(" \t[]()【】「」<>:：-—–.,。!！*\"'")
        if bare == text[cand.start : cand.end]:
            score += 2.0  # the code alone on its line
    if not score and line_end - cand.end <= 4 and not text[cand.end : line_end].strip(" \t.。,)]】」!！"):
        score += 0.5  # "Label: code" ending the line
    if text[max(line_start, cand.start - 6) : cand.start].rstrip().endswith((":", "：")):
        score += 0.5
    if doc.emphasis and _in_emphasis(doc.emphasis, cand.start, cand.end):
        score += 1.5
    return score


def _format_score(cand: Candidate) -> float:
    """Six digits is by far the most common code; four-digit years and yyyymmdd dates are not codes."""
    if not cand.numeric:
        return 0.5
    digits = cand.key
    score = {4: -0.5, 6: 1.0}.get(len(digits), 0.0)
    if len(digits) == 4 and _YEAR_RE.fullmatch(digits):
        score -= 3.0
    if len(digits) == 8 and _DATE8_RE.fullmatch(digits):
        score -= 2.0
    return score


def _context_penalty(text: str, cand: Candidate, lines: Lines) -> float:
    """Order/phone/account/legal-id words just before the number, or an address line."""
    line_no = lines.index(cand.start)
    line_start = lines.starts[line_no]
    context = text[max(line_start, cand.start - 28) : cand.start]
    penalty = 0.0
    matches = list(ID_CONTEXT_RE.finditer(context))
    if matches and not KEYWORD_RE.search(context, matches[-1].end()):
        penalty += 6.0
    if lines.address(line_no):
        penalty += 3.0
    return penalty


def _score_document(doc: Document, *, is_subject: bool = False) -> list[Candidate]:
    text = doc.text
    keywords = keywords_in(text)
    if all(kw.negative for kw in keywords):
        # Only a keyword that is not negative supports a code (`_keyword_score`), and a
        # candidate without support is dropped: no need to look for candidates at all.
        return []
    blocked = blocked_spans(text)
    candidates = code_candidates(text, blocked)
    if not candidates:
        return []
    starts = [k.start for k in keywords]
    lines = Lines(text)
    per_line = Counter(lines.index(c.start) for c in candidates)
    scored: list[Candidate] = []
    for cand in candidates:
        keyword, negative = _keyword_score(cand, keywords, starts, lines)
        if keyword < 1.2:
            continue  # no keyword near: whatever this number is, nothing says it is a code
        score = keyword + _layout_score(doc, cand, lines) + _format_score(cand)
        line_no = lines.index(cand.start)
        line_start, line_end = lines.bounds(line_no)
        if is_subject or (per_line[line_no] == 1 and line_end - line_start <= 120 and keyword >= 1.5):
            score += 1.0  # a short line (or subject) about a code, with one number in it
        score -= _context_penalty(text, cand, lines) + (6.0 if negative else 0.0)
        cand.score, cand.keyword = score, keyword
        scored.append(cand)
    return scored


def find_code(subject: str, docs: list[Document]) -> Candidate | None:
    """The best-scored code of the subject and bodies, if one is good enough."""
    subject_doc = Document(" ".join(unicodedata.normalize("NFKC", subject).split()))
    subject_cands = _score_document(subject_doc, is_subject=True)
    in_subject = {c.key for c in code_candidates(subject_doc.text, blocked_spans(subject_doc.text))}
    body_cands = [c for doc in docs for c in _score_document(doc)]
    for cand in body_cands:
        if cand.key in in_subject:
            cand.score += 1.5  # the subject repeats what the body shows
    best: dict[str, Candidate] = {}
    order: dict[str, int] = {}
    for cand in [*subject_cands, *body_cands]:
        order.setdefault(cand.key, len(order))
        if cand.key not in best or cand.score > best[cand.key].score:
            best[cand.key] = cand
    ranked = sorted(best.values(), key=lambda c: (-c.score, order[c.key]))
    if ranked and ranked[0].score >= CODE_THRESHOLD:
        return ranked[0]
    return None
