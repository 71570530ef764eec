"""The `settings` table: admin-editable settings, kept as JSON text under a key.

Everything the reference keeps in Cloudflare KV lives here too, so tempmail needs no second
store. Writes are upserts, so several nodes racing on one key (the generated JWT secret at
first start) cannot fail: the first writer of `setdefault` wins and every node reads its value.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from tempmail.db.tables import settings, utcnow


class SettingsStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

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

    async def setdefault(self, key: str, value: Any) -> Any:
        """Store `value` unless the key exists; return what is stored either way."""
        encoded = json.dumps(value, ensure_ascii=False)
        statement = self._insert(settings).values(key=key, value=encoded)
        async with self.engine.begin() as conn:
            await conn.execute(statement.on_conflict_do_nothing(index_elements=[settings.c.key]))
        return await self.get(key)
