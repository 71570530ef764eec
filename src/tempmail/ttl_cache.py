"""A small in-memory cache whose entries expire, for lookups made on every received mail."""

from __future__ import annotations

import time
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

MISSING = object()


class TtlCache(Generic[K, V]):
    """Entries live `seconds`; past `max_entries` the expired ones are dropped (and, if that is
    not enough, everything), so memory stays bounded however many keys pass through."""

    def __init__(self, seconds: float, max_entries: int = 10_000) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | object:
        """The value, or MISSING when absent or expired."""
        hit = self._entries.get(key)
        if hit is None or hit[0] < time.monotonic():
            return MISSING
        return hit[1]

    def put(self, key: K, value: V, seconds: float | None = None) -> None:
        """Keep `value` for the cache's lifetime, or for `seconds` when given (a DNS TTL)."""
        now = time.monotonic()
        if len(self._entries) >= self.max_entries:
            self._entries = {k: hit for k, hit in self._entries.items() if hit[0] >= now}
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
        self._entries[key] = (now + (self.seconds if seconds is None else seconds), value)

    def pop(self, key: K) -> None:
        self._entries.pop(key, None)
