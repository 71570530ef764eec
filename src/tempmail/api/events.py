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

from collections.abc import AsyncIterator, Collection
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from starlette.types import Receive, Scope, Send

from tempmail.errors import ApiError
from tempmail.events.live import CATCH_UP_LIMIT, Listener, LiveMail, MailEvent
from tempmail.http.auth import (
    AddressDep,
    UserDep,
    require_address,
    require_admin,
    require_user,
    signed_address,
    signed_user,
)
from tempmail.http.context import ServicesDep, services_of
from tempmail.http.openapi import answers
from tempmail.http.paging import MAX_ID
from tempmail.services import Services

address_router = APIRouter(prefix="/api", tags=["events"])
user_router = APIRouter(prefix="/user_api", tags=["events"])
admin_router = APIRouter(prefix="/admin", tags=["events"], dependencies=[Depends(require_admin)])

ADDRESS_PATH = "/api/events"
USER_PATH = "/user_api/events"
ADMIN_PATH = "/admin/events"
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
    text = last_event_id or last_event_id_query
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


class EventStream(Response):
    """The stream as a bare ASGI response: a client may keep it open for hours, and a process
    holds thousands (issue 17), so it costs the request's own coroutine and nothing else: no
    StreamingResponse task group, no task watching for the client to leave. A client that left
    is noticed when the next write fails: at the next event or heartbeat.

    The listener is registered before the route returns this (see `event_stream`); it is ended
    here, however the stream ends: the client gone, the server stopping (`LiveMail.end_all`),
    or the client reading too slowly."""

    media_type = "text/event-stream"

    def __init__(
        self, live: LiveMail, listener: Listener, resume_after: int | None, heartbeat: float
    ) -> None:
        self.live = live
        self.listener = listener
        self.resume_after = resume_after
        self.heartbeat = heartbeat
        self.status_code = 200
        self.background = None
        self.init_headers({"cache-control": "no-cache", "x-accel-buffering": "no"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async for chunk in self._frames():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # the client is gone mid-write
            pass
        finally:
            self.live.end(self.listener)

    async def _frames(self) -> AsyncIterator[bytes]:
        yield f"retry: {RETRY_MS}\n\n".encode()
        # What a resuming client missed, page after page, then what came meanwhile (a mail in
        # both is sent once: by id, since PostgreSQL commits need not come in id order).
        replayed: set[int] = set()
        after = self.resume_after
        while after is not None:
            missed = await self.live.missed(after, self.listener.addresses)
            for event in missed:
                replayed.add(event.id)
                yield frame(event)
            after = missed[-1].id if len(missed) == CATCH_UP_LIMIT else None
        while True:
            try:
                live = await self.listener.next(self.heartbeat)
            except TimeoutError:
                yield b": heartbeat\n\n"
                continue
            if live is None:
                return
            if not (live.kind == "mail" and live.id in replayed):
                yield frame(live)


def event_stream(
    services: Services, addresses: Collection[str] | None, resume_after: int | None
) -> EventStream:
    """Listen now, before anything is read: a mail stored while the replay is read comes in
    both, and is sent once."""
    live = services.live
    return EventStream(live, live.listen(addresses), resume_after, services.settings.EVENTS_HEARTBEAT_SECONDS)


@address_router.get("/events", responses=STREAM_ANSWERS, response_class=EventStream, status_code=200)
async def address_events(claim: AddressDep, services: ServicesDep, resume_after: ResumeDep) -> EventStream:
    """The address's new and deleted mail, as it happens."""
    return event_stream(services, [claim.address], resume_after)


@user_router.get("/events", responses=STREAM_ANSWERS, response_class=EventStream, status_code=200)
async def user_events(claim: UserDep, services: ServicesDep, resume_after: ResumeDep) -> EventStream:
    """The mail of every address bound to the user when the stream opens (reconnect to follow
    a new binding)."""
    bound = [row.name for row in await services.users.bound_all(claim.user_id)]
    return event_stream(services, bound, resume_after)


@admin_router.get("/events", responses=STREAM_ANSWERS, response_class=EventStream, status_code=200)
async def admin_events(
    services: ServicesDep,
    resume_after: ResumeDep,
    address: Annotated[str | None, Query(description="Only this address's mail.")] = None,
) -> EventStream:
    """Every address's mail (or one address's)."""
    only = [address.strip().lower()] if address and address.strip() else None
    return event_stream(services, only, resume_after)


# The streams are opened ahead of FastAPI's routing too (see tempmail.http.fast_lane), by the
# routes' own dependencies and functions: FastAPI keeps a request's dependency state and its
# middleware frames alive for as long as the response runs, hours for a stream.


async def address_answer(request: Request) -> Response:
    services = services_of(request)
    claim = await require_address(await signed_address(request, services), services)
    return await address_events(claim, services, await _resume_of(request))


async def user_answer(request: Request) -> Response:
    services = services_of(request)
    claim = await require_user(await signed_user(request, services), services)
    return await user_events(claim, services, await _resume_of(request))


async def admin_answer(request: Request) -> Response | None:
    services = services_of(request)
    await require_admin(request, services)
    return await admin_events(services, await _resume_of(request), request.query_params.get("address"))


async def _resume_of(request: Request) -> int | None:
    return await resume_point(request.headers.get("last-event-id"), request.query_params.get("last_event_id"))
