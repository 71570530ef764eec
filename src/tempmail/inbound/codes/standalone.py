"""Codes printed as one token: "483920", "F4K9R", "Q7X4RK2".

A lone number of 4-8 digits, or an upper-case token of 5-10 letters and digits (5 for Steam
Guard) with at least one digit and two letters. That shape alone says little: most such tokens
of a mail are order numbers, prices or product names, which the hostile-context checks and the
keyword scoring sort out.
"""

from __future__ import annotations

import re

from tempmail.inbound.codes.candidates import Candidate, hostile_neighbours, inside

_PRODUCT_RE = re.compile(r"[0-9]+(?:GB|MB|TB|KB|MP|MM|CM|HZ|KG|ML|K|P|W|V|X|G|FPS)")


def _single_kind(token: str) -> bool | None:
    """Whether a lone token can be a code: True numeric, False alphanumeric, None not a code.

    Alphanumeric codes must be upper case with at least one digit and two letters: that keeps
    out words, hex hashes, product names (128GB) and mixed-case URL tokens.
    """
    if token.isdigit():
        return True if 4 <= len(token) <= 8 else None
    if (
        5 <= len(token) <= 10
        and token.upper() == token
        and any(c.isdigit() for c in token)
        and sum(c.isalpha() for c in token) >= 2
        and not _PRODUCT_RE.fullmatch(token)
    ):
        return False
    return None


def standalone_candidates(
    text: str, runs: list[re.Match[str]], blocked: list[tuple[int, int]], taken: set[int], room: int
) -> list[Candidate]:
    """The lone tokens among `runs` that can be codes, at most `room` of them; a run beginning
    at an offset in `taken` is part of a code printed in parts."""
    found: list[Candidate] = []
    for match in runs:
        if len(found) >= room:
            break
        token, start, end = match.group(0), match.start(), match.end()
        if start in taken:
            continue
        kind = _single_kind(token)
        if kind is None or inside(blocked, start, end) or hostile_neighbours(text, start, end, kind):
            continue
        found.append(Candidate(token, token, start, end, kind))
    return found
