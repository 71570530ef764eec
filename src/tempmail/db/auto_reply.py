"""Auto-reply settings per address (`auto_reply_mails`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from tempmail.db.tables import auto_reply_mails

FIELDS = ("subject", "message", "source_prefix", "name", "enabled")


class AutoReplyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    async def get(self, address: str) -> dict[str, Any] | None:
        query = select(*(auto_reply_mails.c[name] for name in FIELDS)).where(
            auto_reply_mails.c.address == address
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return dict(row._mapping) if row is not None else None

    async def save(self, address: str, values: dict[str, Any]) -> None:
        statement = self._insert(auto_reply_mails).values(address=address, **values)
        statement = statement.on_conflict_do_update(index_elements=[auto_reply_mails.c.address], set_=values)
        async with self.engine.begin() as conn:
            await conn.execute(statement)
