"""The outbox (`deliveries`): what a stored mail still owes the outside world, one row per
(mail, kind), kind `forward`, `telegram`, `webhook` or `auto_reply`.

Rows are written by `tempmail.db.mail_inserts` in the very transaction that stores the mail, so
a mail that is committed (and told 250) cannot lose its forward, webhook or reply to a crash,
and a mail that is not committed leaves none behind. They are written due a lease's length after
the mail: the worker that stored the mail delivers them at once (`claim_mails`), and the others
(`claim_due`) take them over only if it did not get to them in that time (it died, say).

Every claim is a lease: one UPDATE that sets `locked_by` and `locked_until` on rows nobody holds
(no lease, or one that ran out), so two workers or nodes never both take a row: on PostgreSQL the
rows are picked `FOR UPDATE SKIP LOCKED`, so concurrent claims split the due rows between them
rather than queue; SQLite has one writer at a time. A worker marks what it delivered `done`
(only while it still holds the row); a failed attempt counts, keeps its error, releases the row
and makes it due again after a back-off, or `failed` for good once its attempts are spent (kept,
for the admin to see).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from tempmail.db.paging import Page
from tempmail.db.tables import deliveries, utcnow

# In the order they are delivered: Telegram before webhooks, as in the reference's pipeline.
KINDS = ("forward", "telegram", "webhook", "auto_reply")
PENDING, DONE, FAILED = "pending", "done", "failed"
STATUSES = (PENDING, DONE, FAILED)
# Longest error text kept: the admin needs the gist, not a novel.
MAX_ERROR = 500


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery this worker now holds."""

    id: int
    mail_id: int
    kind: str
    address: str | None
    # Attempts made before this one.
    attempts: int


class DeliveryRow(NamedTuple):
    """A delivery as the admin's list shows it."""

    id: int
    mail_id: int
    kind: str
    address: str | None
    attempts: int
    last_error: str | None
    next_attempt_at: str
    created_at: str
    done_at: str | None
    status: str


