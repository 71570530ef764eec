"""What mail clients (IMAP) see of an address's mail: its list with each mail's flags, the
flags themselves (`mail_flags`, migration 0009), and the sent items as rows.

A list is one walk of the (address, id) index joined to the flags by primary key: a throw-away
inbox holds tens of mails, and an IMAP client asks for the whole list on every SELECT, NOOP and
IDLE wake-up, so that is what is made cheap; the bytes of a mail are read one mail at a time,
when a client fetches it (`MailStore.get`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from tempmail.db.tables import mail_flags, raw_mails, sendbox

# The flags kept, by column: the IMAP system flags but \Recent (a session's, never stored).
FLAG_COLUMNS = ("seen", "answered", "flagged", "deleted", "draft")


class FlaggedMail(NamedTuple):
    """One mail of a list: its id (the IMAP UID), when it came, and its stored flags."""

    id: int
    created_at: str
    flags: frozenset[str]


class SentRow(NamedTuple):
    id: int
    raw: str | None
    created_at: str


def _flags_of(row: Any) -> frozenset[str]:
    return frozenset(name for name in FLAG_COLUMNS if getattr(row, name, None))


_LIST = (
    select(raw_mails.c.id, raw_mails.c.created_at, *(mail_flags.c[name] for name in FLAG_COLUMNS))
    .select_from(raw_mails.outerjoin(mail_flags, mail_flags.c.mail_id == raw_mails.c.id))
    .order_by(raw_mails.c.id)
)


class MailFlagStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def listing(self, owner: str) -> list[FlaggedMail]:
        """Every mail of `owner`, oldest first, with its flags."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(_LIST.where(raw_mails.c.address == owner))
            return [FlaggedMail(int(row.id), str(row.created_at), _flags_of(row)) for row in rows]

    async def newest_id(self) -> int:
        """The highest mail id of all (0 when none): the next mail of anyone gets a higher one."""
        async with self.engine.connect() as conn:
            return int(await conn.scalar(select(func.max(raw_mails.c.id))) or 0)

    async def flags(self, mail_ids: Iterable[int]) -> dict[int, frozenset[str]]:
        """The stored flags of these mails (a mail never flagged is absent)."""
        ids = list(mail_ids)
        if not ids:
            return {}
        query = select(mail_flags).where(mail_flags.c.mail_id.in_(ids))
        async with self.engine.connect() as conn:
            return {int(row.mail_id): _flags_of(row) for row in await conn.execute(query)}

    async def set_flags(self, owner: str, changes: Sequence[tuple[int, frozenset[str]]]) -> None:
        """Store each mail's whole set of flags, for mails of `owner` that still exist (the
        insert selects the mail, so a mail deleted meanwhile or someone else's gets no row)."""
        if not changes:
            return
        upsert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        async with self.engine.begin() as conn:
            for mail_id, flags in changes:
                values = {name: literal(name in flags) for name in FLAG_COLUMNS}
                source = select(raw_mails.c.id, *(value.label(name) for name, value in values.items())).where(
                    raw_mails.c.id == mail_id, raw_mails.c.address == owner
                )
                statement = upsert(mail_flags).from_select(["mail_id", *FLAG_COLUMNS], source)
                statement = statement.on_conflict_do_update(
                    index_elements=[mail_flags.c.mail_id],
                    set_={name: statement.excluded[name] for name in FLAG_COLUMNS},
                )
                await conn.execute(statement)

    async def sent(self, owner: str) -> list[SentRow]:
        """Every sent item of `owner`, oldest first."""
        query = (
            select(sendbox.c.id, sendbox.c.raw, sendbox.c.created_at)
            .where(sendbox.c.address == owner)
            .order_by(sendbox.c.id)
        )
        async with self.engine.connect() as conn:
            return [SentRow(int(row.id), row.raw, str(row.created_at)) for row in await conn.execute(query)]
