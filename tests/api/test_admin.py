"""`/admin` and `/admin/test`: every route, admin auth in all its forms, and bad input."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

import jwt as pyjwt
import pytest

from tests.conftest import ServerFactory
from tests.support import JWT_SECRET, Server

ADMIN_TEXT = "You need to provide the admin password to access this page"
ADMIN_ROUTES = [
    ("GET", "/admin/address?limit=10&offset=0"),
    ("POST", "/admin/new_address"),
    ("DELETE", "/admin/delete_address/1"),
    ("DELETE", "/admin/clear_inbox/1"),
    ("DELETE", "/admin/clear_sent_items/1"),
    ("GET", "/admin/show_password/1"),
    ("POST", "/admin/address/1/reset_password"),
    ("GET", "/admin/mails?limit=10&offset=0"),
    ("GET", "/admin/mails/1"),
    ("DELETE", "/admin/mails/1"),
    ("GET", "/admin/mails_unknow?limit=10&offset=0"),
    ("GET", "/admin/statistics"),
    ("POST", "/admin/db_initialize"),
    ("POST", "/admin/db_migration"),
    ("GET", "/admin/db_version"),
    ("POST", "/admin/test/seed_mail"),
    ("POST", "/admin/test/receive_mail"),
    ("POST", "/admin/cleanup"),
    ("GET", "/admin/auto_cleanup"),
]


def role_token(role: str, expires_in: int = 3600) -> str:
    now = int(time.time())
    return pyjwt.encode(
        {"user_email": "u@x", "user_id": 1, "user_role": role, "iat": now, "exp": now + expires_in},
        JWT_SECRET,
        algorithm="HS256",
    )


def admin_create(server: Server, name: str | None = None, **body: Any) -> dict[str, Any]:
    response = server.admin(
        "POST", "/admin/new_address", json={"name": name or f"a{uuid.uuid4().hex[:10]}", **body}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def deliver(server: Server, address: str, subject: str = "s") -> None:
    server.send(address, f"Subject: {subject}\r\n\r\nbody\r\n")


# --- auth ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_admin_auth_required(server: Server, method: str, path: str) -> None:
    for headers in ({}, {"x-admin-auth": "wrong"}, {"x-user-access-token": role_token("admin")}):
        response = server.client.request(method, path, headers=headers, json={})
        assert (response.status_code, response.text) == (401, ADMIN_TEXT), headers


def test_admin_role_token(make_server: ServerFactory) -> None:
    roles = make_server(ADMIN_USER_ROLE="admin")
    ok = roles.client.get("/admin/statistics", headers={"x-user-access-token": role_token("admin")})
    assert ok.status_code == 200
    for token in (role_token("vip"), role_token("admin", expires_in=-10), "garbage"):
        response = roles.client.get("/admin/statistics", headers={"x-user-access-token": token})
        assert response.status_code == 401


def test_admin_password_check_disabled(make_server: ServerFactory) -> None:
    open_admin = make_server(DISABLE_ADMIN_PASSWORD_CHECK="true")
    assert open_admin.client.get("/admin/statistics").status_code == 200


# --- addresses -------------------------------------------------------------------------------


def test_admin_new_address_rules(make_server: ServerFactory) -> None:
    strict = make_server(
        MIN_ADDRESS_LEN="3", MAX_ADDRESS_LEN="10", PREFIX="tmp", DEFAULT_DOMAINS="test.example"
    )
    tail = uuid.uuid4().hex
    assert (
        admin_create(strict, "x" + tail[:1], domain="example.org", enablePrefix=False)["address"]
        == f"x{tail[:1]}@example.org"
    )
    # The admin's bounds are the reference's fixed 1..30, not MIN/MAX_ADDRESS_LEN (COMPAT §11.5).
    long_name = "l" + tail[:29]
    created = admin_create(strict, long_name, domain="test.example", enablePrefix=True)
    assert created["address"] == f"tmp{long_name}@test.example"
    assert (
        admin_create(strict, "p" + tail[:8], domain="test.example")["address"] == f"p{tail[:8]}@test.example"
    )
    response = strict.admin(
        "POST", "/admin/new_address", json={"name": long_name + "x", "domain": "test.example"}
    )
    assert (response.status_code, response.text) == (
        400,
        "Failed to create address: Name is too long (max 30)",
    )
    response = strict.admin("POST", "/admin/new_address", json={"domain": "test.example"})
    assert (response.status_code, response.text) == (400, "Required field is missing")
    response = strict.admin(
        "POST", "/admin/new_address", json={"name": "zz" + tail[:6], "domain": "nope.example"}
    )
    assert (response.status_code, response.text) == (400, "Failed to create address: Invalid domain")
    response = strict.admin(
        "POST", "/admin/new_address", json={"name": long_name, "domain": "test.example", "enablePrefix": True}
    )
    assert (response.status_code, response.text) == (400, "Failed to create address: Address already exists")


def test_address_list_counts_search_and_sort(server: Server) -> None:
    tag = uuid.uuid4().hex[:8]
    busy = admin_create(server, f"busy{tag}", domain="test.example")
    quiet = admin_create(server, f"quiet{tag}", domain="test.example")
    deliver(server, busy["address"])
    deliver(server, busy["address"])
    page = server.admin("GET", f"/admin/address?limit=10&offset=0&query={tag}").json()
    assert page["count"] == 2
    rows = {row["name"]: row for row in page["results"]}
    assert "password" not in rows[busy["address"]]
    assert (rows[busy["address"]]["mail_count"], rows[busy["address"]]["send_count"]) == (2, 0)
    assert rows[quiet["address"]]["mail_count"] == 0
    assert rows[busy["address"]]["source_meta"] == "admin"
    assert [r["name"] for r in page["results"]] == [quiet["address"], busy["address"]], "id desc by default"
    for sort_by in (
        "id",
        "name",
        "created_at",
        "updated_at",
        "source_meta",
        "mail_count",
        "send_count",
        "bogus",
    ):
        response = server.admin("GET", f"/admin/address?limit=10&offset=0&query={tag}&sort_by={sort_by}")
        assert response.status_code == 200, sort_by
    by_mails = server.admin("GET", f"/admin/address?limit=10&offset=0&query={tag}&sort_by=mail_count").json()
    assert by_mails["results"][0]["name"] == busy["address"]
    ascending = server.admin(
        "GET", f"/admin/address?limit=10&offset=0&query={tag}&sort_by=mail_count&sort_order=ascend"
    ).json()
    assert ascending["results"][0]["name"] == quiet["address"]
    second_page = server.admin("GET", f"/admin/address?limit=1&offset=1&query={tag}").json()
    assert second_page["count"] == 0 and len(second_page["results"]) == 1


def test_query_is_a_literal_substring(server: Server) -> None:
    assert server.admin("GET", "/admin/address?limit=10&offset=0&query=%25_%25").json()["count"] == 0


def test_delete_clear_show_and_reset(server: Server) -> None:
    created = admin_create(server, domain="test.example")
    address_id = created["address_id"]
    deliver(server, created["address"])
    shown = server.admin("GET", f"/admin/show_password/{address_id}").json()
    assert server.mails(shown["jwt"])["count"] == 1

    reset = server.admin(
        "POST",
        f"/admin/address/{address_id}/reset_password",
        json={"password": hashlib.sha256(b"admin-set").hexdigest()},
    )
    assert reset.json() == {"success": True}
    login = server.client.post(
        "/api/address_login",
        json={"email": created["address"], "password": hashlib.sha256(b"admin-set").hexdigest()},
    )
    assert login.status_code == 200

    assert server.admin("DELETE", f"/admin/clear_inbox/{address_id}").json() == {"success": True}
    assert server.mails(created["jwt"])["count"] == 0
    assert server.admin("DELETE", f"/admin/clear_sent_items/{address_id}").json() == {"success": True}
    deliver(server, created["address"])
    assert server.admin("DELETE", f"/admin/delete_address/{address_id}").json() == {"success": True}
    assert (
        server.admin("GET", f"/admin/mails?limit=10&offset=0&address={created['address']}").json()["count"]
        == 0
    )
    assert server.with_jwt("GET", "/api/mails?limit=1&offset=0", created["jwt"]).status_code == 401
    assert server.admin("DELETE", f"/admin/delete_address/{address_id}").json() == {"success": False}


def test_missing_address_ids(server: Server) -> None:
    missing = 2**62
    for method, path in [
        ("DELETE", f"/admin/clear_inbox/{missing}"),
        ("GET", f"/admin/show_password/{missing}"),
    ]:
        response = server.admin(method, path)
        assert (response.status_code, response.text) == (404, "Address not found")
    response = server.admin("POST", f"/admin/address/{missing}/reset_password", json={"password": "ab"})
    assert response.status_code == 404
    response = server.admin("POST", "/admin/address/1/reset_password", json={})
    assert response.status_code == 400


# --- mails -----------------------------------------------------------------------------------


def test_admin_mails(server: Server) -> None:
    created = admin_create(server, domain="test.example")
    deliver(server, created["address"], "for admin")
    filtered = server.admin(
        "GET", f"/admin/mails?limit=10&offset=0&address={created['address'].upper()}"
    ).json()
    assert filtered["count"] == 1
    (row,) = filtered["results"]
    assert "Subject: for admin" in row["raw"]
    everything = server.admin("GET", "/admin/mails?limit=100&offset=0").json()
    assert everything["count"] >= 1
    assert server.admin("GET", f"/admin/mails/{row['id']}").json() == row
    assert server.admin("DELETE", f"/admin/mails/{row['id']}").json() == {"success": True}
    assert server.admin("GET", f"/admin/mails/{row['id']}").json() is None
    # As the reference (COMPAT §13): a delete answers success even when nothing matched.
    assert server.admin("DELETE", f"/admin/mails/{row['id']}").json() == {"success": True}


def test_unknown_mails(server: Server) -> None:
    nobody = f"ghost{uuid.uuid4().hex[:8]}@test.example"
    known = admin_create(server, domain="test.example")
    deliver(server, nobody)
    deliver(server, known["address"])
    rows = server.admin("GET", "/admin/mails_unknow?limit=100&offset=0").json()["results"]
    addresses = {row["address"] for row in rows}
    assert nobody in addresses and known["address"] not in addresses


def test_statistics(fresh_server: Any) -> None:
    private = fresh_server()
    assert private.admin("GET", "/admin/statistics").json() == {
        "mailCount": 0,
        "addressCount": 0,
        "activeAddressCount7days": 0,
        "activeAddressCount30days": 0,
        "userCount": 0,
        "sendMailCount": 0,
    }
    created = admin_create(private, domain="test.example")
    deliver(private, created["address"])
    deliver(private, "ghost@test.example")
    stats = private.admin("GET", "/admin/statistics").json()
    assert stats["mailCount"] == 2
    assert stats["addressCount"] == 1
    assert stats["activeAddressCount7days"] == stats["activeAddressCount30days"] == 1


# --- database --------------------------------------------------------------------------------


def test_database_routes(server: Server) -> None:
    assert server.admin("POST", "/admin/db_initialize").json() == {"message": "Database already initialized"}
    assert server.admin("POST", "/admin/db_migration").json() == {
        "success": True,
        "message": "Database does not need migration",
    }
    version = server.admin("GET", "/admin/db_version").json()
    assert set(version) == {
        "need_initialization",
        "need_migration",
        "current_db_version",
        "code_db_version",
        "database_size",
    }
    assert version["need_initialization"] is False and version["need_migration"] is False
    assert version["current_db_version"] == version["code_db_version"]
    assert version["database_size"] > 0


# --- test mode -------------------------------------------------------------------------------


def test_seed_mail(server: Server) -> None:
    created = server.new_address()
    seeded = server.admin(
        "POST",
        "/admin/test/seed_mail",
        json={
            "address": created["address"],
            "raw": "Subject: seeded\r\n\r\nhi",
            "source": "s@x",
            "message_id": "<m@x>",
        },
    )
    assert seeded.json() == {"success": True}
    (row,) = server.mails(created["jwt"])["results"]
    assert (row["source"], row["message_id"], row["raw"]) == ("s@x", "<m@x>", "Subject: seeded\r\n\r\nhi")


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"raw": "x"}, "address and raw are required"),
        ({"address": "a@test.example"}, "address and raw are required"),
        ({"address": "a@test.example", "raw": "x" * 1_000_001}, "raw content too large"),
        ({"address": "a@test.example", "raw": "x", "message_id": "m" * 256}, "message_id too long"),
    ],
)
def test_seed_mail_errors(server: Server, body: dict[str, str], text: str) -> None:
    response = server.admin("POST", "/admin/test/seed_mail", json=body)
    assert (response.status_code, response.text) == (400, text)


def test_receive_mail_runs_the_pipeline(server: Server) -> None:
    created = server.new_address()
    answer = server.admin(
        "POST",
        "/admin/test/receive_mail",
        json={"from": "a@remote.example", "to": created["address"], "raw": "Subject: piped\r\n\r\nhi"},
    ).json()
    assert answer == {"success": True, "replyCalled": False, "forwardedTo": []}
    (row,) = server.mails(created["jwt"])["results"]
    assert row["source"] == "a@remote.example"
    foreign = server.admin(
        "POST",
        "/admin/test/receive_mail",
        json={"from": "a@remote.example", "to": "x@elsewhere.example", "raw": "Subject: no\r\n\r\nhi"},
    ).json()
    assert foreign["success"] is False and foreign["rejected"]


def test_test_mode_off(make_server: ServerFactory) -> None:
    production = make_server(E2E_TEST_MODE="false")
    for path in ("/admin/test/seed_mail", "/admin/test/receive_mail"):
        response = production.admin("POST", path, json={"address": "a@test.example", "raw": "x"})
        assert (response.status_code, response.text) == (404, "Not available")


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "content"),
    [
        ("POST", "/admin/new_address", b"{oops"),
        ("POST", "/admin/new_address", b'{"name": ["x"]}'),
        ("POST", "/admin/new_address", b'{"name": "x", "enablePrefix": "perhaps"}'),
        ("POST", "/admin/address/1/reset_password", b'{"password": 5}'),
        ("POST", "/admin/test/seed_mail", b"null"),
        ("GET", "/admin/mails/abc", b""),
        ("GET", "/admin/mails/99999999999999999999999", b""),
        ("DELETE", "/admin/delete_address/-1", b""),
        ("GET", "/admin/address?limit=500&offset=0", b""),
        ("GET", "/admin/mails_unknow?limit=10&offset=-3", b""),
    ],
)
def test_admin_bad_input(server: Server, method: str, path: str, content: bytes) -> None:
    response = server.admin(method, path, content=content, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
