"""What follows a stored mail: forwarding, auto-reply and webhooks — each driven by a real SMTP
session and by `/admin/test/receive_mail`, against a real relay and a real HTTP receiver."""

from __future__ import annotations

import json
import smtplib
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.fakes.http_receiver import HttpReceiver
from tests.fakes.smtp_sink import SmtpSink
from tests.support import Server


@pytest.fixture(scope="module")
def relay() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="module")
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as http:
        yield http


@pytest.fixture
def server(make_server: ServerFactory, relay: SmtpSink) -> Server:
    return make_server(
        SMTP_CONFIG=relay.smtp_config(),
        FORWARD_ADDRESS_LIST="keeper@archive.example",
        ENABLE_AUTO_REPLY="true",
        ENABLE_WEBHOOK="true",
        # The webhook receiver listens on loopback, which the outbound guard refuses by default.
        OUTBOUND_ALLOW_NETWORKS="127.0.0.1",
        FRONTEND_URL="https://mail.test.example/",
    )


def unique(prefix: str = "a") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def raw_mail(to: str, subject: str, sender: str = "bob@remote.example", extra: str = "") -> str:
    return (
        f"From: Bob <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{unique('m')}@remote.example>\r\n{extra}\r\nbody of {subject}\r\n"
    )


def by_subject(sink: SmtpSink, subject: str, timeout: float = 10) -> list[Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in sink.messages if subject in str(m.message["Subject"])]
        if found:
            return found
        time.sleep(0.05)
    return []


def receive_by_test_route(server: Server, to: str, raw: str, sender: str = "bob@remote.example") -> Any:
    response = server.admin("POST", "/admin/test/receive_mail", json={"from": sender, "to": to, "raw": raw})
    assert response.status_code == 200, response.text
    return response.json()


# --- forwarding ----------------------------------------------------------------------------


def test_every_mail_is_forwarded_unchanged_to_the_forward_list(server: Server, relay: SmtpSink) -> None:
    address = server.new_address()["address"]
    subject = unique("fwd")
    server.send(address, raw_mail(address, subject))
    (copy,) = by_subject(relay, subject)
    assert copy.rcpt_tos == ["keeper@archive.example"] and copy.mail_from == address
    assert copy.message["X-Tempmail-Forwarded-For"] == address
    assert f"body of {subject}" in copy.message.get_content()


def test_domain_rules_and_the_test_route(server: Server, relay: SmtpSink) -> None:
    lists = {"blockList": [], "sendBlockList": [], "verifiedAddressList": []}
    rules = {
        **lists,
        "emailRuleSettings": {
            "emailForwardingList": [{"domains": ["example.org"], "forward": "org@else.example"}]
        },
    }
    assert server.admin("POST", "/admin/account_settings", json=rules).json() == {"success": True}
    try:
        org_address = server.new_address(domain="example.org")["address"]
        subject = unique("rule")
        result = receive_by_test_route(server, org_address, raw_mail(org_address, subject))
        assert sorted(result["forwardedTo"]) == ["keeper@archive.example", "org@else.example"]
        (copy,) = by_subject(relay, subject)
        assert sorted(copy.rcpt_tos) == ["keeper@archive.example", "org@else.example"]
        other = server.new_address()["address"]
        assert receive_by_test_route(server, other, raw_mail(other, unique()))["forwardedTo"] == [
            "keeper@archive.example"
        ]
    finally:
        server.admin("POST", "/admin/account_settings", json={**lists, "emailRuleSettings": {}})


def test_a_forwarded_copy_is_never_forwarded_again(server: Server, relay: SmtpSink) -> None:
    address = server.new_address()["address"]
    subject = unique("loop")
    raw = raw_mail(address, subject, extra="X-Tempmail-Forwarded-For: someone@test.example\r\n")
    assert receive_by_test_route(server, address, raw)["forwardedTo"] == []
    assert by_subject(relay, subject, timeout=1) == []


# --- auto-reply ----------------------------------------------------------------------------


def set_auto_reply(server: Server, jwt: str, **fields: Any) -> Any:
    settings = {
        "subject": "Away",
        "message": "I am away until Monday.",
        "source_prefix": "",
        "name": "Alice",
        "enabled": True,
    }
    return server.with_jwt("POST", "/api/auto_reply", jwt, json={"auto_reply": {**settings, **fields}})


