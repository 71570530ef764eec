"""The search index of received mail (`mail_search`, migration 0010): what the background
indexer writes, and the queries a search runs on it.

A search is a case-insensitive substring match within one address's mail. The index holds each
mail's searchable text lower-cased (the caller lower-cases the needle too, so both back ends fold
case alike, beyond ASCII). LIKE reads the address's texts, found by the (address, mail_id)
index; on PostgreSQL pg_trgm's GIN index serves LIKE too, where the planner finds it cheaper (a
rare text in a large address). Migration 0010 says why SQLite has no text index. Every query
joins `raw_mails`, so a row left behind by a mail deleted while it was being indexed never
shows.

Which mails are not indexed yet: the indexer walks ids upwards, so on SQLite (one writer, ids
given in commit order) every mail up to the highest indexed id is indexed or gone. On PostgreSQL
a transaction may commit after one holding a higher id; the ids within `POSTGRESQL_SLACK` below
the highest are looked at again (an index walk of them, each checked by primary key).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, bindparam, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tempmail.db.mails import MAIL_COLUMNS, MailRow
from tempmail.db.tables import mail_search, raw_mails

POSTGRESQL_SLACK = 1000

_NOT_INDEXED = ~select(mail_search.c.mail_id).where(mail_search.c.mail_id == raw_mails.c.id).exists()
_PENDING = (
    select(*MAIL_COLUMNS)
    .where(raw_mails.c.id > bindparam("after"), _NOT_INDEXED)
    .order_by(raw_mails.c.id)
    .limit(bindparam("limit", type_=Integer))
)
_PENDING_OWNED = _PENDING.where(raw_mails.c.address == bindparam("owner"))
_HIGHEST = select(func.coalesce(func.max(mail_search.c.mail_id), literal_column("0")))


def like_filter() -> Any:
    """`body LIKE :pattern ESCAPE '\\'`, the pattern bound at run time (see `like_pattern`)."""
    return mail_search.c.body.like(bindparam("pattern"), escape="\\")


def like_pattern(needle: str) -> str:
    """`%needle%` with LIKE's wildcards in the needle taken literally."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_LIKE_MATCHING = (
    select(mail_search.c.mail_id)
    .join(raw_mails, raw_mails.c.id == mail_search.c.mail_id)
    .where(mail_search.c.address == bindparam("owner"), like_filter())
)
LIKE_IDS = _LIKE_MATCHING.order_by(mail_search.c.mail_id.desc()).limit(bindparam("limit", type_=Integer))
LIKE_COUNT = _LIKE_MATCHING.with_only_columns(func.count(), maintain_column_froms=True)


# A batch of (mail id, text) into the index, in one statement, for the mails that still exist.
SQLITE_ADD = text(
    "INSERT INTO mail_search (mail_id, address, body)"
    " SELECT raw_mails.id, coalesce(raw_mails.address, ''), json_extract(batch.value, '$[1]')"
    " FROM json_each(:batch) AS batch JOIN raw_mails ON raw_mails.id = json_extract(batch.value, '$[0]')"
    " WHERE true ON CONFLICT DO NOTHING"
)
POSTGRESQL_ADD = text(
    "INSERT INTO mail_search (mail_id, address, body)"
    " SELECT raw_mails.id, coalesce(raw_mails.address, ''), batch.body"
    " FROM unnest(CAST(:ids AS BIGINT[]), CAST(:bodies AS TEXT[])) AS batch (mail_id, body)"
    " JOIN raw_mails ON raw_mails.id = batch.mail_id"
    " ON CONFLICT DO NOTHING"
)


class MailSearchStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self.slack = 0 if self.sqlite else POSTGRESQL_SLACK
        self._add = SQLITE_ADD if self.sqlite else POSTGRESQL_ADD

    async def indexed_through(self) -> int:
        """Every mail with an id up to this one is indexed or gone."""
        async with self.engine.connect() as conn:
            return max(int(await conn.scalar(_HIGHEST) or 0) - self.slack, 0)

    async def pending(self, after_id: int, limit: int, owner: str | None = None) -> list[MailRow]:
        """Mails past `after_id` (of `owner`) not indexed yet, oldest first."""
        params: dict[str, Any] = {"after": after_id, "limit": limit}
        query = _PENDING
        if owner is not None:
            query, params["owner"] = _PENDING_OWNED, owner
        async with self.engine.connect() as conn:
            return [MailRow(*row) for row in await conn.execute(query, params)]

    async def add(self, entries: Sequence[tuple[int, str]]) -> None:
        """Index each (mail id, searchable text), for mails that still exist (the insert selects
        the mail, so one deleted meanwhile gets no row); one already indexed is left as it is.
        The batch is one statement, not one a mail."""
        if not entries:
            return
        if self.sqlite:
            params: dict[str, Any] = {"batch": json.dumps(entries)}
        else:
            params = {"ids": [mail_id for mail_id, _ in entries], "bodies": [body for _, body in entries]}
        async with self.engine.begin() as conn:
            await conn.execute(self._add, params)

    async def matching(self, owner: str, needle: str, limit: int) -> tuple[list[int], int]:
        """The ids (newest first, at most `limit`) and the number of the address's indexed
        mails whose text contains `needle` (lower-cased, not empty)."""
        params = {"owner": owner, "pattern": like_pattern(needle), "limit": limit}
        async with self.engine.connect() as conn:
            ids = (await conn.execute(LIKE_IDS, params)).scalars().all()
            count = await conn.scalar(LIKE_COUNT, params)
        return [int(mail_id) for mail_id in ids], int(count or 0)
