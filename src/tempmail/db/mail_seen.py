"""Read and unread in the web UI: the `seen` column of the IMAP flags (`mail_flags`, migration
0009), so that a mail opened in the browser is `\\Seen` for a mail client and the other way round.

A mail without a flags row was never marked: it is unread. Marking writes only `seen`; a mail's
other flags (a client's `\\Flagged`, ...) stay as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, bindparam, false, func, literal, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from tempmail.db.mail_flags import FLAG_COLUMNS
from tempmail.db.tables import mail_flags, raw_mails

# An address's mail walked through its (address, id) index, each looked up in the flags by key.
_UNREAD = (
    select(func.count())
    .select_from(raw_mails.outerjoin(mail_flags, mail_flags.c.mail_id == raw_mails.c.id))
    .where(
        raw_mails.c.address == bindparam("owner"),
        or_(mail_flags.c.seen.is_(None), mail_flags.c.seen == false()),
    )
)
_SEEN = select(mail_flags.c.mail_id).where(
    mail_flags.c.mail_id.in_(bindparam("ids", expanding=True)), mail_flags.c.seen
)

# The mails named by `ids` that are `owner`'s (a gone one, or someone else's, matches nothing).
_IDS_OWNED = and_(
    raw_mails.c.id.in_(bindparam("ids", expanding=True)), raw_mails.c.address == bindparam("owner")
)


class MailSeenStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        others = [name for name in FLAG_COLUMNS if name != "seen"]
        upsert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
        self._marks = {}
        for seen in (True, False):
            source = select(
                raw_mails.c.id, literal(seen).label("seen"), *(literal(False).label(name) for name in others)
            ).where(_IDS_OWNED)
            statement = upsert(mail_flags).from_select(["mail_id", "seen", *others], source)
            self._marks[seen] = statement.on_conflict_do_update(
                index_elements=[mail_flags.c.mail_id], set_={"seen": statement.excluded.seen}
            )

    async def unread(self, owner: str) -> int:
        async with self.engine.connect() as conn:
            return int(await conn.scalar(_UNREAD, {"owner": owner}) or 0)

    async def seen(self, mail_ids: Sequence[int]) -> set[int]:
        """Which of these mails are marked read."""
        if not mail_ids:
            return set()
        async with self.engine.connect() as conn:
            return {
                int(mail_id) for mail_id in (await conn.execute(_SEEN, {"ids": list(mail_ids)})).scalars()
            }

    async def mark(self, owner: str, mail_ids: Sequence[int], seen: bool) -> None:
        """Mark these mails of `owner` read or unread (someone else's, or a gone one, is left)."""
        if not mail_ids:
            return
        async with self.engine.begin() as conn:
            await conn.execute(self._marks[seen], {"ids": list(mail_ids), "owner": owner})
