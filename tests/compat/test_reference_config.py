"""A server started with the reference's own example configuration (its wrangler.toml values as
environment variables: JSON lists, upper-case domains and PREFIX, an empty DEFAULT_DOMAINS, a
role with empty domains, an out-of-range CLEANUP_BATCH_SIZE) starts, creates addresses where the
reference does, receives mail over SMTP and serves it on every read route."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.support import ADMIN_PASSWORD, JWT_SECRET, Server

REFERENCE_ENV = {
    "PREFIX": "TMP",
    "MIN_ADDRESS_LEN": "1",
    "MAX_ADDRESS_LEN": "30",
    "DOMAINS": '["TEST.EXAMPLE", "Example.ORG"]',
    "DEFAULT_DOMAINS": "[]",
    "USER_ROLES": '[{"domains": [], "role": "vip", "prefix": "VIP"}]',
    "ADMIN_PASSWORDS": json.dumps([ADMIN_PASSWORD]),
    "JWT_SECRET": JWT_SECRET,
    "BLACK_LIST": "",
    "ENABLE_USER_CREATE_EMAIL": "true",
    "ENABLE_USER_DELETE_EMAIL": "true",
    "ENABLE_AUTO_REPLY": "false",
    "ENABLE_WEBHOOK": "true",
    "E2E_TEST_MODE": "true",
    "CLEANUP_BATCH_SIZE": "9999",
    "ENABLE_CHECK_JUNK_MAIL": "false",
    "JUNK_MAIL_CHECK_LIST": '["spf", "dkim", "dmarc"]',
    "JUNK_MAIL_FORCE_PASS_LIST": '["spf", "dkim", "dmarc"]',
    "ENABLE_ANOTHER_WORKER": "false",
    "ANOTHER_WORKER_LIST": '[{"binding": "AUTH_INBOX", "method": "rpcEmail", "keywords": ["verify"]}]',
    "ENABLE_CREATE_ADDRESS_SUBDOMAIN_MATCH": "",
    "DISABLE_ANONYMOUS_USER_CREATE_EMAIL": "",
    "REMOVE_EXCEED_SIZE_ATTACHMENT": "",
    "ENABLE_INDEX_ABOUT": "true",
    "SUBDOMAIN_FORWARD_ADDRESS_LIST": "[]",
    "TG_MAX_ADDRESS": "5",
}


@pytest.fixture
def reference(make_server: ServerFactory) -> Server:
    return make_server(**REFERENCE_ENV)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def test_settings_as_the_reference_reports_them(reference: Server) -> None:
    settings = ok(reference.client.get("/open_api/settings"))
    assert settings["prefix"] == "tmp"
    assert settings["domains"] == ["test.example", "example.org"]
    assert settings["defaultDomains"] == ["test.example", "example.org"]
    assert settings["version"] == "v1.12.0"
    configs = ok(reference.admin("GET", "/admin/worker/configs"))
    assert configs["PREFIX"] == "TMP"
    assert configs["USER_ROLES"] == [{"domains": [], "role": "vip", "prefix": "vip"}]


def test_receive_and_read_on_every_route(reference: Server) -> None:
    name = f"r{uuid.uuid4().hex[:10]}"
    created = ok(reference.client.post("/api/new_address", json={"name": name, "domain": "TEST.EXAMPLE"}))
    address = f"tmp{name}@test.example"
    assert created["address"] == address
    jwt = created["jwt"]

    subject = f"hello {name}"
    reference.send(
        f"TMP{name}@Test.Example",
        f"From: Sender <sender@remote.example>\r\nTo: {address}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{name}@remote.example>\r\n\r\nbody of {name}\r\n",
    )

    mails = ok(reference.with_jwt("GET", "/api/mails?limit=10&offset=0", jwt))
    assert mails["count"] == 1
    row = mails["results"][0]
    assert row["address"] == address and subject in row["raw"]
    mail_id = row["id"]
    assert ok(reference.with_jwt("GET", f"/api/mail/{mail_id}", jwt))["id"] == mail_id

    parsed = ok(reference.with_jwt("GET", "/api/parsed_mails?limit=10&offset=0", jwt))
    assert [m["subject"] for m in parsed["results"]] == [subject]
    assert ok(reference.with_jwt("GET", f"/api/parsed_mail/{mail_id}", jwt))["subject"] == subject

    admin_mails = ok(
        reference.admin("GET", "/admin/mails", params={"limit": 10, "offset": 0, "address": address})
    )
    assert [m["id"] for m in admin_mails["results"]] == [mail_id]
    assert subject in ok(reference.admin("GET", f"/admin/mails/{mail_id}"))["raw"]

    ok(reference.admin("POST", "/admin/user_settings", json={"enable": True, "enableMailVerify": False}))
    email = f"u{uuid.uuid4().hex[:10]}@people.example"
    ok(reference.client.post("/user_api/register", json={"email": email, "password": sha256("pw")}))
    user_jwt = ok(reference.client.post("/user_api/login", json={"email": email, "password": sha256("pw")}))[
        "jwt"
    ]
    bound = reference.user(
        "POST", "/user_api/bind_address", user_jwt, headers={"Authorization": f"Bearer {jwt}"}
    )
    assert bound.status_code == 200, bound.text
    user_mails = ok(reference.user("GET", "/user_api/mails?limit=10&offset=0", user_jwt))
    assert [m["id"] for m in user_mails["results"]] == [mail_id]


def test_every_allowed_domain_when_default_domains_is_empty(reference: Server) -> None:
    name = f"o{uuid.uuid4().hex[:10]}"
    created = ok(reference.client.post("/api/new_address", json={"name": name, "domain": "example.org"}))
    assert created["address"] == f"tmp{name}@example.org"


def test_admin_address_with_prefix(reference: Server) -> None:
    """The admin's PREFIX (lower-cased) only with `enablePrefix: true`, as the reference."""
    name = f"a{uuid.uuid4().hex[:10]}"
    body = {"name": name, "domain": "Example.ORG", "enablePrefix": True}
    assert ok(reference.admin("POST", "/admin/new_address", json=body))["address"] == f"tmp{name}@example.org"
    bare = {"name": name, "domain": "Example.ORG"}
    assert ok(reference.admin("POST", "/admin/new_address", json=bare))["address"] == f"{name}@example.org"


def test_role_prefix_and_empty_role_domains(reference: Server) -> None:
    """vip's `prefix: "VIP"` applies lower-cased; its empty `domains` means DEFAULT_DOMAINS, itself
    empty, so every domain."""
    ok(reference.admin("POST", "/admin/user_settings", json={"enable": True, "enableMailVerify": False}))
    email = f"v{uuid.uuid4().hex[:10]}@people.example"
    ok(reference.client.post("/user_api/register", json={"email": email, "password": sha256("pw")}))
    user_id = reference.db.sql("SELECT id FROM users WHERE user_email = ?", email)[0][0]
    ok(reference.admin("POST", "/admin/user_roles", json={"user_id": user_id, "role_text": "vip"}))
    user_jwt = ok(reference.client.post("/user_api/login", json={"email": email, "password": sha256("pw")}))[
        "jwt"
    ]
    name = f"p{uuid.uuid4().hex[:10]}"
    created = reference.user(
        "POST", "/api/new_address", user_jwt, json={"name": name, "domain": "example.org"}
    )
    assert ok(created)["address"] == f"vip{name}@example.org"
