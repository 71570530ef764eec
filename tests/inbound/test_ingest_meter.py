"""The ingest meter that after-store work reads to give way to a burst."""

from __future__ import annotations

import time

from tempmail.inbound.ingest_meter import IngestMeter


def test_clock_runs_only_while_a_mail_is_being_received() -> None:
    meter = IngestMeter()
    assert meter.clock() == 0.0 and not meter.active(1.0)
    meter.enter()
    meter.enter()  # two at once count once
    time.sleep(0.05)
    meter.leave()
    assert meter.active(0.0)
    time.sleep(0.05)
    meter.leave()
    received = meter.clock()
    assert received >= 0.1
    time.sleep(0.05)
    assert meter.clock() == received


def test_active_for_a_while_after_the_last_answer() -> None:
    meter = IngestMeter()
    meter.enter()
    meter.leave()
    assert meter.active(60.0)
    time.sleep(0.02)
    assert not meter.active(0.01)
