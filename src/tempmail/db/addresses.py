"""Addresses (`address`) and the data hanging off them; every query on them."""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tempmail.db.paging import Page, contains, fetch_page
from tempmail.db.reads import Reads
from tempmail.db.tables import (
    TIMESTAMP_FORMAT,
    address,
    address_sender,
    auto_reply_mails,
    mail_counts,
    raw_mails,
    sendbox,
    users,
    users_address,
    utcnow,
)

# The reference writes `updated_at` only when it is older than a day (or NULL): a client that
# reads it twice within a day sees it unchanged, and polling never turns into writes.
TOUCH_GRANULARITY = timedelta(days=1)


def touch_due(updated_at: str | None) -> bool:
    """Whether activity now would move `updated_at` (a `YYYY-MM-DD HH:MM:SS` text, which
    orders as its time does): it is unset, or older than TOUCH_GRANULARITY."""
    return updated_at is None or updated_at < _stale_before(int(time.time()))


@functools.lru_cache(maxsize=1)
def _stale_before(second: int) -> str:
    """The `updated_at` text a day before `second` (epoch seconds): formatted once a second,
    not on every poll of a page."""
    now = datetime.fromtimestamp(second, UTC).replace(tzinfo=None)
    return (now - TOUCH_GRANULARITY).strftime(TIMESTAMP_FORMAT)


class AddressExists(Exception):
    """The name is taken (the UNIQUE constraint decides, so two racing creations cannot both win)."""


ADMIN_SORT_KEYS = (
    "id",
    "name",
    "created_at",
    "updated_at",
    "source_meta",
    "mail_count",
    "send_count",
)

# From the trigger-kept counts (migration 0006): a lookup per listed address.
_mail_count = func.coalesce(
    select(mail_counts.c.mails).where(mail_counts.c.address == address.c.name).scalar_subquery(), 0
).label("mail_count")
_send_count = (
    select(func.count()).where(sendbox.c.address == address.c.name).scalar_subquery().label("send_count")
)
# What list endpoints show of an address: never its password hash.
LISTED = select(
    address.c.id,
    address.c.name,
    address.c.source_meta,
    address.c.created_at,
    address.c.updated_at,
    _mail_count,
    _send_count,
)


_LIVE = select(address.c.id).where(
    address.c.id == bindparam("address_id"), address.c.name == bindparam("name")
)
_UPDATED_AT = select(address.c.updated_at).where(address.c.id == bindparam("address_id"))
_BOUND_ACTIVITY = (
    select(address.c.id, address.c.updated_at)
    .join(users_address, users_address.c.address_id == address.c.id)
    .where(users_address.c.user_id == bindparam("user_id"))
)


