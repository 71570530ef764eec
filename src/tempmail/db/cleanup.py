"""Retention deletes, in batches so that a large cleanup never holds the database for long.

Each batch is its own short transaction selecting at most `batch` ids; between batches the
loop yields to the event loop, so SMTP ingest and API reads interleave with a cleanup of
millions of rows instead of waiting behind one huge DELETE.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import ColumnElement, Table, delete, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tempmail.db.addresses import delete_address_data
from tempmail.db.tables import address, raw_mails, sendbox, users_address

_known_address = select(address.c.id).where(address.c.name == raw_mails.c.address).exists()

# What each clean type deletes; addresses take their data with them.
ADDRESS_CLEAN_TYPES = ("addressCreated", "inactiveAddress", "unboundAddress", "emptyAddress")
ROW_CLEAN_TYPES = ("mails", "mails_unknow", "sendbox")


def _address_filter(clean_type: str, cutoff: datetime) -> ColumnElement[bool]:
    if clean_type == "addressCreated":
        return address.c.created_at < cutoff
    if clean_type == "inactiveAddress":
        return address.c.updated_at < cutoff
    if clean_type == "unboundAddress":
        bound = select(users_address.c.id).where(users_address.c.address_id == address.c.id).exists()
        return (address.c.created_at < cutoff) & ~bound
    if clean_type == "emptyAddress":
        has_mail = select(raw_mails.c.id).where(raw_mails.c.address == address.c.name).exists()
        return (address.c.created_at < cutoff) & ~has_mail
    raise ValueError(clean_type)


class CleanupStore:
    def __init__(self, engine: AsyncEngine, batch: int) -> None:
        self.engine = engine
        self.batch = batch

    async def delete_rows(self, clean_type: str, cutoff: datetime) -> int:
        """Delete mails, unknown-address mails or sent items created before `cutoff`."""
        table: Table
        if clean_type == "mails":
            table, condition = raw_mails, raw_mails.c.created_at < cutoff
        elif clean_type == "mails_unknow":
            table, condition = raw_mails, (raw_mails.c.created_at < cutoff) & ~_known_address
        elif clean_type == "sendbox":
            table, condition = sendbox, sendbox.c.created_at < cutoff
        else:
            raise ValueError(clean_type)
        total = 0
        while True:
            async with self.engine.begin() as conn:
                ids = list((await conn.scalars(select(table.c.id).where(condition).limit(self.batch))).all())
                if ids:
                    await conn.execute(delete(table).where(table.c.id.in_(ids)))
            total += len(ids)
            if len(ids) < self.batch:
                return total
            await asyncio.sleep(0)

    async def delete_addresses(self, clean_type: str, cutoff: datetime) -> int:
        """Delete addresses matching the clean type, with their mails, sent items and bindings."""
        condition = _address_filter(clean_type, cutoff)
        total = 0
        while True:
            async with self.engine.begin() as conn:
                rows = (
                    await conn.execute(
                        select(address.c.id, address.c.name).where(condition).limit(self.batch)
                    )
                ).all()
                if rows:
                    await delete_address_data(conn, [r.id for r in rows], [r.name for r in rows])
            total += len(rows)
            if len(rows) < self.batch:
                return total
            await asyncio.sleep(0)

    async def execute_custom(self, statement: str) -> int:
        """Run an admin's validated custom DELETE (see tempmail.maintenance.cleanup.validate_custom_sql)."""
        async with self.engine.begin() as conn:
            return (await conn.execute(text(statement))).rowcount
