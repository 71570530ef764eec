"""The push API: Server-Sent Events of new and deleted mail, for an address, a user or the admin.

`GET /api/events` (address JWT), `GET /user_api/events` (`x-user-token`: every bound address)
and `GET /admin/events` (admin; `?address=` for one address) answer `text/event-stream` and stay
open. Each stored mail is an event `mail` whose id is the mail's id and whose data is its
`id`, `address`, `source`, `subject`, `created_at`, `code` and `extract` (no body); each deleted
mail an event `deleted` (data `id`, `address`; no event id). A comment line goes out every
EVENTS_HEARTBEAT_SECONDS so proxies keep the connection. `Last-Event-ID` (the header
EventSource sends when it reconnects, or the `last_event_id` query parameter) first replays the
mails stored after that id. The credentials, the site password and CORS are the JSON API's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import StreamingResponse

from tempmail.errors import ApiError
from tempmail.events.live import Listener, LiveMail, MailEvent
from tempmail.http.auth import AddressDep, UserDep, require_admin
from tempmail.http.context import ServicesDep
from tempmail.http.openapi import answers
from tempmail.http.paging import MAX_ID

address_router = APIRouter(prefix="/api", tags=["events"])
user_router = APIRouter(prefix="/user_api", tags=["events"])
admin_router = APIRouter(prefix="/admin", tags=["events"], dependencies=[Depends(require_admin)])

INVALID_LAST_EVENT_ID = "Invalid Last-Event-ID"
# Tells EventSource how long to wait before reconnecting (ms), sent first: the client then
# also knows the stream is open.
RETRY_MS = 3000
EVENT_EXAMPLE = (
    'id: 42\nevent: mail\ndata: {"id":42,"address":"alice@example.com","source":"bob@example.org",'
    '"subject":"Your code","created_at":"2026-12-07 10:00:00","code":"123456",'
    '"extract":{"type":"auth_code","result":"123456","result_text":"Your code is 123456"}}\n\n'
    'event: deleted\ndata: {"id":41,"address":"alice@example.com"}\n\n'
    ": heartbeat\n\n"
)
STREAM_ANSWERS: dict[int | str, dict[str, Any]] = {
    **answers({400: INVALID_LAST_EVENT_ID}),
    200: {
        "description": "An endless stream of Server-Sent Events",
        "content": {"text/event-stream": {"schema": {"type": "string"}, "example": EVENT_EXAMPLE}},
    },
}


async def resume_point(
    last_event_id: Annotated[
        str | None, Header(description="Resume after this mail id (what EventSource sends).")
    ] = None,
    last_event_id_query: Annotated[
        str | None,
        Query(alias="last_event_id", description="The same, for a client that cannot set headers."),
    ] = None,
) -> int | None:
    """The mail id a reconnecting client last saw: the header, else the query parameter."""
    text = last_event_id if last_event_id is not None else last_event_id_query
    if text is None or text.strip() == "":
        return None
    text = text.strip()
    if not text.isascii() or not text.isdigit() or int(text) > MAX_ID:
        raise ApiError(400, INVALID_LAST_EVENT_ID)
    return int(text)


ResumeDep = Annotated[int | None, Depends(resume_point)]


def frame(event: MailEvent) -> bytes:
    """One event as the stream sends it (orjson writes no newline, so `data` is one line)."""
    head = f"id: {event.id}\nevent: {event.kind}\n" if event.kind == "mail" else f"event: {event.kind}\n"
    return head.encode() + b"data: " + orjson.dumps(event.data) + b"\n\n"


async def _frames(
    live: LiveMail, listener: Listener, missed: list[MailEvent], heartbeat: float
) -> AsyncIterator[bytes]:
    try:
        yield f"retry: {RETRY_MS}\n\n".encode()
        sent = 0
        for event in missed:
            sent = event.id
            yield frame(event)
        while True:
            try:
                async with asyncio.timeout(heartbeat):
                    event_or_end = await listener.queue.get()
            except TimeoutError:
                yield b": heartbeat\n\n"
                continue
            if event_or_end is None:
                return
            # Already sent from the database (it was stored while the replay was read).
            if event_or_end.kind == "mail" and event_or_end.id <= sent:
                continue
            yield frame(event_or_end)
    finally:
        live.end(listener)


async def event_stream(
    services: ServicesDep, addresses: Collection[str] | None, resume_after: int | None
) -> StreamingResponse:
    """Listen first, then read what a resuming client missed: a mail stored in between is in
    both, and sent once."""
    live = services.live
    listener = live.listen(addresses)
    try:
        missed = [] if resume_after is None else await live.missed(resume_after, addresses)
    except BaseException:
        live.end(listener)
        raise
    heartbeat = services.settings.EVENTS_HEARTBEAT_SECONDS
    return StreamingResponse(
        _frames(live, listener, missed, heartbeat),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )


@address_router.get("/events", responses=STREAM_ANSWERS, response_class=StreamingResponse)
async def address_events(
    claim: AddressDep, services: ServicesDep, resume_after: ResumeDep
) -> StreamingResponse:
    """The address's new and deleted mail, as it happens."""
    return await event_stream(services, [claim.address], resume_after)


@user_router.get("/events", responses=STREAM_ANSWERS, response_class=StreamingResponse)
async def user_events(claim: UserDep, services: ServicesDep, resume_after: ResumeDep) -> StreamingResponse:
    """The mail of every address bound to the user when the stream opens (reconnect to follow
    a new binding)."""
    bound = [row.name for row in await services.users.bound_all(claim.user_id)]
    return await event_stream(services, bound, resume_after)


@admin_router.get("/events", responses=STREAM_ANSWERS, response_class=StreamingResponse)
async def admin_events(
    services: ServicesDep,
    resume_after: ResumeDep,
    address: Annotated[str | None, Query(description="Only this address's mail.")] = None,
) -> StreamingResponse:
    """Every address's mail (or one address's)."""
    only = [address.strip().lower()] if address and address.strip() else None
    return await event_stream(services, only, resume_after)
