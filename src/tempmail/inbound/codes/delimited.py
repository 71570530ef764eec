"""Codes printed in parts: "4 8 3 9 2 0" (a digit per box or table cell), "483 920", "123-456",
"AB12-CD34".

Services split long codes to make them easier to read and type. The parts become one candidate:
spaces are presentation and are dropped from the value, a dash is kept (sites accept it, and
"AB12-CD34" is how the user sees it). A part of such a code is never a candidate of its own.
"""

from __future__ import annotations

import re

from tempmail.inbound.codes.candidates import Candidate, hostile_neighbours, inside

_RUN_RE = re.compile(r"[A-Za-z0-9]+")
_RUN_TAIL_RE = re.compile(r"[A-Za-z0-9]{1,6}$")  # with endpos: the run that ends there
# Digits shown one per box: "4 8 3 9 2 0", or one per table cell.
_SPACED_DIGITS_RE = re.compile(
    r"(?<![0-9A-Za-z])(?<![0-9][ \t])[0-9](?:[ \t]{1,2}[0-9]){3,7}(?![ \t]{0,2}[0-9A-Za-z])"
)


def _pair_value(left: str, sep: str, right: str) -> tuple[str, bool] | None:
    """A code printed in two halves ("483 920", "123-456", "AB12-CD34"): (value, numeric) or None.

    Spaces are presentation and are dropped from the value; a dash is usually part of what the
    site accepts, so it is kept.
    """
    if left.isdigit() and right.isdigit():
        if len(left) == len(right) and (sep == " " or len(left) == 3):
            return (left + right if sep == " " else f"{left}-{right}"), True
        return None
    token = left + right
    if (
        sep == "-"
        and token.upper() == token
        and any(c.isdigit() for c in token)
        and sum(c.isalpha() for c in token) >= 2
        and 6 <= len(token) <= 10
    ):
        return f"{left}-{right}", False
    return None


def _pairs(text: str, runs: list[re.Match[str]]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Two runs of 3-5 characters with one space or dash between ("483 920", "AB12-CD34"), at
    least one of them among `runs` (the runs that hold a digit), in the order of the text."""
    pairs: dict[int, tuple[tuple[int, int], tuple[int, int]]] = {}
    for run in runs:
        start, end = run.span()
        if start >= 4 and text[start - 1] in " -":
            left = _RUN_TAIL_RE.search(text, max(0, start - 7), start - 1)
            # the whole run, not the tail of a longer one
            if left is not None and (left.start() == 0 or not _RUN_RE.match(text, left.start() - 1)):
                pairs[left.start()] = (left.span(), (start, end))
        if end < len(text) - 1 and text[end] in " -" and (right := _RUN_RE.match(text, end + 1)):
            pairs[start] = ((start, end), right.span())
    return [pairs[start] for start in sorted(pairs)]


def delimited_candidates(
    text: str, runs: list[re.Match[str]], blocked: list[tuple[int, int]]
) -> tuple[list[Candidate], set[int]]:
    """The codes printed in parts in `text` (spaced digits first, then pairs), and the offsets they
    take up, where no standalone token may begin."""
    found: list[Candidate] = []
    used: set[int] = set()
    # digits shown one per box ("4 8 3 9 2 0", one per table cell)
    for match in _SPACED_DIGITS_RE.finditer(text):
        start, end = match.span()
        if inside(blocked, start, end) or hostile_neighbours(text, start, end, True):
            continue
        value = re.sub(r"\s", "", match.group(0))
        found.append(Candidate(value, value, start, end, True))
        used.update(range(start, end))
    for (start, middle), (right_start, end) in _pairs(text, runs):
        a, b = text[start:middle], text[right_start:end]
        if not (3 <= len(a) <= 5 and 3 <= len(b) <= 5):
            continue
        pair = _pair_value(a, text[middle], b)
        if pair is None or start in used:
            continue
        value, numeric = pair
        if inside(blocked, start, end) or hostile_neighbours(text, start, end, numeric):
            continue
        found.append(Candidate(value, (a + b).upper(), start, end, numeric))
        used.update((start, right_start))
    return found, used