_CLAIMED = (
    deliveries.c.id,
    deliveries.c.mail_id,
    deliveries.c.kind,
    deliveries.c.address,
    deliveries.c.attempts,
)
_FREE = and_(
    deliveries.c.status == PENDING,
    or_(deliveries.c.locked_until.is_(None), deliveries.c.locked_until <= bindparam("now")),
)
_LEASE: dict[Any, Any] = {
    deliveries.c.locked_by: bindparam("holder"),
    deliveries.c.locked_until: bindparam("until"),
}
_DUE = (
    select(deliveries.c.id)
    .where(_FREE, deliveries.c.next_attempt_at <= bindparam("now"))
    .order_by(deliveries.c.next_attempt_at)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_ANY_DUE = select(deliveries.c.id).where(_FREE, deliveries.c.next_attempt_at <= bindparam("now")).limit(1)
_CLAIM_DUE = (
    update(deliveries).where(deliveries.c.id.in_(_DUE.scalar_subquery())).values(_LEASE).returning(*_CLAIMED)
)
_HELD = and_(deliveries.c.id == bindparam("delivery_id"), deliveries.c.locked_by == bindparam("holder"))
_DONE = (
    update(deliveries)
    .where(_HELD)
    .values(
        {
            deliveries.c.status: DONE,
            deliveries.c.attempts: deliveries.c.attempts + 1,
            deliveries.c.done_at: bindparam("now"),
            deliveries.c.locked_by: None,
            deliveries.c.locked_until: None,
        }
    )
)
_FAILED = (
    update(deliveries)
    .where(_HELD)
    .values(
        {
            deliveries.c.status: bindparam("status"),
            deliveries.c.attempts: deliveries.c.attempts + 1,
            deliveries.c.last_error: bindparam("error"),
            deliveries.c.next_attempt_at: bindparam("retry_at"),
            deliveries.c.locked_by: None,
            deliveries.c.locked_until: None,
        }
    )
)
_DROP = delete(deliveries).where(_HELD)
_ROW = select(
    deliveries.c.id,
    deliveries.c.mail_id,
    deliveries.c.kind,
    deliveries.c.address,
    deliveries.c.attempts,
    deliveries.c.last_error,
    deliveries.c.next_attempt_at,
    deliveries.c.created_at,
    deliveries.c.done_at,
    deliveries.c.status,
)


class DeliveryStore:
    def __init__(self, engine: AsyncEngine, holder: str, lease_seconds: float) -> None:
        self.engine = engine
        # This worker's name on the rows it holds.
        self.holder = holder
        self.lease = timedelta(seconds=lease_seconds)

    def _lease(self) -> dict[str, Any]:
        now = utcnow()
        return {"now": now, "holder": self.holder, "until": now + self.lease}

    async def any_due(self) -> bool:
        """Whether a row is due that nobody holds: a read, so that the polls of an empty outbox
        never take SQLite's write lock."""
        async with self.engine.connect() as conn:
            return (await conn.execute(_ANY_DUE, {"now": utcnow()})).first() is not None

    async def claim_due(self, limit: int) -> list[Claimed]:
        """Up to `limit` due rows nobody holds, oldest due first (other nodes' mail, retries)."""
        async with self.engine.begin() as conn:
            rows = (await conn.execute(_CLAIM_DUE, {**self._lease(), "limit": limit})).all()
        return [Claimed(*row) for row in rows]

    async def claim_mails(self, mail_ids: Sequence[int]) -> list[Claimed]:
        """The pending rows of these mails (just stored here) that nobody holds, due or not."""
        if not mail_ids:
            return []
        claim = (
            update(deliveries)
            .where(_FREE, deliveries.c.mail_id.in_(list(mail_ids)))
            .values(_LEASE)
            .returning(*_CLAIMED)
        )
        async with self.engine.begin() as conn:
            rows = (await conn.execute(claim, self._lease())).all()
        return sorted((Claimed(*row) for row in rows), key=lambda claimed: claimed.id)

    async def renew(self, ids: Sequence[int]) -> None:
        """Extend the lease of rows this worker still holds (deliveries still running)."""
        if not ids:
            return
        renewal = (
            update(deliveries)
            .where(deliveries.c.id.in_(list(ids)), deliveries.c.locked_by == bindparam("holder"))
            .values({deliveries.c.locked_until: bindparam("until")})
        )
        async with self.engine.begin() as conn:
            await conn.execute(renewal, self._lease())

    async def done(self, delivery_id: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(_DONE, {"delivery_id": delivery_id, "holder": self.holder, "now": utcnow()})

    async def drop(self, delivery_id: int) -> None:
        """Nothing was owed after all (no target, no reply set, the mail deleted): no row to keep."""
        async with self.engine.begin() as conn:
            await conn.execute(_DROP, {"delivery_id": delivery_id, "holder": self.holder})

    async def failed(self, delivery_id: int, error: str, retry_in: float | None) -> None:
        """One more attempt failed with `error`: due again in `retry_in` seconds, or failed for
        good (None)."""
        now = utcnow()
        params = {
            "delivery_id": delivery_id,
            "holder": self.holder,
            "error": error[:MAX_ERROR],
            "status": PENDING if retry_in is not None else FAILED,
            "retry_at": now + timedelta(seconds=retry_in or 0),
        }
        async with self.engine.begin() as conn:
            await conn.execute(_FAILED, params)

    async def page(self, limit: int, offset: int, status: str | None) -> Page[DeliveryRow]:
        """Newest first, of one status or all; counted on the first page."""
        query = _ROW if status is None else _ROW.where(deliveries.c.status == status)
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(query.order_by(deliveries.c.id.desc()).limit(limit).offset(offset))
            ).all()
            count = 0
            if offset == 0:
                counting = query.with_only_columns(func.count(), maintain_column_froms=True)
                count = int(await conn.scalar(counting) or 0)
        return Page([DeliveryRow._make(row) for row in rows], count)

    async def purge_done(self, before: datetime) -> int:
        """Delete the rows delivered before `before`; failed ones stay for the admin."""
        purge = delete(deliveries).where(deliveries.c.status == DONE, deliveries.c.done_at < before)
        async with self.engine.begin() as conn:
            return int((await conn.execute(purge)).rowcount or 0)
