"""SSRF: an anonymous address (or an OAuth2 provider's settings) cannot make the server call a
loopback, private or metadata address, directly, through a name, an IPv6 form or a redirect;
with OUTBOUND_ALLOW_NETWORKS the operator opens what it lists. Failures never carry what the
other end answered. Real servers, real SMTP, real listeners on loopback that must stay silent."""

from __future__ import annotations

import socketserver
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.fakes.http_receiver import HttpReceiver
from tests.support import Server

REFUSED = "send webhook error: target not allowed: "
METADATA_URL = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


@pytest.fixture(scope="module")
def internal() -> Iterator[HttpReceiver]:
    """A service on loopback that nothing from outside may reach."""
    with HttpReceiver() as http:
        yield http


@pytest.fixture(scope="module")
def internal6() -> Iterator[HttpReceiver]:
    """The same on IPv6 loopback; also where the redirector points."""
    with HttpReceiver("::1") as http:
        yield http


@pytest.fixture(scope="module")
def redirector(internal6: HttpReceiver) -> Iterator[HttpReceiver]:
    """An allowed receiver that answers every request with a redirect to `internal6`."""
    with HttpReceiver() as http:
        http.headers = {"Location": f"{internal6.url}/redirected"}
        yield http


class CannedReply:
    """A listener on loopback that answers every connection with the same bytes and hangs up:
    a receiver that leaks text in its error page and status line, or a service that is not
    HTTP at all (its banner would tell what runs there)."""

    def __init__(self, reply: bytes) -> None:
        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.request.recv(65536)
                self.wfile.write(reply)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def guarded(make_server: ServerFactory) -> Server:
    """The default: no OUTBOUND_ALLOW_NETWORKS."""
    return make_server(ENABLE_WEBHOOK="true")


@pytest.fixture
def opened(make_server: ServerFactory) -> Server:
    """The operator allows IPv4 loopback, and only that."""
    return make_server(ENABLE_WEBHOOK="true", OUTBOUND_ALLOW_NETWORKS="127.0.0.1")


def hook(url: str) -> dict[str, object]:
    return {"enabled": True, "url": url, "method": "POST", "headers": "{}", "body": '{"id": "${id}"}'}


def refused_targets(internal: HttpReceiver, internal6: HttpReceiver) -> dict[str, str]:
    """URL → the end of the refusal text (after REFUSED)."""
    return {
        f"{internal.url}/direct": "127.0.0.1 is a loopback address",
        f"http://localhost:{internal.port}/by-name": "localhost resolves to 127.0.0.1, a loopback address",
        f"{internal6.url}/v6": "::1 is a loopback address",
        f"http://[::ffff:127.0.0.1]:{internal.port}/mapped": "::ffff:127.0.0.1 is a loopback address",
        METADATA_URL: "169.254.169.254 is a cloud metadata address",
        "http://10.0.0.1/": "10.0.0.1 is a private address",
    }


def test_the_test_routes_refuse_internal_targets(
    guarded: Server, internal: HttpReceiver, internal6: HttpReceiver
) -> None:
    jwt = guarded.new_address()["jwt"]
    for url, reason in refused_targets(internal, internal6).items():
        response = guarded.with_jwt("POST", "/api/webhook/test", jwt, json=hook(url))
        assert (response.status_code, response.text) == (400, REFUSED + reason), url
        admin = guarded.admin("POST", "/admin/mail_webhook/test", json=hook(url))
        assert (admin.status_code, admin.text) == (400, REFUSED + reason), url
    assert internal.requests == [] and internal6.requests == []


