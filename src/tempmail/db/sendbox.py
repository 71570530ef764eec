"""Sent items (`sendbox`): one row per mail an address sent, `raw` = JSON of what was sent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tempmail.db.paging import Page, fetch_page
from tempmail.db.tables import sendbox


class SendboxStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(self, owner: str, raw: str) -> int:
        async with self.engine.begin() as conn:
            result = await conn.execute(insert(sendbox).values(address=owner, raw=raw))
        assert result.inserted_primary_key is not None
        return int(result.inserted_primary_key[0])

    async def page(self, limit: int, offset: int, owner: str = "") -> Page[Any]:
        query: Select[Any] = select(sendbox)
        if owner:
            query = query.where(sendbox.c.address == owner)
        return await fetch_page(self.engine, query.order_by(sendbox.c.id.desc()), limit, offset)

    async def delete(self, row_id: int, owner: str | None = None) -> bool:
        statement = delete(sendbox).where(sendbox.c.id == row_id)
        if owner is not None:
            statement = statement.where(sendbox.c.address == owner)
        async with self.engine.begin() as conn:
            return (await conn.execute(statement)).rowcount > 0

    async def clear(self, owner: str) -> int:
        async with self.engine.begin() as conn:
            return (await conn.execute(delete(sendbox).where(sendbox.c.address == owner))).rowcount
