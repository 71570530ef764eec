"""Searching an address's mail (issue 19): sender (name and address), subject and text, as a
case-insensitive substring, newest first, paged and counted.

The index (`tempmail.db.mail_search`) is filled off the receive path: `index_pending`, a
background job of worker 0 under its lease (`tempmail.jobs`), catches up by id in batches and
gives way while mail comes in a burst, so ingest never waits for it. Mail it has not reached yet
(the last seconds' mail, or a backlog after an upgrade) is never missing from a search: the
search parses the address's unindexed tail itself and merges what matches.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Sequence

import nh3

from tempmail.db.mail_search import MailSearchStore
from tempmail.db.mails import MailRow, MailStore, raw_bytes
from tempmail.db.paging import Page
from tempmail.errors import ApiError
from tempmail.inbound.ingest_meter import IngestMeter
from tempmail.inbound.mail_stored import BURST_RATE, RATE_WINDOW_SECONDS
from tempmail.inbound.parse import parse_mail

INVALID_QUERY = "Invalid query"
MAX_QUERY_CHARS = 200
# How much of a mail's text is searchable.
MAX_INDEXED_CHARS = 100_000
BATCH = 100
# One run of the job indexes for at most this long; the next run goes on.
RUN_SECONDS = 4.0
GIVE_WAY_SECONDS = 0.2
# A tail this long is parsed by the search itself (the indexer catches up with the rest).
MAX_TAIL = 2_000
MAX_REACH = 2**63 - 1
# HTML elements whose content is not text of the mail.
HIDDEN_TAGS = {"script", "style", "head", "title"}


def normalized(text: str) -> str:
    """Lower-cased, with every run of white space (and NUL, which PostgreSQL's text cannot
    hold) one space, and what is not UTF-8 (lone surrogates of undecodable bytes) as `?`: what
    is indexed and searched."""
    readable = text.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8")
    return " ".join(readable.split()).lower()


def needle_of(query: str | None) -> str:
    """The search text, or a 400 naming the query when it is empty or too long."""
    needle = normalized(query or "")
    if not needle or len(needle) > MAX_QUERY_CHARS:
        raise ApiError(400, INVALID_QUERY)
    return needle


def searchable(row: MailRow) -> str:
    """A mail's searchable text: From header (name and address), envelope sender, subject and
    text (the HTML's text when there is no text part)."""
    parsed = parse_mail(raw_bytes(row))
    body = parsed.text
    if not body.strip() and parsed.html:
        body = html.unescape(nh3.clean(parsed.html, tags=set(), clean_content_tags=HIDDEN_TAGS))
    return normalized(" ".join((parsed.sender, row.source or "", parsed.subject, body)))[:MAX_INDEXED_CHARS]


def _text_of(row: MailRow) -> str:
    """`searchable`, or only the envelope sender of a mail that cannot be read: one bad mail
    must neither stop the indexer nor fail a search."""
    try:
        return searchable(row)
    except Exception:
        return normalized(row.source or "")


def _entries(rows: Sequence[MailRow]) -> list[tuple[int, str]]:
    return [(row.id, _text_of(row)) for row in rows]


def _matching(rows: Sequence[MailRow], needle: str) -> list[int]:
    return [row.id for row in rows if needle in _text_of(row)]


class MailSearch:
    def __init__(self, store: MailSearchStore, mails: MailStore, meter: IngestMeter) -> None:
        self.store = store
        self.mails = mails
        self.meter = meter

    async def search(self, owner: str, query: str | None, limit: int, offset: int) -> Page[MailRow]:
        """A page of `owner`'s mail whose text contains `query`, newest first, and how many
        there are in all (on every page: a search is counted anyway)."""
        needle = needle_of(query)
        tail = await self.store.pending(await self.store.indexed_through(), MAX_TAIL, owner=owner)
        tail_hits = await asyncio.to_thread(_matching, tail, needle) if tail else []
        indexed, count = await self.store.matching(owner, needle, min(offset + limit, MAX_REACH))
        ids = sorted({*tail_hits, *indexed}, reverse=True)[offset : offset + limit]
        rows = await self.mails.with_ids(ids)
        return Page(sorted(rows, key=lambda row: row.id, reverse=True), count + len(tail_hits))

    async def index_pending(self) -> None:
        """Index the mail stored since the last run, in batches, for up to RUN_SECONDS; while
        mail comes in a burst it waits, so receiving keeps the machine."""
        deadline = time.monotonic() + RUN_SECONDS
        while time.monotonic() < deadline:
            if self.meter.rate(RATE_WINDOW_SECONDS) > BURST_RATE:
                await asyncio.sleep(GIVE_WAY_SECONDS)
                continue
            rows = await self.store.pending(await self.store.indexed_through(), BATCH)
            if not rows:
                return
            entries = await asyncio.to_thread(_entries, rows)
            await self.store.add(entries)
