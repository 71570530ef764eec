"""The `settings` table: admin-editable settings, kept as JSON text under a key.

Everything the reference keeps in Cloudflare KV lives here too, so tempmail needs no second
store. Hot paths (every received mail reads the account settings) use `get_cached`: a short
time-to-live keeps a change made on another node visible within seconds, and a write on this
node is seen at once. Writes are upserts, so several nodes racing on one key (the generated JWT secret at
first start) cannot fail: the first writer of `setdefault` wins and every node reads its value.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from tempmail.db.tables import settings, utcnow

CACHE_SECONDS = 5.0


class SettingsStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self._cache: dict[str, tuple[float, Any]] = {}

    async def get_cached(self, key: str, default: Any = None) -> Any:
        """`get`, served from memory for up to CACHE_SECONDS."""
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is None or hit[0] < now:
            hit = (now + CACHE_SECONDS, await self.get(key))
            self._cache[key] = hit
        return default if hit[1] is None else hit[1]

    async def get(self, key: str, default: Any = None) -> Any:
        async with self.engine.connect() as conn:
            value = await conn.scalar(select(settings.c.value).where(settings.c.key == key))
        return default if value is None else json.loads(value)

    async def set(self, key: str, value: Any) -> None:
        encoded = json.dumps(value, ensure_ascii=False)
        upsert = self._insert(settings).values(key=key, value=encoded)
        upsert = upsert.on_conflict_do_update(
            index_elements=[settings.c.key], set_={"value": encoded, "updated_at": utcnow()}
        )
        async with self.engine.begin() as conn:
            await conn.execute(upsert)
        self._cache.pop(key, None)

    async def setdefault(self, key: str, value: Any) -> Any:
        """Store `value` unless the key exists; return what is stored either way."""
        encoded = json.dumps(value, ensure_ascii=False)
        statement = self._insert(settings).values(key=key, value=encoded)
        async with self.engine.begin() as conn:
            await conn.execute(statement.on_conflict_do_nothing(index_elements=[settings.c.key]))
        return await self.get(key)
