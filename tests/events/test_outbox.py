"""Issue 17 item 5: jobs and deliveries once, durably.

The outbox rows written with the mail, retries with their attempts and errors visible in
`GET /admin/deliveries`, forwards and auto-replies through a real relay, and real nodes (two
`tempmail serve` processes on one PostgreSQL database): each mail's webhook delivered exactly
once, a node killed mid-delivery leaving it to the other, scheduled jobs run once per interval.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.fakes.http_receiver import HttpReceiver
from tests.fakes.smtp_sink import SmtpSink
from tests.support import Server, free_port

WEBHOOK_ENV = {"ENABLE_WEBHOOK": "true", "OUTBOUND_ALLOW_NETWORKS": "127.0.0.1"}
DELIVERY_HEADER = "X-Tempmail-Delivery"


@pytest.fixture(scope="module")
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as http:
        yield http


@pytest.fixture(scope="module")
def relay() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


def unique(prefix: str = "o") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def raw_mail(to: str, subject: str) -> str:
    return (
        f"From: Bob <bob@remote.example>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{unique('m')}@remote.example>\r\n\r\nbody of {subject}\r\n"
    )


def hook(url: str) -> dict[str, Any]:
    return {"enabled": True, "url": url, "method": "POST", "body": '{"id": "${id}"}'}


def deliveries(server: Server, status: str | None = None) -> list[dict[str, Any]]:
    query = "/admin/deliveries?limit=100&offset=0" + (f"&status={status}" if status else "")
    response = server.admin("GET", query)
    assert response.status_code == 200, response.text
    return list(response.json()["results"])


def wait_for(condition: Callable[[], Any], timeout: float = 20, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or condition}")


def of_mail(server: Server, mail_id: int, kind: str, status: str | None = None) -> dict[str, Any] | None:
    rows = [row for row in deliveries(server, status) if row["mail_id"] == mail_id and row["kind"] == kind]
    return rows[0] if rows else None


def requests_to(receiver: HttpReceiver, path: str) -> list[Any]:
    return [request for request in receiver.requests if request.path == path]


def new_hooked_address(server: Server, receiver: HttpReceiver) -> tuple[dict[str, Any], str]:
    created = server.new_address()
    path = f"/{unique('hook')}"
    saved = server.with_jwt("POST", "/api/webhook/settings", created["jwt"], json=hook(receiver.url + path))
    assert saved.json() == {"success": True}
    return created, path


# --- one node, both back ends --------------------------------------------------------------


def test_the_default_configuration_writes_no_outbox_rows(server: Server) -> None:
    created = server.new_address()
    server.send(created["address"], raw_mail(created["address"], unique()))
    assert server.mails(created["jwt"])["count"] == 1
    assert server.db.sql("SELECT count(*) FROM deliveries") == [(0,)]


def test_rows_are_written_with_the_mail(make_server: ServerFactory, relay: SmtpSink) -> None:
    server = make_server(
        **WEBHOOK_ENV, SMTP_CONFIG=relay.smtp_config(), FORWARD_ADDRESS_LIST="keep@archive.example"
    )
    created = server.new_address()
    # A receiver that is down: the webhook row stays, pending, with its error.
    down = f"http://127.0.0.1:{free_port()}/hook"
    server.with_jwt("POST", "/api/webhook/settings", created["jwt"], json=hook(down))
    subject = unique("stored")
    server.send(created["address"], raw_mail(created["address"], subject))
    mail_id = server.mails(created["jwt"])["results"][0]["id"]
    kinds = server.db.sql("SELECT kind FROM deliveries WHERE mail_id = ? ORDER BY kind", mail_id)
    # Written before SMTP's 250 (and kept: one delivered, one failing); auto-reply is off.
    assert kinds == [("forward",), ("webhook",)]
    forwarded = wait_for(lambda: of_mail(server, mail_id, "forward", "done"), what="the forward")
    assert forwarded["attempts"] == 1 and forwarded["last_error"] is None and forwarded["done_at"]
    assert any(subject in str(m.message["Subject"]) for m in relay.wait_for(1))
    failing = wait_for(
        lambda: (row := of_mail(server, mail_id, "webhook")) and row["attempts"] >= 1 and row,
        what="a failed webhook attempt",
    )
    assert failing["status"] == "pending" and failing["done_at"] is None
    assert failing["last_error"] == "address webhook: ConnectError"
    assert failing["address"] == created["address"]


def test_a_webhook_failing_twice_is_delivered_on_the_third_attempt(
    make_server: ServerFactory, receiver: HttpReceiver
) -> None:
    server = make_server(**WEBHOOK_ENV)
    created, path = new_hooked_address(server, receiver)
    receiver.answers = [500, 503]
    server.send(created["address"], raw_mail(created["address"], unique()))
    mail_id = server.mails(created["jwt"])["results"][0]["id"]
    done = wait_for(lambda: of_mail(server, mail_id, "webhook", "done"), what="the third attempt")
    assert done["attempts"] == 3
    assert done["last_error"] == "address webhook: 503 Service Unavailable"
    attempts = requests_to(receiver, path)
    assert len(attempts) == 3
    # One key for every attempt of the delivery: what a receiver drops repeats by.
    assert {request.headers[DELIVERY_HEADER] for request in attempts} == {str(done["id"])}
    assert of_mail(server, mail_id, "webhook", "pending") is None


def test_the_list_of_deliveries_checks_its_parameters(make_server: ServerFactory) -> None:
    server = make_server(**WEBHOOK_ENV)
    bad = server.admin("GET", "/admin/deliveries?limit=10&offset=0&status=sent")
    assert (bad.status_code, bad.text) == (400, "Invalid status: use pending, done or failed")
    assert server.admin("GET", "/admin/deliveries?limit=0&offset=0").status_code == 400
    assert server.client.get("/admin/deliveries?limit=10&offset=0").status_code == 401
    page = server.admin("GET", "/admin/deliveries?limit=10&offset=0&status=failed").json()
    assert set(page) == {"results", "count"}


def test_a_forward_refused_by_the_relay_is_retried(make_server: ServerFactory) -> None:
    with SmtpSink(reject_code=451) as sink:
        server = make_server(SMTP_CONFIG=sink.smtp_config(), FORWARD_ADDRESS_LIST="copy@archive.example")
        created = server.new_address()
        subject = unique("forward")
        server.send(created["address"], raw_mail(created["address"], subject))
        mail_id = server.mails(created["jwt"])["results"][0]["id"]
        failed = wait_for(
            lambda: (row := of_mail(server, mail_id, "forward")) and row["attempts"] >= 1 and row,
            what="a refused forward",
        )
        assert failed["status"] == "pending" and "copy@archive.example" in failed["last_error"]
        sink.reject_code = None
        done = wait_for(lambda: of_mail(server, mail_id, "forward", "done"), what="the forward")
        assert done["attempts"] == 2
        (copy,) = sink.wait_for(1)
        assert copy.rcpt_tos == ["copy@archive.example"] and subject in str(copy.message["Subject"])


def test_an_auto_reply_goes_through_the_outbox(make_server: ServerFactory, relay: SmtpSink) -> None:
    server = make_server(SMTP_CONFIG=relay.smtp_config(), ENABLE_AUTO_REPLY="true")
    created = server.new_address()
    reply = {"subject": "Away", "message": "Back soon", "enabled": True, "source_prefix": "", "name": ""}
    assert server.with_jwt("POST", "/api/auto_reply", created["jwt"], json={"auto_reply": reply}).json() == {
        "success": True
    }
    before = len(relay.messages)
    server.send(created["address"], raw_mail(created["address"], unique()))
    mail_id = server.mails(created["jwt"])["results"][0]["id"]
    done = wait_for(lambda: of_mail(server, mail_id, "auto_reply", "done"), what="the reply")
    assert done["attempts"] == 1
    sent = [m for m in relay.wait_for(before + 1)[before:] if m.rcpt_tos == ["sender@remote.example"]]
    assert sent and str(sent[0].message["Subject"]) == "Away"
    # Another address, no reply set: its row had nothing to do and is not kept.
    other = server.new_address()
    server.send(other["address"], raw_mail(other["address"], unique()))
    other_id = server.mails(other["jwt"])["results"][0]["id"]
    time.sleep(1)
    assert server.db.sql("SELECT count(*) FROM deliveries WHERE mail_id = ?", other_id) == [(0,)]


# --- two nodes on one PostgreSQL database --------------------------------------------------


def _node(env: dict[str, str], database_url: str | None = None) -> Server:
    node = Server("postgresql", env)
    if database_url is not None:
        node.env["DATABASE_URL"] = database_url
    return node.start()


@pytest.fixture
def two_nodes() -> Iterator[Callable[[dict[str, str]], tuple[Server, Server]]]:
    started: list[Server] = []

    def start(env: dict[str, str]) -> tuple[Server, Server]:
        first = _node(env)
        started.append(first)
        second = _node(env, first.db.url)
        started.append(second)
        return first, second

    yield start
    for node in reversed(started):
        node.close()


@pytest.mark.backends("postgresql")
def test_two_nodes_deliver_each_webhook_exactly_once(
    backend: str, two_nodes: Callable[[dict[str, str]], tuple[Server, Server]], receiver: HttpReceiver
) -> None:
    # A short lease, so that each node's poll competes for the other's rows too.
    first, second = two_nodes({**WEBHOOK_ENV, "DELIVERY_LEASE_SECONDS": "3"})
    path = f"/{unique('both')}"
    assert first.admin("POST", "/admin/mail_webhook/settings", json=hook(receiver.url + path)).json() == {
        "success": True
    }
    address = first.new_address()["address"]
    receiver.delay = 0.2
    try:
        for n in range(20):
            (first if n % 2 else second).send(address, raw_mail(address, f"mail {n}"))
        wait_for(lambda: len(requests_to(receiver, path)) >= 20, timeout=60, what="twenty webhooks")
        time.sleep(5)  # past a lease and a poll: any second delivery would have come by now
    finally:
        receiver.delay = 0.0
    arrived = requests_to(receiver, path)
    assert len(arrived) == 20
    assert len({request.headers[DELIVERY_HEADER] for request in arrived}) == 20
    assert len({request.body for request in arrived}) == 20, "twenty different mails"
    assert first.db.sql("SELECT status, count(*) FROM deliveries GROUP BY status") == [("done", 20)]


@pytest.mark.backends("postgresql")
def test_a_node_killed_mid_delivery_leaves_it_to_the_other(
    backend: str, two_nodes: Callable[[dict[str, str]], tuple[Server, Server]], receiver: HttpReceiver
) -> None:
    first, second = two_nodes({**WEBHOOK_ENV, "DELIVERY_LEASE_SECONDS": "3"})
    created, path = new_hooked_address(first, receiver)
    receiver.delay = 10.0
    try:
        first.send(created["address"], raw_mail(created["address"], unique("killed")))
        wait_for(lambda: requests_to(receiver, path), what="the first node's attempt")
        # The first node renews its lease while the receiver keeps it waiting: nobody else
        # takes the delivery, however long past the lease's 3 s it runs.
        time.sleep(5)
        assert len(requests_to(receiver, path)) == 1
        receiver.delay = 0.0
        assert first.proc is not None
        first.proc.kill()
        first.proc.wait()
        again = wait_for(lambda: len(requests_to(receiver, path)) >= 2 and requests_to(receiver, path))
    finally:
        receiver.delay = 0.0
    assert len(again) == 2
    assert again[0].headers[DELIVERY_HEADER] == again[1].headers[DELIVERY_HEADER]
    (row,) = deliveries(second)
    assert (
        row["status"] == "done"
        and row["attempts"] == 1
        and row["id"] == int(again[0].headers[DELIVERY_HEADER])
    )


@pytest.mark.backends("postgresql")
def test_scheduled_jobs_run_once_per_interval_across_nodes(
    backend: str, two_nodes: Callable[[dict[str, str]], tuple[Server, Server]]
) -> None:
    started = time.monotonic()
    first, _ = two_nodes({"JOBS_INTERVAL_SECONDS": "1"})
    time.sleep(6)
    elapsed = time.monotonic() - started
    runs = dict(first.db.sql("SELECT name, runs FROM job_leases"))
    assert set(runs) == {
        "auto cleanup",
        "database maintenance",
        "expired verification codes",
        "expired passkey challenges",
        "delivered outbox rows",
        "search index",
    }
    # Two nodes ticking every second would run each job about twice a second without leases.
    for name, count in runs.items():
        assert 2 <= count <= elapsed + 2, (name, count, elapsed)