class AddressStore:
    def __init__(self, engine: AsyncEngine, reads: Reads) -> None:
        self.engine = engine
        # The checks made on every read of mail (a credential's address exists, activity is
        # due) go the hot reads' way.
        self.reads = reads

    async def get(self, address_id: int) -> Any | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(address).where(address.c.id == address_id))).first()

    async def get_by_name(self, name: str) -> Any | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(address).where(address.c.name == name))).first()

    async def is_live(self, address_id: int, name: str) -> bool:
        """Whether a credential's (id, name) still names an existing address."""
        return bool(await self.reads.fetch(_LIVE, {"address_id": address_id, "name": name}, quick=True))

    async def create(self, name: str, password_hash: str | None, source_meta: str) -> int:
        try:
            async with self.engine.begin() as conn:
                result = await conn.execute(
                    insert(address).values(name=name, password=password_hash, source_meta=source_meta)
                )
        except IntegrityError as exc:
            raise AddressExists(name) from exc
        assert result.inserted_primary_key is not None
        return int(result.inserted_primary_key[0])

    async def touch(self, address_id: int) -> None:
        """Record activity (inactive-address cleanup reads updated_at), at most once a day: a
        read says whether it is due, so every call but the day's first writes nothing."""
        rows = await self.reads.fetch(_UPDATED_AT, {"address_id": address_id}, quick=True)
        if rows and touch_due(rows[0][0]):
            await self.touch_ids([address_id])

    async def touch_bound(self, user_id: int) -> None:
        """Record activity of every address bound to the user (a read of their mails or their
        list), throttled as `touch` is."""
        rows = await self.reads.fetch(_BOUND_ACTIVITY, {"user_id": user_id}, quick=True)
        await self.touch_ids([int(address_id) for address_id, updated_at in rows if touch_due(updated_at)])

    async def touch_ids(self, ids: Sequence[int]) -> None:
        """Record activity of addresses the caller found due (`touch_due`); the update checks
        again, so two racing callers write once."""
        if not ids:
            return
        now = utcnow()
        stale = address.c.updated_at.is_(None) | (address.c.updated_at < now - TOUCH_GRANULARITY)
        async with self.engine.begin() as conn:
            await conn.execute(update(address).where(address.c.id.in_(ids), stale).values(updated_at=now))

    async def set_password(self, address_id: int, password_hash: str, touch: bool = True) -> bool:
        """A password set, changed or reset is activity (updated_at, unthrottled); a rehash at
        login (`touch=False`) is not."""
        # Without `touch` the column is written as it is, so its onupdate default does not fire.
        values: dict[str, Any] = {
            "password": password_hash,
            "updated_at": utcnow() if touch else address.c.updated_at,
        }
        async with self.engine.begin() as conn:
            result = await conn.execute(update(address).where(address.c.id == address_id).values(**values))
        return result.rowcount > 0

    async def delete_with_data(self, address_id: int) -> bool:
        """Delete the address and everything that belongs to it, all or nothing."""
        async with self.engine.begin() as conn:
            name = await conn.scalar(select(address.c.name).where(address.c.id == address_id))
            if name is None:
                return False
            await delete_address_data(conn, [address_id], [name])
        return True

    async def page(
        self, limit: int, offset: int, query: str = "", sort_by: str = "id", ascending: bool = False
    ) -> Page[Any]:
        """The admin's address list: name substring search, sortable on ADMIN_SORT_KEYS."""
        statement: Select[Any] = LISTED
        if query:
            statement = statement.where(contains(address.c.name, query))
        computed = {"mail_count": _mail_count, "send_count": _send_count}
        if sort_by in computed:
            column: Any = computed[sort_by]
        else:
            column = address.c[sort_by] if sort_by in ADMIN_SORT_KEYS else address.c.id
        order = column.asc() if ascending else column.desc()
        tiebreak = address.c.id.asc() if ascending else address.c.id.desc()
        return await fetch_page(self.engine, statement.order_by(order, tiebreak), limit, offset)


async def statistics(engine: AsyncEngine) -> dict[str, int]:
    """The admin dashboard's counters, in one round trip per table."""
    now = utcnow()

    def active_since(days: int) -> Any:
        cutoff = now - timedelta(days=days)
        return select(func.count()).where(address.c.updated_at >= cutoff).scalar_subquery()

    query = select(
        select(func.count()).select_from(raw_mails).scalar_subquery(),
        select(func.count()).select_from(address).scalar_subquery(),
        active_since(7),
        active_since(30),
        select(func.count()).select_from(users).scalar_subquery(),
        select(func.count()).select_from(sendbox).scalar_subquery(),
    )
    async with engine.connect() as conn:
        row = (await conn.execute(query)).one()
    keys = (
        "mailCount",
        "addressCount",
        "activeAddressCount7days",
        "activeAddressCount30days",
        "userCount",
        "sendMailCount",
    )
    return {key: int(value or 0) for key, value in zip(keys, row, strict=True)}


async def delete_address_data(conn: AsyncConnection, ids: Sequence[int], names: Sequence[str]) -> None:
    """Delete addresses with their mails, sent items, sender rows, auto-replies and bindings,
    inside the caller's transaction."""
    by_name: list[tuple[Table, Any]] = [
        (raw_mails, raw_mails.c.address),
        (sendbox, sendbox.c.address),
        (address_sender, address_sender.c.address),
        (auto_reply_mails, auto_reply_mails.c.address),
    ]
    for table, column in by_name:
        await conn.execute(delete(table).where(column.in_(names)))
    await conn.execute(delete(users_address).where(users_address.c.address_id.in_(ids)))
    await conn.execute(delete(address).where(address.c.id.in_(ids)))
