"""The expiring cache used for per-mail lookups: lifetimes, per-entry lifetimes, bounded size,
and the change generation that invalidates it on a write, across forked workers too."""

from __future__ import annotations

import os
import time

import pytest

from tempmail.ttl_cache import MISSING, Generation, SharedGeneration, TtlCache


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


def test_a_write_makes_what_was_read_before_it_stale() -> None:
    generation = Generation()
    cache: TtlCache[str, int] = TtlCache(seconds=60, generation=generation)
    other: TtlCache[str, int] = TtlCache(seconds=60, generation=generation)
    cache.put("a", 1)
    other.put("b", 2)
    cache.invalidate("a")
    assert (cache.get("a"), other.get("b")) == (MISSING, MISSING), "every cache sharing the generation"
    other.put("b", 3)
    assert other.get("b") == 3


async def test_fetch_keeps_a_value_loaded_during_a_write_as_stale() -> None:
    generation = Generation()
    cache: TtlCache[str, str] = TtlCache(seconds=60, generation=generation)

    async def load_while_someone_writes() -> str:
        value = "old"  # read from the database...
        generation.bump()  # ...while a write commits elsewhere
        return value

    assert await cache.fetch("k", load_while_someone_writes) == "old"
    assert cache.get("k") is MISSING, "not served again: it may predate the write"

    async def load() -> str:
        return "new"

    assert await cache.fetch("k", load) == "new"
    assert cache.get("k") == "new"


def test_without_a_generation_invalidate_is_local() -> None:
    cache: TtlCache[str, int] = TtlCache(seconds=60)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.invalidate("a")
    assert (cache.get("a"), cache.get("b")) == (MISSING, 2)


def test_a_shared_generation_counts_every_bump_of_every_forked_worker() -> None:
    """Two processes bumping at the same time lose none (each has its own slot)."""
    generation = SharedGeneration(2)
    bumps = 200_000
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            generation.use_slot(1)
            for _ in range(bumps):
                generation.bump()
            code = 0
        finally:
            os._exit(code)
    for _ in range(bumps):
        generation.bump()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert generation.current() == 2 * bumps


def test_a_worker_slot_must_exist() -> None:
    with pytest.raises(ValueError):
        SharedGeneration(2).use_slot(2)
