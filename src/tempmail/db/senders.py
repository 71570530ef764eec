"""Send permission and balance per address (`address_sender`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from tempmail.db.paging import Page, fetch_page
from tempmail.db.tables import address_sender


class SenderStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    async def balance(self, address: str) -> int:
        """The balance of the address's enabled sender row; 0 without one."""
        query = select(address_sender.c.balance).where(
            address_sender.c.address == address, address_sender.c.enabled == 1
        )
        async with self.engine.connect() as conn:
            return int(await conn.scalar(query) or 0)

    async def grant_default(self, address: str, balance: int) -> None:
        """Give an address without a sender row an enabled one; an existing row, even a
        disabled one, is left alone (the admin may have revoked it)."""
        statement = self._insert(address_sender).values(address=address, balance=balance, enabled=1)
        async with self.engine.begin() as conn:
            await conn.execute(statement.on_conflict_do_nothing(index_elements=[address_sender.c.address]))

    async def request_access(self, address: str) -> bool:
        """A disabled row with balance 0 for the admin to approve; False if a row exists."""
        statement = self._insert(address_sender).values(address=address, balance=0, enabled=0)
        statement = statement.on_conflict_do_nothing(index_elements=[address_sender.c.address])
        async with self.engine.begin() as conn:
            return (await conn.execute(statement)).rowcount > 0

    async def reserve(self, address: str) -> bool:
        """Take one unit of balance, atomically: two parallel sends cannot both spend the last."""
        statement = (
            update(address_sender)
            .where(
                address_sender.c.address == address,
                address_sender.c.enabled == 1,
                address_sender.c.balance > 0,
            )
            .values(balance=address_sender.c.balance - 1)
        )
        async with self.engine.begin() as conn:
            return (await conn.execute(statement)).rowcount > 0

    async def refund(self, address: str) -> None:
        """Give back a reserved unit when the relay did not take the mail."""
        statement = (
            update(address_sender)
            .where(address_sender.c.address == address)
            .values(balance=address_sender.c.balance + 1)
        )
        async with self.engine.begin() as conn:
            await conn.execute(statement)

    async def page(self, limit: int, offset: int, address: str = "") -> Page[Any]:
        query: Select[Any] = select(address_sender)
        if address:
            query = query.where(address_sender.c.address == address)
        return await fetch_page(self.engine, query.order_by(address_sender.c.id.desc()), limit, offset)

    async def update(self, row_id: int, balance: int, enabled: bool) -> bool:
        statement = (
            update(address_sender)
            .where(address_sender.c.id == row_id)
            .values(balance=balance, enabled=int(enabled))
        )
        async with self.engine.begin() as conn:
            return (await conn.execute(statement)).rowcount > 0

    async def delete(self, row_id: int) -> bool:
        async with self.engine.begin() as conn:
            return (
                await conn.execute(delete(address_sender).where(address_sender.c.id == row_id))
            ).rowcount > 0
