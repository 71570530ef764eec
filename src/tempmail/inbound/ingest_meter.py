"""How busy receiving is: the signal that background work after a commit gives way by."""

from __future__ import annotations

import time
from collections import deque

# The longest look back `rate` is asked for; older answers are forgotten.
HORIZON_SECONDS = 1.0


class IngestMeter:
    """How fast mail is being received, for work that gives way to it (see
    `tempmail.inbound.mail_stored`): the answers given (end of DATA to its reply) over the last
    moments. A burst is hundreds a second; a busy site's steady traffic a few."""

    def __init__(self) -> None:
        self._answers: deque[float] = deque()

    def answered(self) -> None:
        """A mail has been answered (stored, refused or failed)."""
        now = time.monotonic()
        self._answers.append(now)
        while self._answers[0] < now - HORIZON_SECONDS:
            self._answers.popleft()

    def rate(self, within: float) -> float:
        """Mails answered per second over the last `within` seconds (at most HORIZON_SECONDS)."""
        since = time.monotonic() - within
        count = 0
        for answered in reversed(self._answers):
            if answered < since:
                break
            count += 1
        return count / within
