"""The push API (`/api/events`, `/user_api/events`, `/admin/events`) as a client sees it: real
servers, real SMTP, real HTTP streams read with a deadline (no read can hang a test).

Each stream is read by a task of its own into a queue of parsed Server-Sent Events; the tests
wait on the queue with timeouts. Deadlines are generous except the issue's own (a mail shows
within 2 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tempmail.db.mail_feed import APPLICATION_NAME
from tests.accounts.test_user_accounts import email, register
from tests.conftest import ServerFactory
from tests.support import ADMIN_PASSWORD, Server
from tests.test_workers import WORKER_HEADER, _start

# The issue: a stored mail reaches an open stream within 2 s.
ARRIVAL_SECONDS = 2.0
# How long a test listens for something that must not come.
QUIET_SECONDS = 1.0
MAIL_KEYS = {"id", "address", "source", "subject", "created_at", "code", "extract"}
ADDRESS_CREDENTIAL = "Invalid address credential"
ADDRESS_CREDENTIAL_ZH = "无效的邮箱地址凭据"
USER_TOKEN = "Your token has expired, please login again"
ADMIN_TEXT = "You need to provide the admin password to access this page"
SITE_TEXT = "You have enabled the private site password, please provide the password"
INVALID_LAST_EVENT_ID = "Invalid Last-Event-ID"
# Shared with tests/http/test_request_pipeline.py, so both use one server.
SITE_PASSWORDS = '["pw1", "pw2"]'


# --- reading a stream ------------------------------------------------------------------------


@dataclass
class Event:
    """One dispatched event: its `event:`, `id:` (None when the event had no such line) and
    `data:` lines."""

    event: str | None = None
    id: str | None = None
    data: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads("\n".join(self.data))


class EventStream:
    """An open `text/event-stream` response, read line by line by a task into `queue`.

    `lines` keeps every line as received (the `retry:` line, the comments); `ended` is set when
    the server closed the stream."""

    def __init__(self, client: httpx.AsyncClient, response: httpx.Response) -> None:
        self.client = client
        self.response = response
        self.lines: list[str] = []
        self.comments: list[str] = []
        self.retry: list[str] = []
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self.ended = asyncio.Event()
        self.comment_seen = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._read())

    @property
    def worker(self) -> str | None:
        worker = self.response.headers.get(WORKER_HEADER)
        return None if worker is None else str(worker)

    async def _read(self) -> None:
        current = Event()
        try:
            async for line in self.response.aiter_lines():
                self.lines.append(line)
                if line == "":
                    if current.data or current.event is not None:
                        self.queue.put_nowait(current)
                    current = Event()
                elif line.startswith(":"):
                    self.comments.append(line)
                    self.comment_seen.set()
                else:
                    name, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    if name == "event":
                        current.event = value
                    elif name == "id":
                        current.id = value
                    elif name == "data":
                        current.data.append(value)
                    elif name == "retry":
                        self.retry.append(value)
        except (httpx.HTTPError, httpx.StreamError):
            pass  # the server went away: as good as an end for these tests
        finally:
            self.ended.set()

    async def next(self, within: float = ARRIVAL_SECONDS) -> Event:
        try:
            return await asyncio.wait_for(self.queue.get(), within)
        except TimeoutError:
            raise AssertionError(f"no event within {within} s; lines so far: {self.lines!r}") from None

    async def take(self, count: int, within: float = ARRIVAL_SECONDS) -> list[Event]:
        """The next `count` events, all within `within` seconds."""
        deadline = time.monotonic() + within
        return [await self.next(max(0.0, deadline - time.monotonic())) for _ in range(count)]

    async def mails_for(self, count: int, address: str, within: float = ARRIVAL_SECONDS) -> list[Event]:
        """The next `count` events about `address`, skipping others' (admin streams see all)."""
        deadline = time.monotonic() + within
        found: list[Event] = []
        while len(found) < count:
            event = await self.next(max(0.0, deadline - time.monotonic()))
            if event.json().get("address") == address:
                found.append(event)
        return found

    async def quiet(self, seconds: float = QUIET_SECONDS) -> list[Event]:
        """Whatever events come in the next `seconds`."""
        await asyncio.sleep(seconds)
        found = []
        while not self.queue.empty():
            found.append(self.queue.get_nowait())
        return found

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task
        with contextlib.suppress(Exception):
            await self.response.aclose()
        await self.client.aclose()


