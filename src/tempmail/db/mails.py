"""Received mails (`raw_mails`): how a message's bytes are kept, and every query on them.

The exact bytes received are the truth. They go in the `raw` TEXT column when they are plain
UTF-8 (what the reference does, and what hand-written SQL expects); anything else (8-bit
legacy charsets, NUL bytes PostgreSQL TEXT refuses) or everything when ENABLE_MAIL_GZIP is on
goes gzip-compressed into `raw_blob`, so no byte is ever lost or altered.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    ScalarSelect,
    Select,
    bindparam,
    cast,
    delete,
    func,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from tempmail.db.mail_inserts import MailInserts
from tempmail.db.paging import Page
from tempmail.db.reads import Reads
from tempmail.db.tables import address, mail_counts, raw_mails, raw_mails_count, users, users_address


@dataclass(frozen=True, slots=True)
class NewMail:
    """One row to store: one accepted recipient of one message."""

    address: str
    source: str
    raw: bytes
    message_id: str | None = None
    metadata: str | None = None
    # Outbox rows to write with it (`tempmail.db.deliveries`: forward, webhook, auto_reply),
    # due at `deliveries_due`.
    deliveries: tuple[str, ...] = ()
    deliveries_due: datetime | None = None


def encode_raw(raw: bytes, compress: bool) -> tuple[str | None, bytes | None]:
    """(raw text, raw blob) for storage; exactly one of them is set."""
    if not compress:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if "\x00" not in text:
                return text, None
    return None, gzip.compress(raw, compresslevel=6)


def raw_bytes(row: Any) -> bytes:
    """The exact bytes that were received, whichever column holds them."""
    if row.raw_blob is not None:
        return gzip.decompress(row.raw_blob)
    return (row.raw or "").encode("utf-8")


class MailRow(NamedTuple):
    """A stored mail as the readers get it (`raw_bytes` gives its exact bytes)."""

    id: int
    message_id: str | None
    source: str | None
    address: str | None
    raw: str | None
    raw_blob: bytes | None
    metadata: str | None
    created_at: str


# A mail row's columns, in MailRow's order (the search's queries select them too).
MAIL_COLUMNS = (
    raw_mails.c.id,
    raw_mails.c.message_id,
    raw_mails.c.source,
    raw_mails.c.address,
    raw_mails.c.raw,
    raw_mails.c.raw_blob,
    raw_mails.c["metadata"],
    raw_mails.c.created_at,
)
_ROW = select(*MAIL_COLUMNS)
_NEWEST_FIRST = raw_mails.c.id.desc()

# The largest BIGINT, PostgreSQL's id type.
MAX_BIGINT = 2**63 - 1

_OWNER = raw_mails.c.address == bindparam("owner")


def _bound_names(one_address: bool) -> Select[Any]:
    """The addresses bound to a user (`user_id`), or the one of them named `only` (none when
    `only` is not the user's): each one's name, `updated_at` and number of mails (from the
    trigger-kept counts of migration 0006, a lookup per address)."""
    bound = (
        select(
            address.c.name,
            address.c.updated_at,
            func.coalesce(mail_counts.c.mails, literal_column("0")).label("mails"),
        )
        .select_from(
            users_address.join(address, users_address.c.address_id == address.c.id).outerjoin(
                mail_counts, mail_counts.c.address == address.c.name
            )
        )
        .where(users_address.c.user_id == bindparam("user_id"))
    )
    return bound.where(address.c.name == bindparam("only")) if one_address else bound


def _paged(query: Select[Any], newest: ColumnElement[int] = raw_mails.c.id) -> Select[Any]:
    return query.order_by(newest.desc()).limit(bindparam("limit")).offset(bindparam("offset"))


def _counted(query: Select[Any]) -> Select[Any]:
    return query.with_only_columns(func.count(), maintain_column_froms=True)


def _mails_of(owners: ColumnElement[bool]) -> ScalarSelect[Any]:
    """How many mails the addresses `owners` selects (a condition on `mail_counts.address`)
    have, from the trigger-kept counts (migration 0006): a lookup per address, not a walk of
    every mail's index entry."""
    # A sum is NUMERIC on PostgreSQL: back to the counts' BIGINT.
    total = func.coalesce(cast(func.sum(mail_counts.c.mails), BigInteger), literal_column("0"))
    return select(total).where(owners).scalar_subquery()


_OWNER_MAILS = _mails_of(mail_counts.c.address == bindparam("owner"))


def _inbox(counted: bool) -> Select[Any]:
    """An address's page, its count (first pages only) and its `updated_at`, in one statement
    that gives no row at all when the address is gone: a poll of `/api/mails` is one round
    trip, credential check included."""
    page = _paged(_ROW.where(_OWNER)).subquery("page")
    total = _OWNER_MAILS if counted else literal_column("0")
    return (
        select(address.c.updated_at, total, *page.c)
        .select_from(address.outerjoin(page, true()))
        .where(address.c.id == bindparam("address_id"), address.c.name == bindparam("owner"))
        .order_by(page.c.id.desc())
    )


_INBOX_FIRST, _INBOX_LATER = _inbox(counted=True), _inbox(counted=False)


def _user_inbox(dialect: str, counted: bool, one_address: bool) -> Select[Any]:
    """A user's page of mail (every bound address's, or one's), its count (first pages only)
    and the bound addresses' activity (how many never active, the oldest `updated_at`), in one
    statement that gives no row at all when the account is gone (the token's id and email no
    longer name it): a poll of `/user_api/mails` is one round trip, as `/api/mails` is. The
    count and the activity are one aggregate over the bound addresses."""
    bound = _bound_names(one_address).cte("bound")
    if dialect == "postgresql":
        # Each address's newest mails through the (address, id) index, then the page of those:
        # asked for the page of a list of addresses, PostgreSQL walks every mail's ids instead.
        newest = _ROW.where(raw_mails.c.address == bound.c.name).order_by(_NEWEST_FIRST)
        # `reach` = limit + offset, as a BIGINT capped at its maximum (an offset may be any id).
        each = newest.limit(bindparam("reach", type_=BigInteger)).lateral("each")
        page = _paged(select(*each.c).select_from(bound.join(each, true())), each.c.id).subquery("page")
    else:
        page = _paged(_ROW.where(raw_mails.c.address.in_(select(bound.c.name)))).subquery("page")
    # A sum is NUMERIC on PostgreSQL: back to the counts' BIGINT.
    total = (
        cast(func.coalesce(func.sum(bound.c.mails), literal_column("0")), BigInteger)
        if counted
        else literal_column("0")
    )
    summary = select(
        func.count().filter(bound.c.updated_at.is_(None)).label("never_active"),
        func.min(bound.c.updated_at).label("oldest_active"),
        total.label("total"),
    ).subquery("summary")
    return (
        select(summary.c.never_active, summary.c.oldest_active, summary.c.total, *page.c)
        .select_from(users.join(summary, true()).outerjoin(page, true()))
        .where(users.c.id == bindparam("user_id"), users.c.user_email == bindparam("email"))
        .order_by(page.c.id.desc())
    )


def _user_inboxes(dialect: str) -> dict[tuple[bool, bool], Select[Any]]:
    """`_user_inbox` by (first page, one address)."""
    return {
        (counted, one): _user_inbox(dialect, counted, one)
        for counted in (True, False)
        for one in (True, False)
    }


def _deep_of_all() -> Select[Any]:
    """A later page of every mail: its first id found by skipping through an index of ids
    (SQLite's `idx_raw_mails_id`, PostgreSQL's primary key), then the page's rows read from
    there, rather than `OFFSET` skipping whole mails (see migration 0004)."""
    first = (
        select(raw_mails.c.id).order_by(_NEWEST_FIRST).limit(literal_column("1")).offset(bindparam("offset"))
    )
    # The literal OFFSET 0: without one, SQLAlchemy's SQLite dialect binds one of its own.
    newest = _ROW.where(raw_mails.c.id <= first.scalar_subquery()).order_by(_NEWEST_FIRST)
    return newest.limit(bindparam("limit")).offset(literal_column("0"))


_DEEP_OF_ALL = _deep_of_all()


def _pages() -> dict[str, tuple[Select[Any], Select[Any]]]:
    """(page, count) per scope: every mail, one address's, the unknown. Every mail and one
    address's mails are counted from the trigger-kept `raw_mails_count` (migration 0005 on
    PostgreSQL, 0006 on SQLite) and `mail_counts` (0006)."""
    scopes: dict[str, Select[Any]] = {
        "all": _ROW,
        "owner": _ROW.where(_OWNER),
        # Mails whose recipient is not (or no longer) a created address.
        "unknown": _ROW.where(~select(address.c.id).where(address.c.name == raw_mails.c.address).exists()),
    }
    pages = {scope: (_paged(query), _counted(query)) for scope, query in scopes.items()}
    pages["owner"] = (pages["owner"][0], select(_OWNER_MAILS))
    pages["all"] = (pages["all"][0], select(raw_mails_count.c.mails))
    return pages


_GET = _ROW.where(raw_mails.c.id == bindparam("mail_id"))
_GET_OWNED = _GET.where(_OWNER)


@dataclass(frozen=True, slots=True)
class Inbox:
    """A page of an address's mail, and when the address was last active."""

    page: Page[MailRow]
    updated_at: str | None


@dataclass(frozen=True, slots=True)
class UserInbox:
    """A page of a user's mail, and the activity of the addresses bound to the user: whether
    one never was active, and the oldest activity of the others."""

    page: Page[MailRow]
    never_active: bool
    oldest_active: str | None


_SET_METADATA = (
    update(raw_mails)
    .where(raw_mails.c.id == bindparam("mail_id"))
    .values({raw_mails.c["metadata"]: bindparam("value")})
)


class MailStore:
    """Queries on received mails; `tempmail.inbound.views` shapes the rows for the API."""

    def __init__(self, engine: AsyncEngine, inserts: MailInserts, reads: Reads, compress: bool) -> None:
        self.engine = engine
        self.reads = reads
        # Where `insert` commits each group.
        self.inserts = inserts
        self.compress = compress
        self._pages = _pages()
        self._user_inboxes = _user_inboxes(engine.dialect.name)

    async def insert(self, mails: Sequence[NewMail]) -> list[int]:
        """Store one delivery (the recipients of one SMTP DATA) and return its ids once they
        are committed: deliveries arriving together share a transaction (the group commit of
        `tempmail.db.group_commit`), and each caller's answer still waits for its commit."""
        rows = [self._row(mail) for mail in mails]
        queued = [(position, kind) for position, mail in enumerate(mails) for kind in mail.deliveries]
        due = next((mail.deliveries_due for mail in mails if mail.deliveries), None)
        return await self.inserts.insert(rows, queued, due)

    def _row(self, mail: NewMail) -> dict[str, Any]:
        text, blob = encode_raw(mail.raw, self.compress)
        return {
            "message_id": mail.message_id,
            "source": mail.source,
            "address": mail.address,
            "raw": text,
            "raw_blob": blob,
            "metadata": mail.metadata,
        }

    async def set_metadata(self, values: Sequence[tuple[int, str]]) -> None:
        """Write the `metadata` text of several mails (id, text) in one transaction: one
        commit for a whole group of mails, however many there are."""
        if not values:
            return
        async with self.engine.begin() as conn:
            await conn.execute(_SET_METADATA, [{"mail_id": key, "value": text} for key, text in values])

    async def get(self, mail_id: int, owner: str | None = None) -> MailRow | None:
        """The row (with raw bytes reachable through `raw_bytes`), or None; `owner` scopes it."""
        if owner is None:
            rows = await self.reads.fetch(_GET, {"mail_id": mail_id}, quick=True)
        else:
            rows = await self.reads.fetch(_GET_OWNED, {"mail_id": mail_id, "owner": owner}, quick=True)
        return MailRow(*rows[0]) if rows else None

    async def random(self, owner: str | None = None) -> Any | None:
        """One stored mail picked at random (of `owner`), or None (webhook tests)."""
        query = _ROW.order_by(func.random()).limit(1)
        if owner is not None:
            query = query.where(raw_mails.c.address == owner)
        async with self.engine.connect() as conn:
            return (await conn.execute(query)).first()

    async def inbox(self, address_id: int, owner: str, limit: int, offset: int) -> Inbox | None:
        """An address's page (count on the first page only), or None when the address
        (id and name, as a credential names it) no longer exists."""
        statement = _INBOX_FIRST if offset == 0 else _INBOX_LATER
        params = {"address_id": address_id, "owner": owner, "limit": limit, "offset": offset}
        rows = await self.reads.fetch(statement, params, quick=True)
        if not rows:
            return None
        mails = [MailRow(*row[2:]) for row in rows if row[2] is not None]
        return Inbox(Page(mails, int(rows[0][1])), rows[0][0])

    async def page(self, limit: int, offset: int, owner: str | None = None) -> Page[MailRow]:
        """Newest first; `owner` restricts to one address. The page and its count (first pages
        only) are one call to the database."""
        scope = "all" if owner is None else "owner"
        return await self._page(scope, {"owner": owner}, limit, offset)

    async def user_inbox(
        self, user_id: int, email: str, only: str | None, limit: int, offset: int
    ) -> UserInbox | None:
        """A user's page (of the bound address `only`, if given), or None when the account
        (id and email, as a token names it) no longer exists."""
        statement = self._user_inboxes[offset == 0, only is not None]
        params = {
            "user_id": user_id,
            "email": email,
            "only": only,
            "limit": limit,
            "offset": offset,
            "reach": min(limit + offset, MAX_BIGINT),
        }
        rows = await self.reads.fetch(statement, params, quick=True)
        if not rows:
            return None
        never_active, oldest_active, total = rows[0][:3]
        mails = [MailRow(*row[3:]) for row in rows if row[3] is not None]
        return UserInbox(Page(mails, int(total)), bool(never_active), oldest_active)

    async def page_unknown(self, limit: int, offset: int) -> Page[MailRow]:
        """Mails whose recipient is not (or no longer) a created address."""
        return await self._page("unknown", {}, limit, offset)

    async def _page(self, scope: str, params: dict[str, Any], limit: int, offset: int) -> Page[MailRow]:
        paged, counting = self._pages[scope]
        if scope == "all" and offset > 0:
            paged = _DEEP_OF_ALL
        params = {**params, "limit": limit, "offset": offset}
        queries = [(paged, params), (counting, params)] if offset == 0 else [(paged, params)]
        # A first page of one address's or of every mail is an index walk of `limit` rows and
        # a count looked up (migrations 0005, 0006); the unknown ones are counted by a scan, a
        # later page of every mail skips `offset` index entries.
        quick = scope == "owner" or (scope == "all" and offset == 0)
        results = await self.reads.fetch_all(queries, quick=quick)
        count = int(results[1][0][0]) if offset == 0 else 0
        return Page([MailRow(*row) for row in results[0]], count)

    async def delete(self, mail_id: int, owner: str | None = None) -> bool:
        """Whether a row was deleted (the routes answer success either way, as the reference)."""
        query = delete(raw_mails).where(raw_mails.c.id == mail_id)
        if owner is not None:
            query = query.where(raw_mails.c.address == owner)
        async with self.engine.begin() as conn:
            return (await conn.execute(query)).rowcount > 0

    async def clear(self, owner: str) -> int:
        async with self.engine.begin() as conn:
            return (await conn.execute(delete(raw_mails).where(raw_mails.c.address == owner))).rowcount

    async def count(self) -> int:
        async with self.engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(raw_mails)) or 0)

    async def with_ids(self, ids: Sequence[int]) -> list[MailRow]:
        """The mails of these ids that still exist, oldest first (what the push API sends)."""
        if not ids:
            return []
        query = _ROW.where(raw_mails.c.id.in_(list(ids))).order_by(raw_mails.c.id)
        async with self.engine.connect() as conn:
            return [MailRow(*row) for row in await conn.execute(query)]

    async def after(self, after_id: int, owners: Sequence[str] | None, limit: int) -> list[MailRow]:
        """Mails past `after_id` (of `owners`; of every address when None), oldest first: what
        a client resuming its event stream missed."""
        query = _ROW.where(raw_mails.c.id > after_id).order_by(raw_mails.c.id).limit(limit)
        if owners is not None:
            query = query.where(raw_mails.c.address.in_(list(owners)))
        async with self.engine.connect() as conn:
            return [MailRow(*row) for row in await conn.execute(query)]