def test_auto_reply_settings_round_trip_and_checks(server: Server) -> None:
    created = server.new_address()
    jwt = created["jwt"]
    assert server.with_jwt("GET", "/api/auto_reply", jwt).json() == {}
    assert set_auto_reply(server, jwt).json() == {"success": True}
    stored = server.with_jwt("GET", "/api/auto_reply", jwt).json()
    assert stored == {
        "subject": "Away",
        "message": "I am away until Monday.",
        "source_prefix": "",
        "name": "Alice",
        "enabled": True,
    }
    empty = set_auto_reply(server, jwt, message="")
    assert (empty.status_code, empty.text) == (400, "Invalid subject or message")
    long = set_auto_reply(server, jwt, subject="x" * 256)
    assert (long.status_code, long.text) == (400, "Subject or message is too long")
    assert server.client.get("/api/auto_reply").status_code == 401


def test_auto_reply_answers_every_mail_over_smtp(server: Server, relay: SmtpSink) -> None:
    created = server.new_address()
    address = created["address"]
    set_auto_reply(server, created["jwt"], subject=f"Away {address}")
    sender = f"{unique('s')}@remote.example"
    server.send(address, raw_mail(address, "first", sender=sender), mail_from=sender)
    (reply,) = by_subject(relay, f"Away {address}")
    assert reply.rcpt_tos == [sender] and reply.mail_from == address
    assert str(reply.message["From"]) == f"Alice <{address}>"
    assert reply.message["Auto-Submitted"] == "auto-replied"
    assert reply.message["In-Reply-To"].endswith("@remote.example>")
    assert "I am away until Monday." in reply.message.get_content()
    result = receive_by_test_route(server, address, raw_mail(address, "second", sender=sender), sender=sender)
    assert result["replyCalled"] is True
    deadline = time.monotonic() + 10
    while len(by_subject(relay, f"Away {address}")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(by_subject(relay, f"Away {address}")) == 2


def test_no_reply_without_a_message_id(server: Server, relay: SmtpSink) -> None:
    created = server.new_address()
    address = created["address"]
    set_auto_reply(server, created["jwt"], subject=f"Away {address}")
    silent, answered = f"{unique('n')}@remote.example", f"{unique('y')}@remote.example"
    raw = f"From: {silent}\r\nTo: {address}\r\nSubject: no id\r\n\r\nbody\r\n"
    server.send(address, raw, mail_from=silent)
    server.send(address, raw_mail(address, "with id", sender=answered), mail_from=answered)
    (reply,) = by_subject(relay, f"Away {address}")
    assert reply.rcpt_tos == [answered]


def test_source_prefix_filters_senders(server: Server) -> None:
    created = server.new_address()
    address = created["address"]
    set_auto_reply(server, created["jwt"], source_prefix="/^vip[0-9]+@/")
    assert (
        receive_by_test_route(server, address, raw_mail(address, "a"), sender="bob@remote.example")[
            "replyCalled"
        ]
        is False
    )
    vip = f"vip{int(time.time() * 1000)}@remote.example"
    assert receive_by_test_route(server, address, raw_mail(address, "b"), sender=vip)["replyCalled"] is True
    set_auto_reply(server, created["jwt"], source_prefix="boss@")
    boss = receive_by_test_route(server, address, raw_mail(address, "c"), sender="boss@remote.example")
    assert boss["replyCalled"] is True


def test_switched_off_features_are_403(make_server: ServerFactory) -> None:
    plain = make_server()
    jwt = plain.new_address()["jwt"]
    response = plain.with_jwt("GET", "/api/auto_reply", jwt)
    assert (response.status_code, response.text) == (403, "Auto reply is disabled")
    webhook = plain.with_jwt("GET", "/api/webhook/settings", jwt)
    assert webhook.status_code == 403 and webhook.text.startswith("Webhook is not enabled")


# --- webhooks ------------------------------------------------------------------------------


def hook(receiver: HttpReceiver, **fields: Any) -> dict[str, Any]:
    return {
        "enabled": True,
        "url": f"{receiver.url}/hook",
        "method": "POST",
        "headers": '{"X-Token": "t0k"}',
        **fields,
    }


def test_address_webhook_fires_with_the_template_filled(server: Server, receiver: HttpReceiver) -> None:
    created = server.new_address()
    address = created["address"]
    saved = server.with_jwt("POST", "/api/webhook/settings", created["jwt"], json=hook(receiver))
    assert saved.json() == {"success": True}
    assert (
        server.with_jwt("GET", "/api/webhook/settings", created["jwt"]).json()["url"]
        == f"{receiver.url}/hook"
    )
    before = len(receiver.requests)
    subject = f'Your code is 482913 "quoted" {unique()}'
    server.send(address, raw_mail(address, subject))
    mail_id = server.mails(created["jwt"])["results"][0]["id"]
    request = next(
        r for r in receiver.wait_for(before + 1)[before:] if subject.encode() in r.body.replace(b'\\"', b'"')
    )
    assert request.headers["X-Token"] == "t0k"
    payload = json.loads(request.body)
    assert payload["id"] == str(mail_id) and payload["to"] == address and payload["subject"] == subject
    assert payload["url"] == f"https://mail.test.example/?mail_id={mail_id}"
    assert "body of" in payload["parsedText"] and payload["from"].endswith("bob@remote.example>")
    assert payload["aiExtractType"] == "auth_code" and payload["aiExtractResult"] == "482913"


def test_a_failing_webhook_is_retried(server: Server, receiver: HttpReceiver) -> None:
    created = server.new_address()
    server.with_jwt(
        "POST", "/api/webhook/settings", created["jwt"], json=hook(receiver, body='{"id": "${id}"}')
    )
    receiver.answers = [500]
    before = len(receiver.requests)
    server.send(created["address"], raw_mail(created["address"], unique()))
    first, second = receiver.wait_for(before + 2)[before : before + 2]
    assert first.body == second.body


def test_an_undeliverable_webhook_is_not_retried(server: Server, receiver: HttpReceiver) -> None:
    created = server.new_address()
    url = f"{receiver.url}/{unique('never')}"
    server.with_jwt(
        "POST", "/api/webhook/settings", created["jwt"], json=hook(receiver, url=url, headers="[1]")
    )
    server.send(created["address"], raw_mail(created["address"], unique()))
    mail_id = server.mails(created["jwt"])["results"][0]["id"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = server.admin("GET", "/admin/deliveries?limit=100&offset=0&status=failed").json()["results"]
        found = [row for row in rows if row["mail_id"] == mail_id and row["kind"] == "webhook"]
        if found:
            break
        time.sleep(0.05)
    assert found, "given up at once, not left pending for a retry"
    assert found[0]["attempts"] == 1
    assert found[0]["last_error"] == "address webhook: headers are not a JSON object"
    assert not [r for r in receiver.requests if r.path == url.removeprefix(receiver.url)]


def test_a_slow_webhook_never_holds_up_the_mail(server: Server, receiver: HttpReceiver) -> None:
    created = server.new_address()
    server.with_jwt("POST", "/api/webhook/settings", created["jwt"], json=hook(receiver))
    receiver.delay = 3.0
    before = len(receiver.requests)
    try:
        server.send(created["address"], raw_mail(created["address"], "slow hook"))
        assert server.mails(created["jwt"])["count"] == 1
        # ...and it is still called (waited for here, so that it cannot reach a later test).
        receiver.wait_for(before + 1)
    finally:
        receiver.delay = 0.0


def test_webhooks_keep_up_with_light_traffic(server: Server, receiver: HttpReceiver) -> None:
    """Steady light traffic is not a burst: webhooks go out while mail keeps arriving, not
    only once it stops."""
    created = server.new_address()
    server.with_jwt("POST", "/api/webhook/settings", created["jwt"], json=hook(receiver))
    before = len(receiver.requests)
    for _ in range(50):
        server.send(created["address"], raw_mail(created["address"], unique("steady")))
        time.sleep(0.1)
        if len(receiver.requests) > before:
            break
    assert len(receiver.requests) > before
    receiver.wait_for(before + server.mails(created["jwt"])["count"])


def test_webhook_test_route(server: Server, receiver: HttpReceiver) -> None:
    created = server.new_address()
    ok = server.with_jwt("POST", "/api/webhook/test", created["jwt"], json=hook(receiver))
    assert ok.json() == {"success": True}
    receiver.answers = [503]
    failed = server.with_jwt("POST", "/api/webhook/test", created["jwt"], json=hook(receiver))
    assert (failed.status_code, failed.text) == (400, "send webhook error: 503 Service Unavailable")
    bad = server.with_jwt(
        "POST", "/api/webhook/test", created["jwt"], json=hook(receiver, headers="not json")
    )
    assert bad.status_code == 400 and bad.text.startswith("send webhook error: ")


def test_admin_allow_list_and_mail_webhook(server: Server, receiver: HttpReceiver) -> None:
    created = server.new_address()
    server.admin(
        "POST", "/admin/webhook/settings", json={"enableAllowList": True, "allowList": ["x@test.example"]}
    )
    try:
        refused = server.with_jwt("GET", "/api/webhook/settings", created["jwt"])
        assert refused.status_code == 403
        assert server.admin("GET", "/admin/webhook/settings").json()["allowList"] == ["x@test.example"]
    finally:
        server.admin("POST", "/admin/webhook/settings", json={"enableAllowList": False, "allowList": []})
    every_mail = hook(receiver, url=f"{receiver.url}/all", body='{"to": "${to}"}')
    assert server.admin("POST", "/admin/mail_webhook/settings", json=every_mail).json() == {"success": True}
    try:
        assert server.admin("POST", "/admin/mail_webhook/test", json=every_mail).json() == {"success": True}
        before = len(receiver.requests)
        server.send(created["address"], raw_mail(created["address"], unique()))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            bodies = [json.loads(r.body) for r in receiver.requests[before:] if r.path == "/all"]
            if {"to": created["address"]} in bodies:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the admin's mail webhook did not fire")
    finally:
        server.admin("POST", "/admin/mail_webhook/settings", json={"enabled": False})
    assert server.client.get("/admin/mail_webhook/settings").status_code == 401


def test_smtp_answer_does_not_wait_for_after_store_steps(server: Server) -> None:
    """A mail is stored and visible as soon as SMTP says 250, whatever runs after."""
    address = server.new_address()
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as client:
        client.sendmail("bob@remote.example", address["address"], raw_mail(address["address"], "visible"))
    assert server.mails(address["jwt"])["count"] == 1


def test_parsed_mail_carries_the_verification_code_in_its_metadata(server: Server) -> None:
    created = server.new_address()
    raw = raw_mail(created["address"], "Your verification code is 730461")
    receive_by_test_route(server, created["address"], raw)
    mail_id = server.mails(created["jwt"])["results"][0]["id"]
    parsed = server.with_jwt("GET", f"/api/parsed_mail/{mail_id}", created["jwt"]).json()
    found = json.loads(parsed["metadata"])["ai_extract"]
    assert found["type"] == "auth_code" and found["result"] == "730461"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/auto_reply"),
        ("POST", "/api/auto_reply"),
        ("GET", "/api/webhook/settings"),
        ("POST", "/api/webhook/settings"),
        ("POST", "/api/webhook/test"),
    ],
)
def test_address_settings_routes_need_an_address_credential(server: Server, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer forged.token.here"}):
        response = server.client.request(method, path, json={}, headers=headers)
        assert (response.status_code, response.text) == (401, "Invalid address credential")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/webhook/settings"),
        ("POST", "/admin/webhook/settings"),
        ("GET", "/admin/mail_webhook/settings"),
        ("POST", "/admin/mail_webhook/settings"),
        ("POST", "/admin/mail_webhook/test"),
    ],
)
def test_admin_webhook_routes_need_the_admin(server: Server, method: str, path: str) -> None:
    response = server.client.request(method, path, json={}, headers={"x-admin-auth": "wrong"})
    assert (response.status_code, response.text) == (
        401,
        "You need to provide the admin password to access this page",
    )


def test_settings_bodies_of_the_wrong_shape_are_400(server: Server) -> None:
    jwt = server.new_address()["jwt"]
    assert server.with_jwt("POST", "/api/auto_reply", jwt, json={"auto_reply": "nope"}).status_code == 400
    assert server.with_jwt("POST", "/api/webhook/settings", jwt, json={"enabled": "maybe"}).status_code == 400
    assert server.admin("POST", "/admin/webhook/settings", json={"allowList": "x"}).status_code == 400
    assert server.admin("POST", "/admin/mail_webhook/settings", json=[1]).status_code == 400
