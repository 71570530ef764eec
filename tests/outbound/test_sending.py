"""Sending mail (API.md §7) through real relays the tests start: a recording SMTP relay with
AUTH and STARTTLS, one with implicit TLS, one that refuses, a dead port, and a fake Resend."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.fakes.smtp_sink import SmtpSink
from tests.support import Server, free_port

RELAY_USER, RELAY_PASSWORD = "relay-user", "relay-pass"


class FakeResend:
    """Resend's `POST /emails` on loopback: records each call; `status` decides the answer."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.status = 200
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                fake.calls.append((self.headers.get("authorization", ""), body))
                answer = json.dumps({"id": "re_1"} if fake.status < 300 else {"message": "nope"}).encode()
                self.send_response(fake.status if self.path == "/emails" else 404)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def relays(tls_files: tuple[str, str]) -> Iterator[dict[str, Any]]:
    """test.example: AUTH + STARTTLS; tls.example: implicit TLS; refuse.example: 550 on DATA;
    down.example: nothing listens; example.org: Resend."""
    secure = SmtpSink(auth=(RELAY_USER, RELAY_PASSWORD), tls=tls_files).start()
    implicit = SmtpSink(tls=tls_files, implicit_tls=True).start()
    refusing = SmtpSink(reject_code=550).start()
    resend = FakeResend()
    try:
        yield {
            "secure": secure,
            "implicit": implicit,
            "refusing": refusing,
            "resend": resend,
            "dead_port": free_port(),
        }
    finally:
        for sink in (secure, implicit, refusing):
            sink.stop()
        resend.stop()


@pytest.fixture
def server(make_server: ServerFactory, relays: dict[str, Any]) -> Server:
    config = {
        "test.example": {
            "host": "127.0.0.1",
            "port": relays["secure"].port,
            "secure": False,
            "credentials": {"username": RELAY_USER, "password": RELAY_PASSWORD},
            "validateCerts": False,
        },
        "tls.example": {
            "host": "127.0.0.1",
            "port": relays["implicit"].port,
            "secure": True,
            "validateCerts": False,
        },
        "refuse.example": {"host": "127.0.0.1", "port": relays["refusing"].port},
        "down.example": {"host": "127.0.0.1", "port": relays["dead_port"]},
    }
    return make_server(
        DOMAINS="test.example,example.org,tls.example,refuse.example,down.example,norelay.example",
        SMTP_CONFIG=json.dumps(config),
        DEFAULT_SEND_BALANCE="2",
        NO_LIMIT_SEND_ROLE="vip",
        USER_ROLES='[{"role": "vip", "domains": [], "prefix": ""}]',
        RESEND_TOKEN_EXAMPLE_ORG="re_test_token",
        RESEND_API_URL=relays["resend"].url,
    )


