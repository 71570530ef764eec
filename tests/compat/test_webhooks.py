"""COMPAT §10: webhook settings, the gate and allow-list texts, test deliveries, and what a stored
mail's delivery carries (with the extraction's result, §12)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.fakes.http_receiver import HttpReceiver, Request
from tests.support import Server

DEFAULT_HEADERS = '{\n  "Content-Type": "application/json"\n}'
DEFAULT_BODY = (
    "{\n"
    '  "id": "${id}",\n'
    '  "url": "${url}",\n'
    '  "from": "${from}",\n'
    '  "to": "${to}",\n'
    '  "subject": "${subject}",\n'
    '  "raw": "${raw}",\n'
    '  "parsedText": "${parsedText}",\n'
    '  "parsedHtml": "${parsedHtml}",\n'
    '  "aiExtractType": "${aiExtractType}",\n'
    '  "aiExtractResult": "${aiExtractResult}",\n'
    '  "aiExtractResultText": "${aiExtractResultText}"\n'
    "}"
)
DEFAULT_SETTING = {
    "enabled": False,
    "url": "",
    "method": "POST",
    "headers": DEFAULT_HEADERS,
    "body": DEFAULT_BODY,
}
NOT_ENABLED = "Webhook is not enabled, please contact the administrator"


@pytest.fixture
def server(make_server: ServerFactory) -> Server:
    # The receiver listens on loopback, which the outbound guard refuses by default.
    return make_server(
        ENABLE_WEBHOOK="true",
        OUTBOUND_ALLOW_NETWORKS="127.0.0.1",
        FRONTEND_URL="https://mail.compat.example/",
    )


@pytest.fixture(scope="module")
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as http:
        yield http


def setting(receiver: HttpReceiver, path: str) -> dict[str, Any]:
    return {**DEFAULT_SETTING, "enabled": True, "url": f"{receiver.url}{path}"}


def unique_path() -> str:
    return f"/{uuid.uuid4().hex}"


def delivered(receiver: HttpReceiver, path: str, timeout: float = 10) -> Request:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [r for r in receiver.requests if r.path == path]
        if found:
            return found[0]
        time.sleep(0.02)
    raise AssertionError(f"nothing delivered to {path}")


def test_default_setting_object(server: Server) -> None:
    jwt = server.new_address()["jwt"]
    assert server.with_jwt("GET", "/api/webhook/settings", jwt).json() == DEFAULT_SETTING
    assert server.admin("GET", "/admin/mail_webhook/settings").json() == DEFAULT_SETTING
    assert server.admin("GET", "/admin/webhook/settings").json() == {
        "enableAllowList": False,
        "allowList": [],
    }


def test_settings_are_stored_as_given(server: Server) -> None:
    jwt = server.new_address()["jwt"]
    odd = {"enabled": True, "url": "not a url", "method": "BREW", "headers": "not json", "body": "${nothing}"}
    assert server.with_jwt("POST", "/api/webhook/settings", jwt, json=odd).json() == {"success": True}
    assert server.with_jwt("GET", "/api/webhook/settings", jwt).json() == odd


# Every webhook route: the settings pairs (GET and POST) and the two test deliveries.
WEBHOOK_ROUTES = [
    *(
        (method, path)
        for path in ("/admin/webhook", "/admin/mail_webhook", "/api/webhook")
        for method in ("GET", "POST")
    ),
    ("POST", "/admin/mail_webhook/test"),
    ("POST", "/api/webhook/test"),
]


@pytest.mark.parametrize(("method", "path"), WEBHOOK_ROUTES)
def test_the_gate(make_server: ServerFactory, method: str, path: str) -> None:
    plain = make_server()
    jwt = plain.new_address()["jwt"]
    headers = {"x-admin-auth": "admin-test-password", "Authorization": f"Bearer {jwt}"}
    path = path if path.endswith("/test") else f"{path}/settings"
    response = plain.client.request(method, path, json={}, headers=headers)
    assert (response.status_code, response.text) == (403, NOT_ENABLED)


def test_allow_list_refuses_other_addresses(server: Server) -> None:
    created = server.new_address()
    allow = {"enableAllowList": True, "allowList": ["someone@test.example"]}
    assert server.admin("POST", "/admin/webhook/settings", json=allow).json() == {"success": True}
    try:
        assert server.admin("GET", "/admin/webhook/settings").json() == allow
        for method, path in (("GET", "/api/webhook/settings"), ("POST", "/api/webhook/settings")):
            response = server.with_jwt(method, path, created["jwt"], json=DEFAULT_SETTING)
            assert (response.status_code, response.text) == (
                403,
                "Webhook settings is not allowed for this user",
            )
    finally:
        server.admin("POST", "/admin/webhook/settings", json={"enableAllowList": False, "allowList": []})


def test_address_test_without_mail_sends_the_placeholders(server: Server, receiver: HttpReceiver) -> None:
    created = server.new_address()
    path = unique_path()
    response = server.with_jwt("POST", "/api/webhook/test", created["jwt"], json=setting(receiver, path))
    assert response.json() == {"success": True}
    request = delivered(receiver, path)
    assert request.method == "POST" and request.headers["Content-Type"] == "application/json"
    payload = json.loads(request.body)
    assert [payload.pop(key) for key in ("id", "url", "from", "to")] == [
        "0",
        "",
        "test@test.com",
        created["address"],
    ]
    assert [payload.pop(key) for key in ("subject", "raw", "parsedText", "parsedHtml")] == [
        "test subject",
        "test raw email",
        "test parsed text",
        "test parsed html",
    ]
    assert payload == dict.fromkeys(("aiExtractType", "aiExtractResult", "aiExtractResultText"), "")


def test_address_test_with_a_stored_mail(server: Server, receiver: HttpReceiver) -> None:
    created = server.new_address()
    raw = (
        f"From: Bob <bob@remote.example>\r\nTo: {created['address']}\r\n"
        "Subject: Hi\r\n\r\nYour code is 123987\r\n"
    )
    server.send(created["address"], raw)
    (row,) = server.mails(created["jwt"])["results"]
    path = unique_path()
    server.with_jwt("POST", "/api/webhook/test", created["jwt"], json=setting(receiver, path))
    payload = json.loads(delivered(receiver, path).body)
    assert payload["id"] == str(row["id"]) and payload["subject"] == "Hi"
    assert payload["from"] == "Bob <bob@remote.example>" and payload["to"] == created["address"]
    assert payload["url"] == f"https://mail.compat.example/?mail_id={row['id']}"


def test_admin_test_goes_to_admin_at_test_com(server: Server, receiver: HttpReceiver) -> None:
    path = unique_path()
    body = {**setting(receiver, path), "body": '{"to": "${to}"}'}
    assert server.admin("POST", "/admin/mail_webhook/test", json=body).json() == {"success": True}
    assert json.loads(delivered(receiver, path).body) == {"to": "admin@test.com"}


def test_a_failing_test_delivery_is_400_with_status_and_text(server: Server, receiver: HttpReceiver) -> None:
    jwt = server.new_address()["jwt"]
    receiver.answers = [503]
    response = server.with_jwt("POST", "/api/webhook/test", jwt, json=setting(receiver, unique_path()))
    assert (response.status_code, response.text) == (400, "send webhook error: 503 Service Unavailable")
    receiver.answers = [404]
    response = server.admin("POST", "/admin/mail_webhook/test", json=setting(receiver, unique_path()))
    assert (response.status_code, response.text) == (400, "send webhook error: 404 Not Found")


@pytest.mark.parametrize(
    ("broken", "refusal"),
    [
        ({"url": "not a url"}, "send webhook error: "),
        # A NUL is refused before any route, as everywhere (tempmail.http.input_guard).
        ({"url": "http://\u0000/"}, "Invalid input: url: NUL character not allowed"),
        ({"headers": "not json"}, "send webhook error: "),
        ({"headers": "[1]"}, "send webhook error: "),
        ({"method": "B W"}, "send webhook error: "),
    ],
)
def test_an_undeliverable_setting_is_a_400_in_the_test_route(
    server: Server, broken: dict[str, str], refusal: str
) -> None:
    jwt = server.new_address()["jwt"]
    body = {**DEFAULT_SETTING, "enabled": True, "url": "http://127.0.0.1:9/", **broken}
    response = server.with_jwt("POST", "/api/webhook/test", jwt, json=body)
    assert response.status_code == 400 and response.text.startswith(refusal)


def test_a_stored_mail_triggers_both_webhooks_with_the_extraction(
    server: Server, receiver: HttpReceiver
) -> None:
    created = server.new_address()
    own, every = unique_path(), unique_path()
    server.with_jwt("POST", "/api/webhook/settings", created["jwt"], json=setting(receiver, own))
    server.admin("POST", "/admin/mail_webhook/settings", json=setting(receiver, every))
    answer = {"type": "auth_link", "result": 'https://x.example/v?t="1"', "result_text": "Verify"}
    raw = (
        f'From: "Bob B." <bob@remote.example>\r\nTo: {created["address"]}\r\n'
        'Subject: Sign "in"\r\n\r\n<b>hi</b>\r\n'
    )
    try:
        body = {
            "from": "bob@remote.example",
            "to": created["address"],
            "raw": raw,
            "ai_extract_result": answer,
        }
        assert server.admin("POST", "/admin/test/receive_mail", json=body).json()["success"] is True
        (row,) = server.mails(created["jwt"])["results"]
        for path in (own, every):
            payload = json.loads(delivered(receiver, path).body)
            assert payload["id"] == str(row["id"])
            assert payload["url"] == f"https://mail.compat.example/?mail_id={row['id']}"
            assert payload["from"] == "Bob B. <bob@remote.example>" and payload["to"] == created["address"]
            assert payload["subject"] == 'Sign "in"' and payload["raw"] == row["raw"]
            assert payload["parsedText"] == "<b>hi</b>\n"
            assert (payload["aiExtractType"], payload["aiExtractResult"], payload["aiExtractResultText"]) == (
                "auth_link",
                answer["result"],
                "Verify",
            )
    finally:
        server.admin("POST", "/admin/mail_webhook/settings", json=DEFAULT_SETTING)


def test_nothing_found_sends_empty_extraction_fields(server: Server, receiver: HttpReceiver) -> None:
    created = server.new_address()
    path = unique_path()
    server.with_jwt("POST", "/api/webhook/settings", created["jwt"], json=setting(receiver, path))
    server.send(created["address"], "Subject: hello\r\n\r\nnothing to see\r\n")
    payload = json.loads(delivered(receiver, path).body)
    assert (payload["aiExtractType"], payload["aiExtractResult"], payload["aiExtractResultText"]) == (
        "",
        "",
        "",
    )
