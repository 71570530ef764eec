"""The `settings` table: admin-editable settings, kept as JSON text under a key.

Everything the reference keeps in Cloudflare KV lives here too, so tempmail needs no second
store. Hot paths (every received mail reads the account settings) use `get_cached`: a write
through this server is seen at once by every one of its workers (each write bumps the change
generation the workers share, see `tempmail.ttl_cache.SharedGeneration`), and a change made on
another node within CACHE_SECONDS, the cache's lifetime. Writes are upserts, so several nodes
racing on one key (the generated JWT secret at first start) cannot fail: the first writer of
`setdefault` wins and every node reads its value.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from tempmail.db.tables import settings, utcnow
from tempmail.ttl_cache import Generation, TtlCache

CACHE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Expiring:
    """A short-lived value (verification code, passkey challenge) as stored, for compare-and-set."""

    value: Any
    expires: float
    stored: str


def _live(stored: str) -> Expiring | None:
    """A stored short-lived value, unless it has expired (or is not one)."""
    decoded = json.loads(stored)
    if not isinstance(decoded, dict) or decoded.get("expires", 0) < time.time():
        return None
    return Expiring(decoded.get("value"), float(decoded["expires"]), stored)


class SettingsStore:
    def __init__(self, engine: AsyncEngine, generation: Generation | None = None) -> None:
        self.engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        # Caches of what is derived from these rows (the account settings) share it.
        self.generation = generation if generation is not None else Generation()
        self._cache: TtlCache[str, Any] = TtlCache(CACHE_SECONDS, generation=self.generation)

    async def get_cached(self, key: str, default: Any = None) -> Any:
        """`get`, served from memory for up to CACHE_SECONDS, or until a write."""
        value = await self._cache.fetch(key, lambda: self.get(key))
        return default if value is None else value

    async def get(self, key: str, default: Any = None) -> Any:
        value = await self._stored(key)
        return default if value is None else json.loads(value)

    async def _stored(self, key: str) -> str | None:
        """The JSON text under `key`, as stored (compare-and-set compares this text)."""
        async with self.engine.connect() as conn:
            value = await conn.scalar(select(settings.c.value).where(settings.c.key == key))
        return None if value is None else str(value)

    async def _swap(self, key: str, stored: str, encoded: str) -> bool:
        """Replace the value only if it is still `stored`: True for exactly one caller."""
        statement = (
            update(settings)
            .where(settings.c.key == key, settings.c.value == stored)
            .values(value=encoded, updated_at=utcnow())
        )
        async with self.engine.begin() as conn:
            return (await conn.execute(statement)).rowcount > 0

    async def set(self, key: str, value: Any) -> None:
        encoded = json.dumps(value, ensure_ascii=False)
        upsert = self._insert(settings).values(key=key, value=encoded)
        upsert = upsert.on_conflict_do_update(
            index_elements=[settings.c.key], set_={"value": encoded, "updated_at": utcnow()}
        )
        async with self.engine.begin() as conn:
            await conn.execute(upsert)
        self._cache.invalidate(key)

    async def setdefault(self, key: str, value: Any) -> Any:
        """Store `value` unless the key exists; return what is stored either way."""
        encoded = json.dumps(value, ensure_ascii=False)
        statement = self._insert(settings).values(key=key, value=encoded)
        async with self.engine.begin() as conn:
            await conn.execute(statement.on_conflict_do_nothing(index_elements=[settings.c.key]))
        return await self.get(key)

    # --- short-lived values -----------------------------------------------------------------
    # Kept in the same table so that every node sees them; each carries its own expiry time
    # and `purge_expired` (a scheduled job) removes the leftovers.

    async def put_expiring(self, key: str, value: Any, ttl_seconds: float) -> None:
        await self.set(key, {"value": value, "expires": time.time() + ttl_seconds})

    async def get_expiring(self, key: str) -> Expiring | None:
        """The value under `key` unless it has expired."""
        stored = await self._stored(key)
        return _live(stored) if stored is not None else None

    async def replace_expiring(self, key: str, current: Expiring, value: Any) -> bool:
        """Store `value` (same expiry) only if the key still holds `current`: an atomic
        compare-and-set, so parallel requests on several nodes cannot both use one state."""
        encoded = json.dumps({"value": value, "expires": current.expires}, ensure_ascii=False)
        return await self._swap(key, current.stored, encoded)

    async def take_expiring(self, key: str, current: Expiring) -> bool:
        """Delete the key if it still holds `current`; True for exactly one caller."""
        statement = delete(settings).where(settings.c.key == key, settings.c.value == current.stored)
        async with self.engine.begin() as conn:
            return (await conn.execute(statement)).rowcount > 0

    async def claim(self, key: str, ttl_seconds: float) -> bool:
        """Take `key` for `ttl_seconds` unless someone holds it: True for exactly one caller
        (once-a-day rules that several nodes must agree on)."""
        encoded = json.dumps({"value": True, "expires": time.time() + ttl_seconds})
        statement = self._insert(settings).values(key=key, value=encoded)
        async with self.engine.begin() as conn:
            inserted = await conn.execute(statement.on_conflict_do_nothing(index_elements=[settings.c.key]))
        if inserted.rowcount > 0:
            return True
        stored = await self._stored(key)
        if stored is None:
            return await self.claim(key, ttl_seconds)
        if _live(stored) is not None:
            return False
        return await self._swap(key, stored, encoded)

    async def purge_expired(self, prefix: str) -> int:
        """Remove expired short-lived values under `prefix`."""
        query = select(settings.c.key, settings.c.value).where(settings.c.key.startswith(prefix))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        now = time.time()
        expired = [key for key, value in rows if json.loads(value or "{}").get("expires", 0) < now]
        if expired:
            async with self.engine.begin() as conn:
                await conn.execute(delete(settings).where(settings.c.key.in_(expired)))
        return len(expired)

    # --- groups of keys ---------------------------------------------------------------------
    # The account settings are one row per item, as in the reference (so its custom cleanup SQL
    # and database imports see them), but are read and written together.

    async def get_many(self, keys: list[str]) -> dict[str, Any]:
        """The decoded values of those of `keys` that are stored, in one query."""
        query = select(settings.c.key, settings.c.value).where(settings.c.key.in_(keys))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {key: json.loads(value) for key, value in rows if value is not None}

    async def write_many(self, values: dict[str, Any], remove: list[str]) -> None:
        """Upsert `values` and delete `remove` in one transaction: all of it or nothing."""
        async with self.engine.begin() as conn:
            for key, value in values.items():
                encoded = json.dumps(value, ensure_ascii=False)
                upsert = self._insert(settings).values(key=key, value=encoded)
                upsert = upsert.on_conflict_do_update(
                    index_elements=[settings.c.key], set_={"value": encoded, "updated_at": utcnow()}
                )
                await conn.execute(upsert)
            if remove:
                await conn.execute(delete(settings).where(settings.c.key.in_(remove)))
        for key in [*values, *remove]:
            self._cache.pop(key)
        self.generation.bump()
