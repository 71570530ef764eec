"""The corpus written as data (cases/<language>.json, described in corpus.py): one test per mail.

Each test is named `<language>/<id>`, so a wrong answer names the mail. A case marked
`known_miss` is one the extractor gets wrong today: it keeps its true answer and runs as a strict
xfail, so every run shows how many known misses there are, and a change that makes one right
fails the run until its mark is removed.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tempmail.inbound.codes import extract
from tests.inbound.codes.corpus import TYPES, Mail, case_mails

CASES = case_mails()
MAX_KNOWN_MISS_SHARE = 0.1


def _param(mail: Mail) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=mail.known_miss)] if mail.known_miss else []
    return pytest.param(mail, id=mail.name, marks=marks)


@pytest.mark.parametrize("mail", [_param(mail) for mail in CASES])
def test_case(mail: Mail) -> None:
    got = extract(mail.subject, mail.text, mail.html)
    assert (got.type, got.result) == (mail.type, mail.result)


def test_cases_cover_languages_and_kinds() -> None:
    assert len({mail.name for mail in CASES}) == len(CASES), "case ids must be unique per language"
    languages = Counter(mail.language for mail in CASES)
    assert len(CASES) >= 200 and len(languages) >= 6 and min(languages.values()) >= 20, languages
    kinds = Counter(mail.type for mail in CASES)
    assert set(kinds) <= set(TYPES) and kinds["auth_link"] >= 30 and kinds["none"] >= 80, kinds
    for mail in CASES:
        assert mail.subject or mail.text or mail.html, mail.name
        assert (mail.result == "") == (mail.type == "none"), mail.name


def test_known_misses_stay_few() -> None:
    known = [mail.name for mail in CASES if mail.known_miss]
    assert len(known) < MAX_KNOWN_MISS_SHARE * len(CASES), known