def admin_address(server: Server, domain: str = "test.example") -> dict[str, Any]:
    response = server.admin(
        "POST", "/admin/new_address", json={"name": f"s{uuid.uuid4().hex[:10]}", "domain": domain}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def mail(**overrides: Any) -> dict[str, Any]:
    body = {
        "from_name": "Alice Sender",
        "to_mail": "bob@remote.example",
        "to_name": "Bob",
        "subject": f"hello {uuid.uuid4().hex[:6]}",
        "content": "Hi Bob,\nhow are you?",
        "is_html": False,
    }
    return {**body, **overrides}


def send(server: Server, jwt: str, **overrides: Any) -> Any:
    return server.with_jwt("POST", "/api/send_mail", jwt, json=mail(**overrides))


def balance(server: Server, jwt: str) -> int:
    return int(server.with_jwt("GET", "/api/settings", jwt).json()["send_balance"])


def text_of(part: Any) -> str:
    """A body as text with LF line ends (the relay records the CRLF wire form)."""
    return str(part.get_content()).replace("\r\n", "\n")


def received_with_subject(sink: SmtpSink, subject: str) -> Any:
    return next(m for m in sink.messages if m.message["Subject"] == subject)


def test_send_delivers_what_we_meant_through_auth_and_starttls(
    server: Server, relays: dict[str, Any]
) -> None:
    sink: SmtpSink = relays["secure"]
    address = admin_address(server)
    assert balance(server, address["jwt"]) == 2
    body = mail()
    response = server.with_jwt("POST", "/api/send_mail", address["jwt"], json=body)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    got = received_with_subject(sink, body["subject"])
    assert got.tls and got.authenticated_as == RELAY_USER
    assert got.mail_from == address["address"] and got.rcpt_tos == ["bob@remote.example"]
    message = got.message
    assert str(message["From"]) == f"Alice Sender <{address['address']}>"
    assert str(message["To"]) == "Bob <bob@remote.example>"
    assert message["Message-ID"].endswith("@test.example>") and message["Date"]
    assert text_of(message) == "Hi Bob,\nhow are you?\n"
    assert balance(server, address["jwt"]) == 1
    sent = server.with_jwt("GET", "/api/sendbox?limit=10&offset=0", address["jwt"]).json()
    assert sent["count"] == 1
    record = json.loads(sent["results"][0]["raw"])
    assert record["version"] == "v2" and record["to_mail"] == "bob@remote.example"
    assert record["subject"] == body["subject"] and record["is_html"] is False


def test_html_gets_a_text_alternative(server: Server, relays: dict[str, Any]) -> None:
    address = admin_address(server)
    body = mail(content="<p>Hello <b>Bob</b></p><p>second</p>", is_html=True)
    assert server.with_jwt("POST", "/api/send_mail", address["jwt"], json=body).status_code == 200
    message = received_with_subject(relays["secure"], body["subject"]).message
    assert message.get_content_type() == "multipart/alternative"
    assert "Hello Bob" in text_of(message.get_body(("plain",)))
    assert "<b>Bob</b>" in message.get_body(("html",)).get_content()


def test_a_reply_carries_the_thread_headers(server: Server, relays: dict[str, Any]) -> None:
    address = admin_address(server)
    server.send(
        address["address"],
        "From: Bob <bob@remote.example>\r\nSubject: question\r\nMessage-ID: <q1@remote.example>\r\n"
        "References: <q0@remote.example>\r\n\r\nA question?\r\n",
    )
    mail_id = server.mails(address["jwt"])["results"][0]["id"]
    body = mail(subject="Re: question", reply_mail_id=mail_id)
    response = server.with_jwt("POST", "/api/send_mail", address["jwt"], json=body)
    assert response.status_code == 200, response.text
    message = received_with_subject(relays["secure"], "Re: question").message
    assert message["In-Reply-To"] == "<q1@remote.example>"
    assert message["References"] == "<q0@remote.example> <q1@remote.example>"
    other = admin_address(server)
    foreign = server.with_jwt("POST", "/api/send_mail", other["jwt"], json={**body, "subject": "x"})
    assert foreign.status_code == 400


def test_implicit_tls_relay(server: Server, relays: dict[str, Any]) -> None:
    address = admin_address(server, "tls.example")
    body = mail()
    assert send(server, address["jwt"], subject=body["subject"]).status_code == 200
    assert received_with_subject(relays["implicit"], body["subject"]).tls


@pytest.mark.parametrize("domain", ["refuse.example", "down.example"])
def test_a_refusing_or_dead_relay_is_a_clear_400_and_costs_nothing(server: Server, domain: str) -> None:
    address = admin_address(server, domain)
    assert balance(server, address["jwt"]) == 2
    response = send(server, address["jwt"])
    assert response.status_code == 400 and response.text.startswith("Failed to send mail ")
    assert balance(server, address["jwt"]) == 2
    assert server.with_jwt("GET", "/api/sendbox?limit=10&offset=0", address["jwt"]).json()["count"] == 0


def test_no_backend_for_the_domain(server: Server) -> None:
    address = admin_address(server, "norelay.example")
    response = send(server, address["jwt"])
    assert response.status_code == 400
    assert (
        response.text
        == "Failed to send mail Please enable resend, smtp or SEND_MAIL for this domain (norelay.example)"
    )


def test_balance_runs_out(server: Server, relays: dict[str, Any]) -> None:
    address = admin_address(server)
    assert send(server, address["jwt"]).status_code == 200
    assert send(server, address["jwt"]).status_code == 200
    before = len(relays["secure"].messages)
    response = send(server, address["jwt"])
    assert (response.status_code, response.text) == (400, "Failed to send mail No balance")
    assert len(relays["secure"].messages) == before and balance(server, address["jwt"]) == 0


def test_parallel_sends_cannot_overspend(server: Server) -> None:
    address = admin_address(server)
    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(lambda _: send(server, address["jwt"]).status_code, range(6)))
    assert codes.count(200) == 2 and codes.count(400) == 4
    assert balance(server, address["jwt"]) == 0


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"to_mail": ""}, "Invalid recipient address"),
        ({"to_mail": "not an address"}, "Invalid recipient address"),
        ({"to_mail": "bob@remote.example\r\nBcc: victim@else.example"}, "Invalid recipient address"),
        ({"subject": ""}, "Subject is empty"),
        ({"content": "  "}, "Content is empty"),
        ({"subject": "hi\r\nBcc: victim@else.example"}, "Subject must not contain line breaks"),
        ({"from_name": "Alice\nBcc: victim@else.example"}, "sender address must not contain line breaks"),
        ({"to_name": "Bob\rX-Evil: 1"}, "recipient address must not contain line breaks"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_sent(
    server: Server, relays: dict[str, Any], overrides: dict[str, Any], reason: str
) -> None:
    address = admin_address(server)
    before = len(relays["secure"].messages)
    response = send(server, address["jwt"], **overrides)
    assert (response.status_code, response.text) == (400, f"Failed to send mail {reason}")
    assert len(relays["secure"].messages) == before
    assert balance(server, address["jwt"]) == 2


def test_wrong_types_are_400(server: Server) -> None:
    address = admin_address(server)
    assert send(server, address["jwt"], is_html="maybe").status_code == 400
    assert send(server, address["jwt"], to_mail=["a@b.example"]).status_code == 400
    assert server.client.post("/api/send_mail", json=mail()).status_code == 401


def account_settings(server: Server, **items: Any) -> None:
    """POST the account settings with the keys the reference requires, plus `items`."""
    body = {"blockList": [], "sendBlockList": [], "verifiedAddressList": [], **items}
    assert server.admin("POST", "/admin/account_settings", json=body).json() == {"success": True}


OFF = {"dailyEnabled": False, "monthlyEnabled": False}


def test_send_block_list_no_limit_list_and_quota(server: Server) -> None:
    address = admin_address(server)
    account_settings(server, sendBlockList=["blocked.example"])
    try:
        blocked = send(server, address["jwt"], to_mail="x@blocked.example")
        assert (blocked.status_code, blocked.text) == (400, "Failed to send mail Address is blocked")
        account_settings(server, noLimitSendAddressList=[address["address"]])
        assert balance(server, address["jwt"]) == 99999
        for _ in range(3):
            assert send(server, address["jwt"]).status_code == 200
        account_settings(
            server,
            noLimitSendAddressList=[address["address"]],
            sendMailLimitConfig={**OFF, "dailyEnabled": True, "dailyLimit": 0},
        )
        over = send(server, address["jwt"])
        assert (over.status_code, over.text) == (
            400,
            "Failed to send mail Server daily send quota has been reached",
        )
    finally:
        account_settings(server, sendMailLimitConfig=OFF)


def test_no_limit_role_from_the_role_token(server: Server) -> None:
    import jwt as pyjwt

    from tests.support import JWT_SECRET

    address = admin_address(server)
    role_token = pyjwt.encode({"user_role": "vip", "exp": 2**33}, JWT_SECRET, algorithm="HS256")
    headers = {"x-user-access-token": role_token}
    assert (
        server.with_jwt("GET", "/api/settings", address["jwt"], headers=headers).json()["send_balance"]
        == 99999
    )
    for _ in range(3):
        assert (
            server.with_jwt(
                "POST", "/api/send_mail", address["jwt"], json=mail(), headers=headers
            ).status_code
            == 200
        )


def test_account_settings_replace_and_validate(server: Server) -> None:
    """A POST replaces the lists it must carry; a malformed one changes nothing (COMPAT §11.3,
    pinned in detail by tests/compat/test_account_settings.py)."""
    account_settings(server, sendBlockList=["x.example"])
    assert server.admin("GET", "/admin/account_settings").json()["sendBlockList"] == ["x.example"]
    bad = server.admin("POST", "/admin/account_settings", json={"blockList": "nope"})
    assert (bad.status_code, bad.text) == (400, "Invalid input")
    assert server.admin("GET", "/admin/account_settings").json()["sendBlockList"] == ["x.example"]
    assert server.client.get("/admin/account_settings").status_code == 401
    account_settings(server)


def test_request_access_and_admin_approval(make_server: ServerFactory, server: Server) -> None:
    address = admin_address(server)
    bare = make_server(SMTP_CONFIG=server.env["SMTP_CONFIG"])
    other = bare.new_address()
    assert bare.with_jwt("GET", "/api/settings", other["jwt"]).json()["send_balance"] == 0
    assert bare.with_jwt("POST", "/api/request_send_mail_access", other["jwt"]).json() == {"status": "ok"}
    again = bare.with_jwt("POST", "/api/request_send_mail_access", other["jwt"])
    assert (again.status_code, again.text) == (400, "Already requested")
    rows = bare.admin(
        "GET", "/admin/address_sender", params={"limit": 10, "offset": 0, "address": other["address"]}
    )
    (row,) = rows.json()["results"]
    assert row["enabled"] == 0 and row["balance"] == 0
    approve = bare.admin(
        "POST", "/admin/address_sender", json={"address_id": row["id"], "balance": 3, "enabled": True}
    )
    assert approve.json() == {"success": True}
    assert bare.with_jwt("GET", "/api/settings", other["jwt"]).json()["send_balance"] == 3
    missing = bare.admin(
        "POST", "/admin/address_sender", json={"address_id": 10**12, "balance": 1, "enabled": True}
    )
    assert (missing.status_code, missing.text) == (400, "Invalid address_id")
    assert bare.admin("DELETE", f"/admin/address_sender/{row['id']}").json() == {"success": True}
    assert bare.with_jwt("GET", "/api/settings", other["jwt"]).json()["send_balance"] == 0
    assert address["address"]


def test_a_disabled_sender_row_is_not_replaced_by_the_default(server: Server) -> None:
    address = admin_address(server)
    server.with_jwt("GET", "/api/settings", address["jwt"])
    row = server.admin(
        "GET", "/admin/address_sender", params={"limit": 1, "offset": 0, "address": address["address"]}
    )
    row_id = row.json()["results"][0]["id"]
    server.admin("POST", "/admin/address_sender", json={"address_id": row_id, "balance": 5, "enabled": False})
    assert balance(server, address["jwt"]) == 0
    response = send(server, address["jwt"])
    assert response.text == "Failed to send mail No balance"


def test_external_send(server: Server, relays: dict[str, Any]) -> None:
    address = admin_address(server)
    body = mail()
    response = server.client.post("/external/api/send_mail", json={**body, "token": address["jwt"]})
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert received_with_subject(relays["secure"], body["subject"]).mail_from == address["address"]
    bad = server.client.post("/external/api/send_mail", json={**mail(), "token": "forged"})
    assert (bad.status_code, bad.text) == (400, "Failed to send mail invalid JWT token: forged")


def test_sendbox_delete_and_clear(server: Server) -> None:
    address = admin_address(server)
    send(server, address["jwt"])
    send(server, address["jwt"])
    items = server.with_jwt("GET", "/api/sendbox?limit=10&offset=0", address["jwt"]).json()["results"]
    assert len(items) == 2
    other = admin_address(server)
    # Another address's item stays, though the answer is success (as in the reference).
    assert server.with_jwt("DELETE", f"/api/sendbox/{items[0]['id']}", other["jwt"]).json() == {
        "success": True
    }
    assert server.with_jwt("GET", "/api/sendbox?limit=10&offset=0", address["jwt"]).json()["count"] == 2
    assert server.with_jwt("DELETE", f"/api/sendbox/{items[0]['id']}", address["jwt"]).json() == {
        "success": True
    }
    assert server.with_jwt("DELETE", "/api/clear_sent_items", address["jwt"]).json() == {"success": True}
    assert server.with_jwt("GET", "/api/sendbox?limit=10&offset=0", address["jwt"]).json()["count"] == 0
    assert server.with_jwt("GET", "/api/sendbox?limit=500&offset=0", address["jwt"]).text == "Invalid limit"


def test_admin_send_sendbox_and_clear(server: Server, relays: dict[str, Any]) -> None:
    address = admin_address(server)
    body = {**mail(), "from_mail": address["address"]}
    assert server.admin("POST", "/admin/send_mail", json=body).json() == {"status": "ok"}
    assert received_with_subject(relays["secure"], body["subject"])
    assert balance(server, address["jwt"]) == 2
    listed = server.admin(
        "GET", "/admin/sendbox", params={"limit": 10, "offset": 0, "address": address["address"]}
    )
    (item,) = listed.json()["results"]
    assert server.admin("DELETE", f"/admin/sendbox/{item['id']}").json() == {"success": True}
    server.admin("POST", "/admin/send_mail", json=body)
    assert server.admin("DELETE", f"/admin/clear_sent_items/{address['address_id']}").json() == {
        "success": True
    }
    assert server.with_jwt("GET", "/api/sendbox?limit=10&offset=0", address["jwt"]).json()["count"] == 0
    foreign = server.admin("POST", "/admin/send_mail", json={**body, "from_mail": "x@elsewhere.example"})
    assert (foreign.status_code, foreign.text) == (400, "Invalid domain")
    assert server.client.post("/admin/send_mail", json=body).status_code == 401


def test_resend_first_when_a_token_is_set(server: Server, relays: dict[str, Any]) -> None:
    resend: FakeResend = relays["resend"]
    address = admin_address(server, "example.org")
    body = mail(content="<p>hi</p>", is_html=True)
    assert send(server, address["jwt"], **body).status_code == 200
    authorization, payload = resend.calls[-1]
    assert authorization == "Bearer re_test_token"
    assert payload["to"] == ["bob@remote.example"] and payload["subject"] == body["subject"]
    assert payload["from"] == f"Alice Sender <{address['address']}>" and payload["html"] == "<p>hi</p>\n"
    resend.status = 422
    try:
        refused = send(server, address["jwt"])
        assert refused.status_code == 400 and "Resend refused the mail (422)" in refused.text
        assert balance(server, address["jwt"]) == 1
    finally:
        resend.status = 200


def test_open_settings_report_sending(server: Server, make_server: ServerFactory) -> None:
    assert server.client.get("/open_api/settings").json()["enableSendMail"] is True
    assert make_server().client.get("/open_api/settings").json()["enableSendMail"] is False


ADMIN_SEND_ROUTES = [
    ("POST", "/admin/send_mail"),
    ("GET", "/admin/address_sender?limit=10&offset=0"),
    ("POST", "/admin/address_sender"),
    ("DELETE", "/admin/address_sender/1"),
    ("GET", "/admin/sendbox?limit=10&offset=0"),
    ("DELETE", "/admin/sendbox/1"),
    ("GET", "/admin/account_settings"),
    ("POST", "/admin/account_settings"),
]
ADDRESS_SEND_ROUTES = [
    ("POST", "/api/send_mail"),
    ("POST", "/api/request_send_mail_access"),
    ("GET", "/api/sendbox?limit=10&offset=0"),
    ("DELETE", "/api/sendbox/1"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_SEND_ROUTES)
def test_admin_send_routes_need_the_admin(server: Server, method: str, path: str) -> None:
    for headers in ({}, {"x-admin-auth": "wrong"}):
        response = server.client.request(method, path, json={}, headers=headers)
        assert (response.status_code, response.text) == (
            401,
            "You need to provide the admin password to access this page",
        )


@pytest.mark.parametrize(("method", "path"), ADDRESS_SEND_ROUTES)
def test_address_send_routes_need_an_address_credential(server: Server, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer forged.token.here"}):
        response = server.client.request(method, path, json=mail(), headers=headers)
        assert (response.status_code, response.text) == (401, "Invalid address credential")


def test_send_by_binding_through_resend_carries_every_field(server: Server, relays: dict[str, Any]) -> None:
    """`/admin/send_mail_by_binding` (COMPAT §6.2) with Resend as the binding of example.org."""
    resend: FakeResend = relays["resend"]
    body = {
        "from": "robot@example.org",
        "to": "bob@remote.example",
        "cc": ["carol@remote.example"],
        "bcc": "dave@remote.example",
        "replyTo": "help@example.org",
        "subject": f"binding {uuid.uuid4().hex[:6]}",
        "html": "<p>hi</p>",
        "headers": {"X-Campaign": "c7"},
        "attachments": [{"filename": "a.txt", "content": "aGVsbG8=", "type": "text/plain"}],
    }
    response = server.admin("POST", "/admin/send_mail_by_binding", json=body)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    _, payload = resend.calls[-1]
    assert payload["from"] == "robot@example.org" and payload["subject"] == body["subject"]
    assert (payload["to"], payload["cc"], payload["bcc"]) == (
        ["bob@remote.example"],
        ["carol@remote.example"],
        ["dave@remote.example"],
    )
    assert payload["reply_to"] == ["help@example.org"] and payload["html"] == "<p>hi</p>\n"
    assert payload["headers"]["X-Campaign"] == "c7"
    assert payload["attachments"] == [{"filename": "a.txt", "content": "aGVsbG8="}]
    bad = server.admin(
        "POST", "/admin/send_mail_by_binding", json={**body, "attachments": [{"content": "%%"}]}
    )
    assert (bad.status_code, bad.text) == (400, "Invalid input")


def test_send_by_binding_bcc_is_delivered_but_not_shown(server: Server, relays: dict[str, Any]) -> None:
    body = {
        "from": {"email": "robot@test.example", "name": "Robot"},
        "to": ["bob@remote.example"],
        "bcc": ["hidden@remote.example"],
        "subject": f"bcc {uuid.uuid4().hex[:6]}",
        "text": "words",
    }
    assert server.admin("POST", "/admin/send_mail_by_binding", json=body).status_code == 200
    got = received_with_subject(relays["secure"], body["subject"])
    assert sorted(got.rcpt_tos) == ["bob@remote.example", "hidden@remote.example"]
    assert got.message["Bcc"] is None and text_of(got.message) == "words\n"
    refused = server.admin(
        "POST", "/admin/send_mail_by_binding", json={**body, "from": "robot@refuse.example"}
    )
    assert (refused.status_code, refused.text) == (400, "Operation failed")