@contextlib.asynccontextmanager
async def opened(
    server: Server, path: str, headers: Mapping[str, str] | None = None, expect: int = 200
) -> AsyncIterator[EventStream]:
    """A stream on a connection of its own (so several spread over the workers), once the
    server has answered its head: from then on its listener is registered."""
    stream = await open_stream(server, path, headers)
    try:
        assert stream.response.status_code == expect, await stream.response.aread()
        yield stream
    finally:
        await stream.close()


async def open_stream(server: Server, path: str, headers: Mapping[str, str] | None = None) -> EventStream:
    client = httpx.AsyncClient(base_url=server.base_url, timeout=httpx.Timeout(30, read=60))
    request = client.build_request("GET", path, headers=dict(headers or {}))
    response = await asyncio.wait_for(client.send(request, stream=True), 30)
    return EventStream(client, response)


async def refused(server: Server, path: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
    """A request that must be answered at once (an error, never a stream): its whole answer."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        return await client.get(path, headers=dict(headers or {}))


def bearer(jwt: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt}"}


def subject_of(tag: str) -> str:
    return f"push {tag} {uuid.uuid4().hex[:8]}"


def send(server: Server, to: str, subject: str, body: str = "Hello there.") -> None:
    server.send(
        to,
        f"From: Bob <bob@remote.example>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@remote.example>\r\n\r\n{body}\r\n",
        mail_from="bob@remote.example",
    )


def inbox(server: Server, jwt: str) -> list[dict[str, Any]]:
    return list(server.mails(jwt, limit=50)["results"])


async def started_streams_first(stream: EventStream) -> None:
    """The first line of a stream is `retry: 3000` (then the blank line ending it)."""
    deadline = time.monotonic() + ARRIVAL_SECONDS
    while len(stream.lines) < 2:
        assert time.monotonic() < deadline, stream.lines
        await asyncio.sleep(0.02)
    assert stream.lines[:2] == ["retry: 3000", ""]


# --- /api/events -----------------------------------------------------------------------------


async def test_a_mail_arrives_on_its_address_stream(server: Server) -> None:
    mine, other = server.new_address(), server.new_address()
    async with opened(server, "/api/events", bearer(mine["jwt"])) as stream:
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        await started_streams_first(stream)
        send(server, other["address"], subject_of("not yours"))
        subject = subject_of("plain")
        sent = time.monotonic()
        send(server, mine["address"], subject, "Nothing to extract here, just saying hello.")
        event = await stream.next()
        assert time.monotonic() - sent < ARRIVAL_SECONDS
        assert event.event == "mail"
        data = event.json()
        assert set(data) == MAIL_KEYS, data
        (row,) = inbox(server, mine["jwt"])
        assert event.id == str(row["id"]) and data["id"] == row["id"]
        assert data["address"] == mine["address"]
        assert data["subject"] == subject
        assert data["source"] == row["source"]
        assert data["created_at"] == row["created_at"]
        assert data["code"] is None and data["extract"] is None
        assert await stream.quiet() == [], "another address's mail is not on this stream"


async def test_a_verification_code_is_in_the_event(server: Server) -> None:
    mine = server.new_address()
    async with opened(server, "/api/events", bearer(mine["jwt"])) as stream:
        send(server, mine["address"], "Your code", "Your verification code is 482913")
        event = await stream.next()
        data = event.json()
        assert event.event == "mail" and set(data) == MAIL_KEYS
        assert data["code"] == "482913"
        assert data["extract"]["type"] == "auth_code"
        assert data["extract"]["result"] == "482913"


async def test_mails_arrive_in_order_each_once(server: Server) -> None:
    mine = server.new_address()
    async with opened(server, "/api/events", bearer(mine["jwt"])) as stream:
        subjects = [subject_of(f"n{n}") for n in range(3)]
        for subject in subjects:
            send(server, mine["address"], subject)
        events = await stream.take(3, within=3 * ARRIVAL_SECONDS)
        assert [e.json()["subject"] for e in events] == subjects
        ids = [int(e.id or 0) for e in events]
        assert ids == sorted(ids) and len(set(ids)) == 3
        assert sorted(row["id"] for row in inbox(server, mine["jwt"])) == ids
        assert await stream.quiet() == []


@pytest.mark.parametrize("how", ["address", "admin"])
async def test_a_deleted_mail_is_an_event_without_id(server: Server, how: str) -> None:
    mine = server.new_address()
    async with opened(server, "/api/events", bearer(mine["jwt"])) as stream:
        send(server, mine["address"], subject_of("to delete"))
        mail_id = (await stream.next()).json()["id"]
        if how == "address":
            response = server.with_jwt("DELETE", f"/api/mails/{mail_id}", mine["jwt"])
        else:
            response = server.admin("DELETE", f"/admin/mails/{mail_id}")
        assert response.status_code == 200, response.text
        event = await stream.next()
        assert event.event == "deleted"
        assert event.id is None, "a deletion carries no event id"
        assert event.json() == {"id": mail_id, "address": mine["address"]}
        id_lines = [line for line in stream.lines if line.startswith("id:")]
        assert id_lines == [f"id: {mail_id}"], "only the mail event had an id line"


async def test_clearing_the_inbox_is_a_deletion_per_mail(server: Server) -> None:
    mine = server.new_address()
    async with opened(server, "/api/events", bearer(mine["jwt"])) as stream:
        for n in range(2):
            send(server, mine["address"], subject_of(f"c{n}"))
        ids = [e.json()["id"] for e in await stream.take(2, within=2 * ARRIVAL_SECONDS)]
        cleared = server.with_jwt("DELETE", "/api/clear_inbox", mine["jwt"])
        assert cleared.status_code == 200, cleared.text
        events = await stream.take(2)
        assert [e.event for e in events] == ["deleted", "deleted"]
        assert sorted(e.json()["id"] for e in events) == sorted(ids)
        assert await stream.quiet() == []


# --- resuming --------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["header", "query"])
async def test_resume_replays_what_was_missed_then_goes_live(server: Server, where: str) -> None:
    mine, other = server.new_address(), server.new_address()
    subjects = [subject_of(f"old{n}") for n in range(4)]
    for subject in subjects[:2]:
        send(server, mine["address"], subject)
    send(server, other["address"], subject_of("someone else's"))
    for subject in subjects[2:]:
        send(server, mine["address"], subject)
    stored = sorted(inbox(server, mine["jwt"]), key=lambda row: int(row["id"]))
    assert len(stored) == 4
    seen = stored[0]["id"]
    if where == "header":
        path, headers = "/api/events", {**bearer(mine["jwt"]), "Last-Event-ID": str(seen)}
    else:
        path, headers = f"/api/events?last_event_id={seen}", bearer(mine["jwt"])
    async with opened(server, path, headers) as stream:
        await started_streams_first(stream)
        replayed = await stream.take(3)
        assert [e.id for e in replayed] == [str(row["id"]) for row in stored[1:]], "oldest first"
        assert [e.json()["subject"] for e in replayed] == subjects[1:]
        assert all(e.event == "mail" and set(e.json()) == MAIL_KEYS for e in replayed)
        live = subject_of("live")
        send(server, mine["address"], live)
        event = await stream.next()
        assert event.json()["subject"] == live and int(event.id or 0) > stored[-1]["id"]
        assert await stream.quiet() == [], "nothing twice"


async def test_resume_from_the_newest_replays_nothing(server: Server) -> None:
    mine = server.new_address()
    send(server, mine["address"], subject_of("seen"))
    (row,) = inbox(server, mine["jwt"])
    headers = {**bearer(mine["jwt"]), "Last-Event-ID": str(row["id"])}
    async with opened(server, "/api/events", headers) as stream:
        assert await stream.quiet(0.5) == []


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", str(2**63)])
@pytest.mark.parametrize("where", ["header", "query"])
async def test_a_bad_last_event_id_is_refused(server: Server, value: str, where: str) -> None:
    mine = server.new_address()
    if where == "header":
        response = await refused(server, "/api/events", {**bearer(mine["jwt"]), "Last-Event-ID": value})
    else:
        response = await refused(server, f"/api/events?last_event_id={value}", bearer(mine["jwt"]))
    assert (response.status_code, response.text) == (400, INVALID_LAST_EVENT_ID)


async def test_the_largest_last_event_id_is_accepted(server: Server) -> None:
    mine = server.new_address()
    headers = {**bearer(mine["jwt"]), "Last-Event-ID": str(2**63 - 1)}
    async with opened(server, "/api/events", headers) as stream:
        await started_streams_first(stream)


# --- credentials -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic abc"}],
    ids=["none", "garbage", "not-bearer"],
)
async def test_the_address_stream_needs_a_valid_jwt(server: Server, headers: dict[str, str]) -> None:
    response = await refused(server, "/api/events", headers)
    assert (response.status_code, response.text) == (401, ADDRESS_CREDENTIAL)


async def test_the_credential_error_in_chinese(server: Server) -> None:
    response = await refused(server, "/api/events", {"Authorization": "Bearer nope", "x-lang": "zh"})
    assert (response.status_code, response.text) == (401, ADDRESS_CREDENTIAL_ZH)


async def test_a_deleted_address_has_no_stream(server: Server) -> None:
    mine = server.new_address()
    deleted = server.with_jwt("DELETE", "/api/delete_address", mine["jwt"])
    assert deleted.status_code == 200, deleted.text
    response = await refused(server, "/api/events", bearer(mine["jwt"]))
    assert (response.status_code, response.text) == (401, ADDRESS_CREDENTIAL)


def bind(server: Server, user_jwt: str, address_jwt: str) -> None:
    response = server.client.post(
        "/user_api/bind_address", headers={"x-user-token": user_jwt, **bearer(address_jwt)}
    )
    assert response.status_code == 200, response.text


async def test_the_user_stream_carries_its_bound_addresses_only(server: Server) -> None:
    user = register(server, email())
    first, second, stranger = server.new_address(), server.new_address(), server.new_address()
    bind(server, user, first["jwt"])
    bind(server, user, second["jwt"])
    async with opened(server, "/user_api/events", {"x-user-token": user}) as stream:
        await started_streams_first(stream)
        send(server, stranger["address"], subject_of("stranger"))
        send(server, first["address"], subject_of("first"))
        send(server, second["address"], subject_of("second"))
        events = await stream.take(2, within=2 * ARRIVAL_SECONDS)
        assert [e.json()["address"] for e in events] == [first["address"], second["address"]]
        assert await stream.quiet() == []


async def test_the_user_stream_resumes_over_its_bound_addresses(server: Server) -> None:
    user = register(server, email())
    first, stranger = server.new_address(), server.new_address()
    bind(server, user, first["jwt"])
    send(server, first["address"], subject_of("seen"))
    (seen,) = inbox(server, first["jwt"])
    missed = subject_of("missed")
    send(server, stranger["address"], subject_of("stranger"))
    send(server, first["address"], missed)
    headers = {"x-user-token": user, "Last-Event-ID": str(seen["id"])}
    async with opened(server, "/user_api/events", headers) as stream:
        (event,) = await stream.take(1)
        assert event.json()["subject"] == missed
        assert await stream.quiet(0.5) == []


@pytest.mark.parametrize("token", [None, "not-a-token"])
async def test_the_user_stream_needs_a_valid_token(server: Server, token: str | None) -> None:
    response = await refused(server, "/user_api/events", {} if token is None else {"x-user-token": token})
    assert (response.status_code, response.text) == (401, USER_TOKEN)


async def test_the_admin_stream_carries_every_address(server: Server) -> None:
    first, second = server.new_address(), server.new_address()
    async with opened(server, "/admin/events", {"x-admin-auth": ADMIN_PASSWORD}) as stream:
        await started_streams_first(stream)
        send(server, first["address"], subject_of("a"))
        send(server, second["address"], subject_of("b"))
        (one,) = await stream.mails_for(1, first["address"], within=2 * ARRIVAL_SECONDS)
        (two,) = await stream.mails_for(1, second["address"], within=2 * ARRIVAL_SECONDS)
        assert one.event == two.event == "mail"
        assert set(one.json()) == set(two.json()) == MAIL_KEYS


async def test_the_admin_stream_of_one_address(server: Server) -> None:
    first, second = server.new_address(), server.new_address()
    path = f"/admin/events?address={first['address'].upper()}"
    async with opened(server, path, {"x-admin-auth": ADMIN_PASSWORD}) as stream:
        send(server, second["address"], subject_of("other"))
        send(server, first["address"], subject_of("wanted"))
        event = await stream.next()
        assert event.json()["address"] == first["address"]
        assert await stream.quiet() == []


@pytest.mark.parametrize("password", [None, "wrong-password"])
async def test_the_admin_stream_needs_the_admin_password(server: Server, password: str | None) -> None:
    response = await refused(server, "/admin/events", {} if password is None else {"x-admin-auth": password})
    assert (response.status_code, response.text) == (401, ADMIN_TEXT)


# --- what every request goes through -----------------------------------------------------------


async def test_the_site_password_guards_the_stream_as_it_guards_the_api(make_server: ServerFactory) -> None:
    private = make_server(PASSWORDS=SITE_PASSWORDS)
    created = private.client.post("/api/new_address", json={}, headers={"x-custom-auth": "pw1"})
    assert created.status_code == 200, created.text
    jwt, address = created.json()["jwt"], created.json()["address"]
    plain = private.client.get("/api/mails?limit=1&offset=0", headers=bearer(jwt))
    assert (plain.status_code, plain.text) == (401, SITE_TEXT)
    response = await refused(private, "/api/events", bearer(jwt))
    assert (response.status_code, response.text) == (plain.status_code, plain.text)
    async with opened(private, "/api/events", {**bearer(jwt), "x-custom-auth": "pw2"}) as stream:
        send(private, address, subject_of("private"))
        assert (await stream.next()).json()["address"] == address


async def test_cors_on_the_stream(server: Server) -> None:
    mine = server.new_address()
    headers = {**bearer(mine["jwt"]), "Origin": "https://ui.example"}
    async with opened(server, "/api/events", headers) as stream:
        allowed = stream.response.headers.get("access-control-allow-origin")
        assert allowed in ("*", "https://ui.example"), stream.response.headers


async def test_an_idle_stream_has_heartbeats(make_server: ServerFactory) -> None:
    server = make_server(EVENTS_HEARTBEAT_SECONDS="0.5")
    mine = server.new_address()
    async with opened(server, "/api/events", bearer(mine["jwt"])) as stream:
        await asyncio.wait_for(stream.comment_seen.wait(), 2)
        assert stream.queue.empty(), "a heartbeat is no event"


# --- several workers, stopping -------------------------------------------------------------------


async def test_every_stream_of_every_worker_gets_every_mail_once(backend: str) -> None:
    server = _start(backend)
    streams: list[EventStream] = []
    try:
        mine = server.new_address()
        # Two streams on each worker: a new connection lands on either; keep the ones needed.
        per_worker: dict[str, int] = {}
        for _ in range(200):
            if len(streams) == 4:
                break
            stream = await open_stream(server, "/api/events", bearer(mine["jwt"]))
            assert stream.response.status_code == 200
            worker = stream.worker or "?"
            if per_worker.get(worker, 0) >= 2:
                await stream.close()
                continue
            per_worker[worker] = per_worker.get(worker, 0) + 1
            streams.append(stream)
        assert per_worker == {"0": 2, "1": 2}, per_worker
        subjects = [subject_of(f"w{n}") for n in range(3)]
        for subject in subjects:
            send(server, mine["address"], subject)
        ids = sorted(int(row["id"]) for row in inbox(server, mine["jwt"]))
        for stream in streams:
            events = await stream.take(3, within=3 * ARRIVAL_SECONDS)
            assert sorted(e.json()["subject"] for e in events) == sorted(subjects), stream.worker
            assert sorted(int(e.id or 0) for e in events) == ids
        await asyncio.sleep(QUIET_SECONDS)
        for stream in streams:
            assert stream.queue.empty(), f"worker {stream.worker} sent a mail twice"
        deleted = server.admin("DELETE", f"/admin/mails/{ids[0]}")
        assert deleted.status_code == 200, deleted.text
        for stream in streams:
            event = await stream.next()
            assert (event.event, event.json()["id"]) == ("deleted", ids[0]), stream.worker
    finally:
        for stream in streams:
            await stream.close()
        server.close()


async def test_a_server_with_open_streams_stops_promptly(backend: str) -> None:
    server = Server(backend).start()
    try:
        mine = server.new_address()
        async with (
            opened(server, "/api/events", bearer(mine["jwt"])) as first,
            opened(server, "/admin/events", {"x-admin-auth": ADMIN_PASSWORD}) as second,
        ):
            await started_streams_first(first)
            await started_streams_first(second)
            assert server.proc is not None
            asked = time.monotonic()
            server.proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(first.ended.wait(), 10)
            await asyncio.wait_for(second.ended.wait(), 10)
            code = await asyncio.to_thread(server.proc.wait, 10)
            assert time.monotonic() - asked < 10
            assert code == 0, server.output()
        assert "Traceback" not in server.output(), server.output()
    finally:
        server.close()


# --- PostgreSQL: the feed's own connection drops ---------------------------------------------------


def drop_feed_connection(server: Server) -> None:
    """Terminate the server's LISTEN connection (named by its application_name)."""
    rows = server.db.sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ? AND application_name = ?",
        server.db.name,
        APPLICATION_NAME,
    )
    assert rows == [(True,)], rows


