"""The ingest meter that after-store work reads to give way to a burst."""

from __future__ import annotations

import time

from tempmail.inbound.ingest_meter import HORIZON_SECONDS, IngestMeter


def test_rate_counts_the_answers_of_the_last_moments() -> None:
    meter = IngestMeter()
    assert meter.rate(0.5) == 0.0
    for _ in range(10):
        meter.answered()
    assert meter.rate(0.5) == 20.0


def test_older_answers_no_longer_count() -> None:
    meter = IngestMeter()
    meter.answered()
    time.sleep(0.05)
    assert meter.rate(0.01) == 0.0
    assert meter.rate(HORIZON_SECONDS) == 1.0 / HORIZON_SECONDS
