"""Sent items (`sendbox`): one row per mail an address sent, `raw` = JSON of what was sent."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from tempmail.db.tables import sendbox


class SendboxStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def clear(self, owner: str) -> int:
        async with self.engine.begin() as conn:
            return (await conn.execute(delete(sendbox).where(sendbox.c.address == owner))).rowcount