def first_attempt(server: Server, address: str, timeout: float = 20) -> dict[str, Any]:
    """The address's webhook delivery once its first attempt is over (the outbox keeps its
    attempts and last error, `GET /admin/deliveries`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = server.admin("GET", "/admin/deliveries?limit=100&offset=0").json()["results"]
        mine = [row for row in rows if row["address"] == address and row["kind"] == "webhook"]
        if mine and mine[0]["attempts"] >= 1:
            return dict(mine[0])
        time.sleep(0.05)
    raise AssertionError(f"no attempt at the webhook of {address}:\n{server.output()[-3000:]}")


def deliver_one_mail(server: Server, url: str) -> dict[str, Any]:
    """An address sets a webhook to `url` and a mail arrives over SMTP; returns its delivery
    after the first attempt."""
    created = server.new_address()
    saved = server.with_jwt("POST", "/api/webhook/settings", created["jwt"], json=hook(url))
    assert saved.status_code == 200, saved.text
    subject = f"ssrf {uuid.uuid4().hex}"
    raw = f"From: x@remote.example\r\nTo: {created['address']}\r\nSubject: {subject}\r\n\r\nhi\r\n"
    server.send(created["address"], raw)
    return first_attempt(server, created["address"])


def test_real_deliveries_refuse_internal_targets(
    guarded: Server, internal: HttpReceiver, internal6: HttpReceiver
) -> None:
    for url, reason in refused_targets(internal, internal6).items():
        delivery = deliver_one_mail(guarded, url)
        # Refused once, not retried: the same target would be refused again.
        assert (delivery["status"], delivery["attempts"]) == ("failed", 1), delivery
        assert delivery["last_error"] == f"address webhook: target not allowed: {reason}", delivery
    assert internal.requests == [] and internal6.requests == []


def test_a_redirect_from_an_allowed_target_is_not_followed(
    opened: Server, redirector: HttpReceiver, internal6: HttpReceiver
) -> None:
    jwt = opened.new_address()["jwt"]
    redirector.answers = [302]
    response = opened.with_jwt("POST", "/api/webhook/test", jwt, json=hook(f"{redirector.url}/test"))
    assert (response.status_code, response.text) == (400, "send webhook error: 302 Found")
    redirector.answers = [307] * 4  # every attempt of the real delivery
    delivery = deliver_one_mail(opened, f"{redirector.url}/real")
    assert delivery["last_error"] == "address webhook: 307 Temporary Redirect", delivery
    assert [r.path for r in redirector.requests][:2] == ["/test", "/real"]
    assert internal6.requests == []


def test_allowed_targets_are_reached(opened: Server) -> None:
    with HttpReceiver() as receiver:
        jwt = opened.new_address()["jwt"]
        response = opened.with_jwt("POST", "/api/webhook/test", jwt, json=hook(f"{receiver.url}/test"))
        assert (response.status_code, response.json()) == (200, {"success": True})
        created = opened.new_address()
        opened.with_jwt("POST", "/api/webhook/settings", created["jwt"], json=hook(f"{receiver.url}/real"))
        raw = f"From: x@remote.example\r\nTo: {created['address']}\r\nSubject: allowed\r\n\r\nhi\r\n"
        opened.send(created["address"], raw)
        assert [r.path for r in receiver.wait_for(2)] == ["/test", "/real"]


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (
            b"HTTP/1.1 500 SECRET-REASON\r\nContent-Length: 11\r\nConnection: close\r\n\r\nSECRET-BODY",
            "500 Internal Server Error",
        ),
        (b"HTTP/1.1 599 SECRET-REASON\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", "599"),
        (b"-ERR SECRET-BANNER redis 7.2 wrong protocol\r\n", "RemoteProtocolError"),
    ],
)
def test_failures_never_carry_the_other_ends_text(opened: Server, reply: bytes, reason: str) -> None:
    canned = CannedReply(reply)
    try:
        jwt = opened.new_address()["jwt"]
        response = opened.with_jwt("POST", "/api/webhook/test", jwt, json=hook(f"{canned.url}/x"))
        assert (response.status_code, response.text) == (400, f"send webhook error: {reason}")
        admin = opened.admin("POST", "/admin/mail_webhook/test", json=hook(f"{canned.url}/x"))
        assert (admin.status_code, admin.text) == (400, f"send webhook error: {reason}")
    finally:
        canned.stop()


def test_oauth2_provider_urls_are_guarded_too(guarded: Server, internal: HttpReceiver) -> None:
    provider = {
        "name": "Internal",
        "clientID": f"app-{uuid.uuid4().hex[:8]}",
        "clientSecret": "s3cret",
        "authorizationURL": "https://id.example/authorize",
        "accessTokenURL": f"{internal.url}/token",
        "userInfoURL": f"{internal.url}/userinfo",
        "redirectURL": "http://localhost:8787/user/oauth2/callback",
    }
    assert guarded.admin("POST", "/admin/user_oauth2_settings", json=[provider]).status_code == 200
    response = guarded.client.post(
        "/user_api/oauth2/callback", json={"clientID": provider["clientID"], "code": "any"}
    )
    assert (response.status_code, response.text) == (400, "Failed to get access token from Oauth2 provider")
    assert internal.requests == []
