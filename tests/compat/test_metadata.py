"""COMPAT §12: the extraction result in `raw_mails.metadata`, the allow list, the test hook, and
the parsed rows' keys (§13)."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.support import Server

EXTRACTED_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
PARSED_KEYS = {
    "id",
    "message_id",
    "source",
    "address",
    "metadata",
    "created_at",
    "sender",
    "subject",
    "text",
    "html",
    "attachments",
}


@pytest.fixture
def server(make_server: ServerFactory) -> Server:
    """Its own server: the allow-list test changes a setting every mail reads."""
    return make_server(TITLE="compat-metadata")


def mail(to: str, subject: str, body: str) -> str:
    return (
        f"From: Shop <noreply@shop.example>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@shop.example>\r\n\r\n{body}\r\n"
    )


def receive(server: Server, to: str, raw: str, **extra: Any) -> dict[str, Any]:
    body = {"from": "noreply@shop.example", "to": to, "raw": raw, **extra}
    response = server.admin("POST", "/admin/test/receive_mail", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def only_row(server: Server, jwt: str) -> dict[str, Any]:
    (row,) = server.mails(jwt)["results"]
    return dict(row)


def test_a_code_is_stored_as_the_references_metadata_text(server: Server) -> None:
    created = server.new_address()
    receive(
        server, created["address"], mail(created["address"], "Sign in", "Your verification code is 482913")
    )
    row = only_row(server, created["jwt"])
    assert isinstance(row["metadata"], str)
    metadata = json.loads(row["metadata"])
    assert set(metadata) == {"ai_extract", "extracted_at"}
    assert metadata["ai_extract"] == {
        "type": "auth_code",
        "result": "482913",
        "result_text": "Verification code: 482913",
    }
    assert EXTRACTED_AT.match(metadata["extracted_at"])
    detail = server.with_jwt("GET", f"/api/mail/{row['id']}", created["jwt"]).json()
    admin = server.admin("GET", f"/admin/mails/{row['id']}").json()
    parsed = server.with_jwt("GET", f"/api/parsed_mail/{row['id']}", created["jwt"]).json()
    assert detail["metadata"] == admin["metadata"] == parsed["metadata"] == row["metadata"]


def test_smtp_mail_gets_its_metadata_after_the_250(server: Server) -> None:
    created = server.new_address()
    server.send(created["address"], mail(created["address"], "Welcome", "Your login code: 730461"))
    deadline = time.monotonic() + 10
    while (metadata := only_row(server, created["jwt"])["metadata"]) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert json.loads(metadata)["ai_extract"]["result"] == "730461"


def test_nothing_found_leaves_metadata_null(server: Server) -> None:
    created = server.new_address()
    receive(server, created["address"], mail(created["address"], "Hello", "Just saying hello, see you soon."))
    assert only_row(server, created["jwt"])["metadata"] is None


@pytest.mark.parametrize(
    "answer",
    [
        {"type": "auth_link", "result": "https://x.example/verify?t=1", "result_text": "Verify"},
        json.dumps({"type": "service_link", "result": "https://x.example/app", "result_text": ""}),
    ],
)
def test_the_test_hook_answer_is_stored_as_given(server: Server, answer: Any) -> None:
    created = server.new_address()
    receive(
        server, created["address"], mail(created["address"], "x", "no code here"), ai_extract_result=answer
    )
    expected = json.loads(answer) if isinstance(answer, str) else answer
    assert json.loads(only_row(server, created["jwt"])["metadata"])["ai_extract"] == expected


def test_a_hook_answer_of_type_none_stores_nothing(server: Server) -> None:
    created = server.new_address()
    raw = mail(created["address"], "x", "Your code is 112233")
    receive(
        server, created["address"], raw, ai_extract_result={"type": "none", "result": "", "result_text": ""}
    )
    assert only_row(server, created["jwt"])["metadata"] is None


def test_allow_list_settings_and_wildcards(server: Server) -> None:
    assert server.admin("GET", "/admin/ai_extract/settings").json() == {
        "enableAllowList": False,
        "allowList": [],
    }
    wanted = {"enableAllowList": True, "allowList": ["*@example.org", "exact@test.example"]}
    assert server.admin("POST", "/admin/ai_extract/settings", json=wanted).json() == {"success": True}
    try:
        assert server.admin("GET", "/admin/ai_extract/settings").json() == wanted
        listed = server.new_address(domain="example.org")
        unlisted = server.new_address()
        for created in (listed, unlisted):
            receive(
                server,
                created["address"],
                mail(created["address"], "Code", "Your verification code is 556677"),
            )
        assert only_row(server, listed["jwt"])["metadata"] is not None
        assert only_row(server, unlisted["jwt"])["metadata"] is None
    finally:
        server.admin("POST", "/admin/ai_extract/settings", json={"enableAllowList": False, "allowList": []})


def test_ai_extract_settings_need_the_admin(server: Server) -> None:
    response = server.client.get("/admin/ai_extract/settings")
    assert (response.status_code, response.text) == (
        401,
        "You need to provide the admin password to access this page",
    )


def test_parsed_rows_have_no_other_keys(server: Server) -> None:
    created = server.new_address()
    receive(server, created["address"], mail(created["address"], "Code", "Your verification code is 998877"))
    listed = server.with_jwt("GET", "/api/parsed_mails?limit=10&offset=0", created["jwt"]).json()["results"]
    (row,) = listed
    assert set(row) == PARSED_KEYS
    assert row["sender"] == "Shop <noreply@shop.example>"
    one = server.with_jwt("GET", f"/api/parsed_mail/{row['id']}", created["jwt"]).json()
    assert one == row
