"""How busy receiving is: the signal that background work after a commit gives way by."""

from __future__ import annotations

import math
import time


class IngestMeter:
    """How busy receiving is, for work that gives way to it (see `tempmail.inbound.mail_stored`).

    A mail is "being received" from the end of DATA to its answer. `clock` runs only while at
    least one is, so its advance over an interval is the share of it spent receiving: near all
    of it during a burst, a few per cent under light traffic.
    """

    def __init__(self) -> None:
        self.receiving = 0
        self._busy_since = 0.0
        self._busy_total = 0.0
        self._last_answer = -math.inf

    def enter(self) -> None:
        if self.receiving == 0:
            self._busy_since = time.monotonic()
        self.receiving += 1

    def leave(self) -> None:
        self.receiving -= 1
        self._last_answer = time.monotonic()
        if self.receiving == 0:
            self._busy_total += self._last_answer - self._busy_since

    def clock(self) -> float:
        """Seconds so far during which at least one mail was being received."""
        ongoing = time.monotonic() - self._busy_since if self.receiving else 0.0
        return self._busy_total + ongoing

    def active(self, within: float) -> bool:
        """A mail is being received, or one was answered less than `within` seconds ago."""
        return self.receiving > 0 or time.monotonic() - self._last_answer < within
