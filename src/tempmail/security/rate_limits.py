"""Per-client rate limits with back-off: how many events a key (a client IP) may cause within
a window, and how long it is refused once it has caused more.

A key that goes over its limit is refused for a penalty that starts at the window and doubles
with every further offence that follows a refusal within the next window (a guesser that keeps
going waits longer and longer, up to `max_block`); a key that stays quiet for a whole window
after its refusal ends starts again from nothing. Nothing is stored: the counts live in the
process, bounded in size, and each worker of a server keeps its own.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

# Keys remembered at most per limiter: past it the least recently seen are forgotten, so a
# flood from many addresses costs bounded memory (and forgets the quietest first).
MAX_KEYS = 100_000


@dataclass(slots=True)
class _Record:
    events: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0
    # The penalty of the latest refusal, doubled by the next offence that follows it closely.
    penalty: float = 0.0


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refused key: for how many more seconds, and whether this event started the refusal
    (so it is logged once per refusal, not once per request)."""

    retry_after: float
    started: bool


class RateLimiter:
    """At most `limit` events per `window` seconds per key; `limit` 0 lets everything through."""

    def __init__(
        self,
        limit: int,
        window: float,
        max_block: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_block = max(max_block, window)
        self._clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()

    def refused(self, key: str) -> float | None:
        """Seconds `key` is still refused for, or None when it may go ahead."""
        record = self._records.get(key)
        if record is None:
            return None
        left = record.blocked_until - self._clock()
        return left if left > 0 else None

    def record(self, key: str) -> Refusal | None:
        """Count one event of `key`; a Refusal when it is one too many (or `key` is refused)."""
        if self.limit <= 0:
            return None
        now = self._clock()
        record = self._records.get(key)
        if record is None:
            record = self._records[key] = _Record()
            if len(self._records) > MAX_KEYS:
                self._records.popitem(last=False)
        else:
            self._records.move_to_end(key)
        if record.blocked_until > now:
            return Refusal(record.blocked_until - now, started=False)
        events = record.events
        while events and events[0] <= now - self.window:
            events.popleft()
        events.append(now)
        if len(events) <= self.limit:
            return None
        recent_offence = record.penalty and now - record.blocked_until < self.window
        record.penalty = min(record.penalty * 2, self.max_block) if recent_offence else self.window
        record.blocked_until = now + record.penalty
        events.clear()
        return Refusal(record.penalty, started=True)
