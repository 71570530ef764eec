"""Send permission and balance per address (`address_sender`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tempmail.db.tables import address_sender


class SenderStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def balance(self, address: str) -> int:
        """The balance of the address's enabled sender row; 0 without one."""
        query = select(address_sender.c.balance).where(
            address_sender.c.address == address, address_sender.c.enabled == 1
        )
        async with self.engine.connect() as conn:
            return int(await conn.scalar(query) or 0)
