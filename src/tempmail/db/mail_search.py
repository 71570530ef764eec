"""The search index of received mail (`mail_search`, migration 0010): what the background
indexer writes, and the queries a search runs on it.

A search is a case-insensitive substring match within one address's mail. The index holds each
mail's searchable text lower-cased (the caller lower-cases the needle too, so both back ends fold
case alike, beyond ASCII). Needles of three characters or more go through the trigram index
(SQLite: FTS5 with the trigram tokenizer, matched as a phrase, which is a substring match;
PostgreSQL: pg_trgm's GIN index, which LIKE uses); shorter ones walk the address's rows through
the (address, mail_id) index. Every query joins `raw_mails`, so a row left behind by a mail
deleted while it was being indexed never shows.

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

# The shortest needle the trigram indexes can find.
TRIGRAM = 3
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

# SQLite's trigram search: the FTS5 phrase, joined to the address's rows and to the mail.
_FTS_FROM = (
    " FROM mail_search_fts JOIN mail_search AS s ON s.mail_id = mail_search_fts.rowid"
    " JOIN raw_mails ON raw_mails.id = s.mail_id"
    " WHERE mail_search_fts MATCH :phrase AND s.address = :owner"
)
SQLITE_FTS_IDS = text("SELECT s.mail_id" + _FTS_FROM + " ORDER BY s.mail_id DESC LIMIT :limit")
SQLITE_FTS_COUNT = text("SELECT count(*)" + _FTS_FROM)


def like_filter() -> Any:
    """`body LIKE :pattern ESCAPE '\\'`, the pattern bound at run time (see `like_pattern`)."""
    return mail_search.c.body.like(bindparam("pattern"), escape="\\")


def like_pattern(needle: str) -> str:
    """`%needle%` with LIKE's wildcards in the needle taken literally."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def fts_phrase(needle: str) -> str:
    """The needle as one FTS5 phrase (quotes doubled): a substring match with trigrams."""
    return '"' + needle.replace('"', '""') + '"'


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
        The batch is one statement: on SQLite, FTS5 writes its pending terms out at every
        statement of a trigger, so a statement per mail cost ten times the whole batch's."""
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
        async with self.engine.connect() as conn:
            if self.sqlite and len(needle) >= TRIGRAM:
                params: dict[str, Any] = {"owner": owner, "phrase": fts_phrase(needle), "limit": limit}
                ids = (await conn.execute(SQLITE_FTS_IDS, params)).scalars().all()
                count = await conn.scalar(SQLITE_FTS_COUNT, params)
            else:
                params = {"owner": owner, "pattern": like_pattern(needle), "limit": limit}
                ids = (await conn.execute(LIKE_IDS, params)).scalars().all()
                count = await conn.scalar(LIKE_COUNT, params)
        return [int(mail_id) for mail_id in ids], int(count or 0)
