"""A small in-memory cache whose entries expire, for lookups made on every received mail, and
the change generation that lets a write in one worker of a server invalidate the caches of all.
"""

from __future__ import annotations

import mmap
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar, cast

K = TypeVar("K")
V = TypeVar("V")

MISSING = object()
_SLOT_BYTES = 8


class Generation:
    """A count of writes to what caches hold: a cached value read at generation g is stale once
    the count has moved past g. This one lives in the process (a server of one worker)."""

    __slots__ = ("_count",)

    def __init__(self) -> None:
        self._count = 0

    def current(self) -> int:
        return self._count

    def bump(self) -> None:
        """Call after a write is committed: every value cached before it reads as missing."""
        self._count += 1


class SharedGeneration(Generation):
    """The generation of a server of several forked workers, so that a write through one worker
    is seen through every other at once (a client saving a setting and reading it back on a new
    connection may reach another worker), where the caches' lifetime alone would leave up to
    five seconds of old values.

    It is one 8-byte slot per worker in an anonymous shared mapping, made by the parent before
    it forks. A worker bumps only its own slot, so two workers writing at once need no lock and
    lose no bump (a single shared counter incremented by read-then-write could lose one, or go
    back to an old value); the generation is the sum of the slots, which only ever grows.
    Reading it is a memory read, no system call (aligned 8-byte loads and stores are not torn on
    the machines we run on). Several nodes on one PostgreSQL database do not share it: between
    nodes the caches' lifetime still bounds how old a value can be.
    """

    __slots__ = ("_memory", "_mine", "_slots")

    def __init__(self, workers: int) -> None:
        super().__init__()
        # fileno -1: anonymous; mmap's default flags are MAP_SHARED, so forks see one memory.
        self._memory = mmap.mmap(-1, _SLOT_BYTES * workers)
        self._slots = memoryview(self._memory).cast("Q")
        self._mine = 0

    def use_slot(self, worker: int) -> None:
        """In a forked worker, before any write: bump slot `worker` from now on."""
        if not 0 <= worker < len(self._slots):
            raise ValueError(f"no slot {worker} among {len(self._slots)}")
        self._mine = worker

    def current(self) -> int:
        return sum(self._slots)

    def bump(self) -> None:
        self._slots[self._mine] += 1


class TtlCache(Generic[K, V]):
    """Entries live `seconds`; past `max_entries` the expired ones are dropped (and, if that is
    not enough, everything), so memory stays bounded however many keys pass through.

    With a `generation`, an entry also dies when the generation moves on from the one it was
    read at: `invalidate` (a write) then reaches every cache sharing the generation, in this
    process and, with a SharedGeneration, in every worker of the server."""

    def __init__(
        self, seconds: float, max_entries: int = 10_000, generation: Generation | None = None
    ) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self.generation = generation
        self._entries: dict[K, tuple[float, int, V]] = {}

    def _generation_now(self) -> int:
        return 0 if self.generation is None else self.generation.current()

    def get(self, key: K) -> V | object:
        """The value, or MISSING when absent, expired or older than the generation."""
        hit = self._entries.get(key)
        if hit is None or hit[0] < time.monotonic():
            return MISSING
        if self.generation is not None and hit[1] != self.generation.current():
            return MISSING
        return hit[2]

    def put(self, key: K, value: V, seconds: float | None = None, *, as_of: int | None = None) -> None:
        """Keep `value` for the cache's lifetime, or for `seconds` when given (a DNS TTL).

        `as_of` is the generation seen before the value was read (see `fetch`); by default the
        current one."""
        now = time.monotonic()
        if len(self._entries) >= self.max_entries:
            self._entries = {k: hit for k, hit in self._entries.items() if hit[0] >= now}
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
        stamp = self._generation_now() if as_of is None else as_of
        self._entries[key] = (now + (self.seconds if seconds is None else seconds), stamp, value)

    async def fetch(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The cached value, else what `load` returns, kept. The entry carries the generation
        seen before loading: a write committed while it loaded (its bump comes after its
        commit) leaves the entry stale, never a just-loaded old value passing for new."""
        cached = self.get(key)
        if cached is not MISSING:
            return cast(V, cached)
        as_of = self._generation_now()
        value = await load()
        self.put(key, value, as_of=as_of)
        return value

    def pop(self, key: K) -> None:
        """Forget `key` here only."""
        self._entries.pop(key, None)

    def invalidate(self, key: K) -> None:
        """After a committed write of `key`: gone here, and with a generation every entry read
        before now is stale, in every cache and worker sharing it."""
        self._entries.pop(key, None)
        if self.generation is not None:
            self.generation.bump()
