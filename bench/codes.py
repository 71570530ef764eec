"""Verification-code extraction on the test corpus: how often it is right, how often it cries wolf, how fast.

    python bench/codes.py                # the .eml files and the written cases
    python bench/codes.py --misses       # also every wrong answer
    python bench/codes.py --repeat 50    # more passes for a steadier mails/s

The corpus is tests/inbound/codes/ (eml/ and cases/, see corpus.py there): real-looking mails,
each with its true answer, a code, a link or nothing. Precision: of the answers given, the share
exactly right. Recall: of the mails that have an answer, the share found exactly. False
positives, two ways: the share of the mails that ask for nothing for which something was
reported, and the share of all reports that are wrong (1 - precision). Cases marked known_miss
count as the wrong answers they are. Throughput is `extract` alone on mails already parsed, one
core, best of --repeat passes. Needs no server. Prints figures; no thresholds (the tests have them).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.inbound.codes.corpus import Mail, Tally, case_mails, eml_mails

from tempmail.inbound.codes import extract


def tally(mails: list[Mail]) -> tuple[Tally, dict[str, Tally]]:
    """All mails, and the mails of each language."""
    total = Tally()
    per_language: defaultdict[str, Tally] = defaultdict(Tally)
    for mail in mails:
        got = extract(mail.subject, mail.text, mail.html)
        total.add(mail, got.type, got.result)
        per_language[mail.language].add(mail, got.type, got.result)
    return total, dict(sorted(per_language.items(), key=lambda item: -item[1].mails))


def throughput(mails: list[Mail], repeat: int) -> float:
    """Mails per second, the best of `repeat` passes over all of them."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for mail in mails:
            extract(mail.subject, mail.text, mail.html)
        best = min(best, time.perf_counter() - started)
    return len(mails) / best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=10, help="passes for the mails/s figure")
    parser.add_argument("--misses", action="store_true", help="list every wrong answer")
    args = parser.parse_args()
    eml, cases = eml_mails(), case_mails()
    mails = eml + cases
    total, per_language = tally(mails)
    known = sum(bool(mail.known_miss) for mail in cases)
    print(f"corpus  {len(mails)} mails: {len(eml)} .eml files, {len(cases)} cases ({known} known misses)")
    kinds = Counter((mail.language, mail.type) for mail in mails)
    print(f"{'language':<10}{'mails':>6}{'code':>6}{'link':>6}{'none':>6}{'right':>7}")
    for language, part in per_language.items():
        counts = "".join(f"{kinds[language, kind]:>6}" for kind in ("auth_code", "auth_link", "none"))
        print(f"{language:<10}{part.mails:>6}{counts}{part.right:>7}")
    given, answerable = f"{total.reported_right} of {total.reported}", f"{total.found} of {total.answerable}"
    print(f"precision        {total.precision:.1%} ({given} answers given are right)")
    print(f"recall           {total.recall:.1%} ({answerable} mails with an answer got it)")
    print(
        f"false positives  {total.false_alarm_rate:.1%} of the mails that ask for nothing got an answer "
        f"({total.false_alarms} of {total.nothing}); {1 - total.precision:.1%} of all answers are wrong"
    )
    print(f"throughput       {throughput(mails, args.repeat):,.0f} mails/s (extract only, one core)")
    if args.misses:
        print("misses:", *total.misses, sep="\n  ")


if __name__ == "__main__":
    main()
