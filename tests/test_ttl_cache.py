"""The expiring cache used for per-mail lookups: lifetimes, per-entry lifetimes, bounded size."""

from __future__ import annotations

import time

from tempmail.ttl_cache import MISSING, TtlCache


def test_entries_expire_after_the_cache_lifetime_or_their_own() -> None:
    cache: TtlCache[str, int] = TtlCache(seconds=60)
    cache.put("long", 1)
    cache.put("short", 2, seconds=0.05)
    assert (cache.get("long"), cache.get("short")) == (1, 2)
    time.sleep(0.1)
    assert (cache.get("long"), cache.get("short")) == (1, MISSING)


def test_size_stays_bounded() -> None:
    cache: TtlCache[int, int] = TtlCache(seconds=60, max_entries=10)
    for n in range(100):
        cache.put(n, n)
    assert cache.get(99) == 99
    assert sum(cache.get(n) is not MISSING for n in range(100)) <= 10
