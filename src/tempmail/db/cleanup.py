"""Retention deletes (COMPAT §9), each batch a short transaction of its own.

The batched kinds delete one batch of at most `batch` rows (or addresses), oldest first, per
call, as the reference does; the caller repeats if it wants more. The other kinds delete all
that qualifies, still `batch` at a time with a yield to the event loop in between, so SMTP
ingest and API reads interleave with a cleanup of millions of rows instead of waiting behind
one huge DELETE.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, delete, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tempmail.db.addresses import delete_address_data
from tempmail.db.tables import address, raw_mails, sendbox, users_address

_known_address = select(address.c.id).where(address.c.name == raw_mails.c.address).exists()

ROW_CLEAN_TYPES = ("mails", "mails_unknow", "sendbox")
ADDRESS_CLEAN_TYPES = ("inactiveAddress", "addressCreated", "unboundAddress", "emptyAddress")
CLEAN_TYPES = ROW_CLEAN_TYPES + ADDRESS_CLEAN_TYPES
BATCHED_CLEAN_TYPES = ("mails", "sendbox", "inactiveAddress", "addressCreated")


def _rows(clean_type: str, cutoff: datetime) -> tuple[Table, Select[Any]]:
    """The table and the ids (oldest first) a row clean type deletes."""
    if clean_type == "mails":
        condition = raw_mails.c.created_at < cutoff
    elif clean_type == "mails_unknow":
        condition = (raw_mails.c.created_at < cutoff) & ~_known_address
    elif clean_type == "sendbox":
        ids = select(sendbox.c.id).where(sendbox.c.created_at < cutoff)
        return sendbox, ids.order_by(sendbox.c.created_at, sendbox.c.id)
    else:
        raise ValueError(clean_type)
    return raw_mails, select(raw_mails.c.id).where(condition).order_by(raw_mails.c.created_at, raw_mails.c.id)


def _addresses(clean_type: str, cutoff: datetime) -> Select[Any]:
    """The addresses (id, name) an address clean type deletes, oldest first."""
    condition: ColumnElement[bool]
    order = (address.c.created_at, address.c.id)
    if clean_type == "inactiveAddress":
        condition = address.c.updated_at < cutoff
        order = (address.c.updated_at, address.c.id)
    elif clean_type == "addressCreated":
        condition = address.c.created_at < cutoff
    elif clean_type == "unboundAddress":
        bound = select(users_address.c.id).where(users_address.c.address_id == address.c.id).exists()
        condition = (address.c.created_at < cutoff) & ~bound
    elif clean_type == "emptyAddress":
        has_mail = select(raw_mails.c.id).where(raw_mails.c.address == address.c.name).exists()
        condition = (address.c.created_at < cutoff) & ~has_mail
    else:
        raise ValueError(clean_type)
    return select(address.c.id, address.c.name).where(condition).order_by(*order)


class CleanupStore:
    def __init__(self, engine: AsyncEngine, batch: int) -> None:
        self.engine = engine
        self.batch = batch

    async def delete(self, clean_type: str, cutoff: datetime) -> int:
        """Delete what `clean_type` names that is older than `cutoff`: one batch of a batched
        kind, everything of another; the count deleted."""
        total = 0
        while True:
            deleted = await self._batch(clean_type, cutoff)
            total += deleted
            if clean_type in BATCHED_CLEAN_TYPES or deleted < self.batch:
                return total
            await asyncio.sleep(0)

    async def _batch(self, clean_type: str, cutoff: datetime) -> int:
        async with self.engine.begin() as conn:
            if clean_type in ROW_CLEAN_TYPES:
                table, ids = _rows(clean_type, cutoff)
                found = list((await conn.scalars(ids.limit(self.batch))).all())
                if found:
                    await conn.execute(delete(table).where(table.c.id.in_(found)))
                return len(found)
            rows = (await conn.execute(_addresses(clean_type, cutoff).limit(self.batch))).all()
            if rows:
                await delete_address_data(conn, [r.id for r in rows], [r.name for r in rows])
            return len(rows)

    async def execute_custom(self, statement: str) -> int:
        """Run an admin's validated custom DELETE (see tempmail.maintenance.cleanup.validate_custom_sql)."""
        async with self.engine.begin() as conn:
            return (await conn.execute(text(statement))).rowcount