@pytest.mark.backends("postgresql")
async def test_a_dropped_feed_connection_loses_no_mail(server: Server) -> None:
    mine = server.new_address()
    async with opened(server, "/api/events", bearer(mine["jwt"])) as stream:
        send(server, mine["address"], subject_of("before"))
        await stream.next()
        drop_feed_connection(server)
        subject = subject_of("during")
        send(server, mine["address"], subject)
        event = await stream.next(within=10)
        assert event.json()["subject"] == subject
        assert await stream.quiet() == [], "nothing twice"


@pytest.mark.backends("postgresql")
async def test_a_dropped_feed_connection_replays_no_old_mail(backend: str) -> None:
    """A mail stored before the server started is not news when its feed reconnects."""
    server = Server(backend).start()
    try:
        mine = server.new_address()
        old = subject_of("stored before the start")
        send(server, mine["address"], old)
        server.stop()
        server.client = httpx.Client(base_url=server.base_url, timeout=30)
        server.start()
        async with opened(server, "/api/events", bearer(mine["jwt"])) as stream:
            await started_streams_first(stream)
            drop_feed_connection(server)
            await asyncio.sleep(1)  # the feed reconnects after 0.1 s, then catches up
            new = subject_of("after the reconnect")
            send(server, mine["address"], new)
            events = [await stream.next(within=10)] + await stream.quiet()
            assert [e.json()["subject"] for e in events] == [new]
    finally:
        server.close()
