"""Group commit of received mail: deliveries that arrive while a commit is running, or waiting
for its turn, share the next one, so N parallel SMTP sessions cost one transaction (one fsync,
one SQLite write lock) instead of N contending ones. Each caller's answer still comes only
after the commit that holds its rows.

What both back ends share is here: the queue of waiting deliveries, how a group is taken from
it and made one set of rows, how the ids go back to their callers, and what happens when a
shared commit fails. Who takes a group, and when, is the back end's
(`tempmail.db.mail_inserts`): PostgreSQL on the event loop, as soon as its connection is free;
SQLite on its ingest thread, once it holds the write turn, so that deliveries arriving while
another worker commits join the group about to go rather than wait for the one after.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Deliveries sharing one commit at most; bounds the latency a large burst adds to each.
MAX_GROUP = 200
# Rows in one group at most: the group is one INSERT (on PostgreSQL one array per column; on
# SQLite a back end may set fewer, see `tempmail.db.mail_inserts`). A delivery has at most a
# hundred rows (`tempmail.inbound.smtp`), so every one fits.
MAX_ROWS = 1000

# Outbox rows to write with a group: (position of the mail among the rows, kind).
Queued = Sequence[tuple[int, str]]


@dataclass(slots=True)
class Delivery:
    """The rows of one SMTP DATA (one per accepted recipient) waiting for their commit, with the
    outbox rows they need (`queued`, due at `due`) and the future their caller awaits."""

    rows: Sequence[Mapping[str, Any]]
    queued: Queued
    due: datetime | None
    future: asyncio.Future[list[int]]
    # Set once a group holding it failed: it is then committed in a transaction of its own, so
    # that one bad row fails only its own delivery.
    alone: bool = False


@dataclass(frozen=True, slots=True)
class Group:
    """Deliveries committed in one transaction: their rows in order, and the outbox rows with
    positions among those."""

    deliveries: list[Delivery]
    rows: list[Mapping[str, Any]]
    queued: list[tuple[int, str]]
    due: datetime | None

    def ids_per_delivery(self, ids: Sequence[int]) -> list[list[int]]:
        """The ids of the group's rows (in order) cut back into each delivery's."""
        cut: list[list[int]] = []
        start = 0
        for delivery in self.deliveries:
            cut.append(list(ids[start : start + len(delivery.rows)]))
            start += len(delivery.rows)
        return cut


class DeliveryQueue:
    """Deliveries waiting for a commit, oldest first.

    `add` runs on the event loop; `take` and `failed` run wherever the back end commits (one
    taker at a time: its committer task or its ingest thread). Only the taker removes or puts
    back, and only at the head, while `add` only appends at the tail: each is one atomic
    operation of `deque`, so the two sides need no lock.
    """

    def __init__(self, max_rows: int = MAX_ROWS) -> None:
        self._waiting: deque[Delivery] = deque()
        self.max_rows = max_rows

    def __bool__(self) -> bool:
        return bool(self._waiting)

    def add(
        self, rows: Sequence[Mapping[str, Any]], queued: Queued, due: datetime | None
    ) -> asyncio.Future[list[int]]:
        """Queue one delivery; the future settles once it is committed (or failed)."""
        future: asyncio.Future[list[int]] = asyncio.get_running_loop().create_future()
        self._waiting.append(Delivery(rows, queued, due, future))
        return future

    def take(self) -> Group | None:
        """The oldest deliveries, at most MAX_GROUP of them and `max_rows` rows (the oldest
        alone when it has more, or when it must be); None when nothing waits."""
        taken: list[Delivery] = []
        rows = 0
        while self._waiting and len(taken) < MAX_GROUP:
            head = self._waiting[0]
            if taken and (head.alone or rows + len(head.rows) > self.max_rows):
                break
            taken.append(self._waiting.popleft())
            rows += len(head.rows)
            if head.alone:
                break
        if not taken:
            return None
        all_rows = [row for delivery in taken for row in delivery.rows]
        queued: list[tuple[int, str]] = []
        start = 0
        for delivery in taken:
            queued.extend((start + position, kind) for position, kind in delivery.queued)
            start += len(delivery.rows)
        due = next((delivery.due for delivery in taken if delivery.queued), None)
        return Group(taken, all_rows, queued, due)

    def failed(self, group: Group, error: BaseException) -> Outcome | None:
        """After the group's commit failed: a lone delivery fails with the error; the deliveries
        of a larger group go back to the head of the queue, each to be committed alone, and
        there is nothing to answer yet (None)."""
        if len(group.deliveries) == 1:
            return Outcome(group, error=error)
        for delivery in reversed(group.deliveries):
            delivery.alone = True
            self._waiting.appendleft(delivery)
        return None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of a committed group: its ids, or the error its only delivery fails with."""

    group: Group
    ids: Sequence[int] = ()
    error: BaseException | None = None

    def settle(self) -> None:
        """Answer the callers; on the event loop (futures are not thread-safe)."""
        for delivery, ids in zip(self.group.deliveries, self.group.ids_per_delivery(self.ids), strict=True):
            if delivery.future.done():
                continue
            if self.error is not None:
                delivery.future.set_exception(self.error)
            else:
                delivery.future.set_result(ids)
