"""Counters in the `settings` table (value = the count as integer text), each change one atomic
statement, so several nodes on one PostgreSQL never lose or double a count.

A read-then-write through the JSON store would let two nodes both see "999 of 1000" and both
let a request through; an UPDATE whose WHERE holds the limit is decided under the row lock.
"""

from __future__ import annotations

from sqlalchemy import Integer, Text, cast, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from tempmail.db.tables import settings, utcnow


class CounterStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    async def take(self, key: str, limit: int) -> bool:
        """Count one more under `key` if the count is still below `limit`: True when counted,
        False when the limit was already reached (nothing changes then)."""
        count = cast(settings.c.value, Integer)
        below = (
            update(settings)
            .where(settings.c.key == key, count < limit)
            .values(value=cast(count + 1, Text), updated_at=utcnow())
        )
        first = (
            self._insert(settings)
            .values(key=key, value="1")
            .on_conflict_do_nothing(index_elements=[settings.c.key])
        )
        async with self.engine.begin() as conn:
            if (await conn.execute(below)).rowcount > 0:
                return True
            if limit < 1:
                return False
            if (await conn.execute(first)).rowcount > 0:
                return True
            # Another request created the row between the two statements: decide on it.
            return (await conn.execute(below)).rowcount > 0

    async def drop_before(self, prefix: str, current: str) -> None:
        """Delete the counters under `prefix` that sort before `current` (with the period
        first in the key: the counters of past periods)."""
        statement = delete(settings).where(
            settings.c.key.startswith(prefix, autoescape=True), settings.c.key < current
        )
        async with self.engine.begin() as conn:
            await conn.execute(statement)
