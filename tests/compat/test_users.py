"""COMPAT §7, §7.1 and §25: user accounts as cloudflare_temp_email v1.12 answers — the bound
address list and its defaults, bind / unbind / bind_address_jwt / transfer in the reference's
order and texts, address-count limits, the admin's user settings, roles, role limits and
bindings, and that no listing shows a password.

Registration rules and role limits are global to a server: the tests here share one server of
their own and put the rules back when they change them."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.accounts.test_user_accounts import email
from tests.conftest import ServerFactory
from tests.support import USERS_ENV, Server

LISTED = {"id", "name", "source_meta", "created_at", "updated_at", "mail_count", "send_count"}
OPEN = {"enable": True, "maxAddressCount": 5}


@pytest.fixture
def server(make_server: ServerFactory) -> Iterator[Server]:
    server = make_server(**USERS_ENV, TITLE="compat-users")
    rules(server, **OPEN)
    yield server
    rules(server, **OPEN)
    server.admin("POST", "/admin/role_address_config", json={"configs": {}})


def rules(server: Server, **body: Any) -> tuple[int, str]:
    response = server.admin("POST", "/admin/user_settings", json=body)
    return response.status_code, response.text


def sign_up(server: Server, address: str | None = None) -> tuple[str, int]:
    """A new user's token and id."""
    address = address or email()
    password = hashlib.sha256(b"pw").hexdigest()
    assert (
        server.client.post("/user_api/register", json={"email": address, "password": password}).status_code
        == 200
    )
    token = server.client.post("/user_api/login", json={"email": address, "password": password}).json()["jwt"]
    return str(token), int(server.user("GET", "/user_api/settings", token).json()["user_id"])


def bind(server: Server, token: str, address_jwt: str, **headers: str) -> tuple[int, str]:
    response = server.client.post(
        "/user_api/bind_address",
        headers={"x-user-token": token, "Authorization": f"Bearer {address_jwt}", **headers},
    )
    return response.status_code, response.text


def call(server: Server, method: str, path: str, token: str, body: Any = None) -> tuple[int, str]:
    response = server.user(method, path, token, json=body)
    return response.status_code, response.text


SUCCESS = (200, '{"success":true}')


# --- the bound list -----------------------------------------------------------------------------


def test_bound_list_defaults_shape_and_order(server: Server) -> None:
    token, _ = sign_up(server)
    made = [server.new_address() for _ in range(3)]
    for created in made:
        assert bind(server, token, created["jwt"]) == SUCCESS
    listing = server.user("GET", "/user_api/bind_address", token).json()
    assert listing["count"] == 3
    assert [row["id"] for row in listing["results"]] == sorted((m["address_id"] for m in made), reverse=True)
    assert all(set(row) == LISTED for row in listing["results"])
    page = server.user("GET", "/user_api/bind_address?limit=1", token).json()
    assert (len(page["results"]), page["count"]) == (1, 3)
    later = server.user("GET", "/user_api/bind_address?offset=1", token).json()
    assert (len(later["results"]), later["count"]) == (2, 0)
    for query, text in (
        ("limit=abc", "Invalid limit"),
        ("limit=0", "Invalid limit"),
        ("offset=-1", "Invalid offset"),
    ):
        assert call(server, "GET", f"/user_api/bind_address?{query}", token) == (400, text)


def test_no_listing_shows_a_password(server: Server) -> None:
    token, user_id = sign_up(server)
    created = server.new_address()
    assert created["password"]
    assert bind(server, token, created["jwt"]) == SUCCESS
    listings = [
        server.admin("GET", "/admin/address", params={"limit": 5, "offset": 0, "query": created["address"]}),
        server.admin("GET", "/admin/users?limit=100&offset=0"),
        server.admin("GET", f"/admin/users/bind_address/{user_id}"),
        server.user("GET", "/user_api/bind_address", token),
    ]
    for response in listings:
        assert response.status_code == 200, response.text
        assert "password" not in response.text


def test_admin_bound_list_is_results_only(server: Server) -> None:
    token, user_id = sign_up(server)
    first, second = server.new_address(), server.new_address()
    bind(server, token, first["jwt"])
    bind(server, token, second["jwt"])
    body = server.admin("GET", f"/admin/users/bind_address/{user_id}").json()
    assert set(body) == {"results"}
    assert [row["id"] for row in body["results"]] == [second["address_id"], first["address_id"]]
    assert all(set(row) == LISTED for row in body["results"])


# --- bind ---------------------------------------------------------------------------------------


def test_bind_order_and_texts(server: Server) -> None:
    token, _ = sign_up(server)
    assert bind(server, token, "not-a-jwt") == (400, "No address or user token")
    no_bearer = server.client.post("/user_api/bind_address", headers={"x-user-token": token})
    assert (no_bearer.status_code, no_bearer.text) == (400, "No address or user token")
    gone = server.new_address()
    server.admin("DELETE", f"/admin/delete_address/{gone['address_id']}")
    assert bind(server, token, gone["jwt"]) == (400, "Address not found")
    created = server.new_address()
    assert bind(server, token, created["jwt"]) == SUCCESS
    assert bind(server, token, created["jwt"]) == SUCCESS
    other, _ = sign_up(server)
    assert bind(server, other, created["jwt"]) == (400, "Address is already binded, please unbind first")
    # A deleted account with a token still signed: the address is checked first, then the user.
    lost, lost_id = sign_up(server)
    server.admin("DELETE", f"/admin/users/{lost_id}")
    assert bind(server, lost, gone["jwt"]) == (400, "Address not found")
    assert bind(server, lost, server.new_address()["jwt"]) == (400, "User not found")
    zh = server.client.post("/user_api/bind_address", headers={"x-user-token": token, "x-lang": "zh"})
    assert zh.text == "缺少地址或用户令牌"


def test_the_limit_comes_before_bound_to_someone_else(server: Server) -> None:
    assert rules(server, **{**OPEN, "maxAddressCount": 1})[0] == 200
    owner, _ = sign_up(server)
    full, _ = sign_up(server)
    taken = server.new_address()
    assert bind(server, owner, taken["jwt"]) == SUCCESS
    assert bind(server, full, server.new_address()["jwt"]) == SUCCESS
    assert bind(server, full, taken["jwt"]) == (400, "Max address count reached")
    assert rules(server, **{**OPEN, "maxAddressCount": 2})[0] == 200
    assert bind(server, full, taken["jwt"]) == (400, "Address is already binded, please unbind first")


def test_zero_or_less_is_unlimited_and_roles_override(server: Server) -> None:
    assert rules(server, **{**OPEN, "maxAddressCount": 0})[0] == 200
    token, user_id = sign_up(server)
    for _ in range(6):
        assert bind(server, token, server.new_address()["jwt"]) == SUCCESS
    server.admin("POST", "/admin/user_roles", json={"user_id": user_id, "role_text": "vip"})
    role_token = server.user("GET", "/user_api/settings", token).json()["access_token"]
    limits = {"configs": {"vip": {"maxAddressCount": 6}}}
    assert server.admin("POST", "/admin/role_address_config", json=limits).json() == {"success": True}
    refused = bind(server, token, server.new_address()["jwt"], **{"x-user-access-token": role_token})
    assert refused == (400, "Max address count reached")
    limits = {"configs": {"vip": {"maxAddressCount": 0}}}
    assert server.admin("POST", "/admin/role_address_config", json=limits).status_code == 200
    assert bind(server, token, server.new_address()["jwt"], **{"x-user-access-token": role_token}) == SUCCESS


# --- unbind, bind_address_jwt ---------------------------------------------------------------------


def test_unbind(server: Server) -> None:
    token, _ = sign_up(server)
    created = server.new_address()
    assert call(server, "POST", "/user_api/unbind_address", token, {}) == (
        400,
        "Invalid address or user token",
    )
    assert call(server, "POST", "/user_api/unbind_address", token, {"address_id": 999999999}) == (
        400,
        "Address not found",
    )
    assert (
        call(server, "POST", "/user_api/unbind_address", token, {"address_id": created["address_id"]})
        == SUCCESS
    )
    bind(server, token, created["jwt"])
    assert (
        call(server, "POST", "/user_api/unbind_address", token, {"address_id": created["address_id"]})
        == SUCCESS
    )
    assert server.user("GET", "/user_api/bind_address", token).json()["count"] == 0


def test_bind_address_jwt_is_jwt_only(server: Server) -> None:
    token, _ = sign_up(server)
    created = server.new_address()
    path = f"/user_api/bind_address_jwt/{created['address_id']}"
    assert call(server, "GET", path, token) == (400, "Address is not binded")
    bind(server, token, created["jwt"])
    body = server.user("GET", path, token).json()
    assert set(body) == {"jwt"}
    assert server.with_jwt("GET", "/api/settings", body["jwt"]).json()["address"] == created["address"]


# --- transfer -----------------------------------------------------------------------------------


def transfer(server: Server, token: str, address_id: int, target: str) -> tuple[int, str]:
    return call(
        server,
        "POST",
        "/user_api/transfer_address",
        token,
        {"address_id": address_id, "target_user_email": target},
    )


def test_transfer_order_and_texts(server: Server) -> None:
    giver, _ = sign_up(server)
    taker_email = email()
    sign_up(server, taker_email)
    created = server.new_address()
    assert transfer(server, giver, 999999999, taker_email) == (400, "Address not found")
    assert transfer(server, giver, created["address_id"], email()) == (400, "Target user not found")
    assert transfer(server, giver, created["address_id"], taker_email) == (400, "Address is not binded")
    lost, lost_id = sign_up(server)
    server.admin("DELETE", f"/admin/users/{lost_id}")
    assert transfer(server, lost, created["address_id"], email()) == (400, "User not found")
    # The target's limit is checked before the caller's binding.
    assert rules(server, **{**OPEN, "maxAddressCount": 1})[0] == 200
    full_email = email()
    full, _ = sign_up(server, full_email)
    assert bind(server, full, server.new_address()["jwt"]) == SUCCESS
    assert transfer(server, giver, created["address_id"], full_email) == (400, "Max address count reached")


def test_transfer_recreates_the_row(server: Server) -> None:
    giver, _ = sign_up(server)
    taker_email = email()
    taker, _ = sign_up(server, taker_email)
    created = server.new_address()
    bind(server, giver, created["jwt"])
    server.send(created["address"], "Subject: kept\r\n\r\nstays with the name\r\n")
    assert transfer(server, giver, created["address_id"], taker_email) == SUCCESS
    (row,) = server.user("GET", "/user_api/bind_address", taker).json()["results"]
    assert row["name"] == created["address"] and row["id"] != created["address_id"]
    assert row["source_meta"] is None and row["mail_count"] == 1
    assert server.user("GET", "/user_api/bind_address", giver).json()["count"] == 0


# --- logged-in creation -------------------------------------------------------------------------


def test_logged_in_creation_limit_only_without_anonymous_creation(make_server: ServerFactory) -> None:
    server = make_server(**USERS_ENV, DISABLE_ANONYMOUS_USER_CREATE_EMAIL="true")
    assert rules(server, **{**OPEN, "maxAddressCount": 1})[0] == 200
    try:
        token, _ = sign_up(server)
        first = server.client.post("/api/new_address", json={}, headers={"x-user-token": token})
        assert first.status_code == 200, first.text
        assert server.user("GET", "/user_api/bind_address", token).json()["count"] == 0
        assert bind(server, token, first.json()["jwt"]) == SUCCESS
        refused = server.client.post("/api/new_address", json={}, headers={"x-user-token": token})
        assert (refused.status_code, refused.text) == (400, "Max address count reached")
        anonymous = server.client.post("/api/new_address", json={}, headers={"x-user-token": "bad"})
        assert (anonymous.status_code, anonymous.text) == (
            403,
            "New address for anonymous user is disabled, please contact the administrator",
        )
    finally:
        rules(server, **OPEN)


# --- the admin's user settings, roles and bindings -------------------------------------------------


def test_user_settings_verify_mail_sender(server: Server) -> None:
    assert rules(server, enable=True, enableMailVerify=True) == (
        400,
        "Verify mail sender address is not set, please contact the administrator",
    )
    domains = json.dumps(["test.example", "example.org"], indent=2)
    assert rules(server, enable=True, enableMailVerify=True, verifyMailSender="me@else.example") == (
        400,
        f"VerifyMailSender domain must be in {domains}",
    )
    zh = server.admin(
        "POST", "/admin/user_settings", json={"verifyMailSender": "me@else.example"}, headers={"x-lang": "zh"}
    )
    assert zh.text == f"验证邮件发送者域名必须在 {domains}"
    assert rules(server, enable=True, verifyMailSender="me@TEST.Example") == SUCCESS


def test_user_settings_drops_unknown_keys_and_stores_a_bad_count_as_5(server: Server) -> None:
    for count in (-2, "ten", None):
        assert rules(server, enable=True, maxAddressCount=count, colour="blue") == SUCCESS
        stored = server.admin("GET", "/admin/user_settings").json()
        assert stored["maxAddressCount"] == 5 and "colour" not in stored
    assert rules(server, enable=True) == SUCCESS
    assert server.admin("GET", "/admin/user_settings").json()["maxAddressCount"] == 5


def test_registration_allow_list_and_pattern(server: Server) -> None:
    assert rules(server, enable=True, enableMailAllowList=True, mailAllowList=[" Good.Example "]) == SUCCESS
    password = hashlib.sha256(b"pw").hexdigest()
    address = f"u{uuid.uuid4().hex[:10]}@GOOD.example"
    ok = server.client.post("/user_api/register", json={"email": address, "password": password})
    assert ok.status_code == 200, ok.text
    refused = server.client.post("/user_api/register", json={"email": "a@bad.example", "password": password})
    assert (refused.status_code, refused.text) == (
        400,
        'User mail domain must be in this list [\n  " Good.Example "\n]',
    )
    zh = server.client.post(
        "/user_api/register", json={"email": "a@bad.example", "password": password}, headers={"x-lang": "zh"}
    )
    assert zh.text == '用户邮箱域必须在此列表中 [\n  " Good.Example "\n]'
    assert rules(server, enable=True, enableEmailCheckRegex=True, emailCheckRegex="^ok") == SUCCESS
    refused = server.client.post(
        "/user_api/register", json={"email": "no@test.example", "password": password}
    )
    assert (refused.status_code, refused.text) == (
        400,
        "Email address format does not match the required pattern: /^ok/",
    )


def test_user_roles_texts(server: Server) -> None:
    _, user_id = sign_up(server)
    for body in (
        {},
        {"user_id": None, "role_text": "vip"},
        {"user_id": "x", "role_text": "vip"},
        {"user_id": 0},
    ):
        response = server.admin("POST", "/admin/user_roles", json=body)
        assert (response.status_code, response.text) == (400, "Invalid user_id"), body
    for role in ("emperor", 5):
        response = server.admin("POST", "/admin/user_roles", json={"user_id": user_id, "role_text": role})
        assert (response.status_code, response.text) == (400, "Invalid role_text"), role
    assigned = server.admin("POST", "/admin/user_roles", json={"user_id": user_id, "role_text": "vip"})
    assert assigned.json() == {"success": True}
    assert server.db.sql("SELECT role_text FROM user_roles WHERE user_id = ?", user_id) == [("vip",)]
    cleared = server.admin("POST", "/admin/user_roles", json={"user_id": user_id, "role_text": ""})
    assert cleared.json() == {"success": True}
    assert server.db.sql("SELECT role_text FROM user_roles WHERE user_id = ?", user_id) == []


@pytest.mark.parametrize(
    "configs",
    [None, [], "vip", {"vip": {"maxAddressCount": -1}}, {"vip": {"maxAddressCount": "3"}}, {"vip": 3}],
)
def test_role_address_config_texts(server: Server, configs: Any) -> None:
    response = server.admin("POST", "/admin/role_address_config", json={"configs": configs})
    assert (response.status_code, response.text) == (400, "Invalid maxAddressCount")
    assert server.admin("GET", "/admin/role_address_config").json() == {"configs": {}}


def test_admin_bind_texts(server: Server) -> None:
    owner_email = email()
    _, owner_id = sign_up(server, owner_email)
    created = server.new_address()

    def admin_bind(**body: Any) -> tuple[int, str]:
        response = server.admin("POST", "/admin/users/bind_address", json=body)
        return response.status_code, response.text

    assert admin_bind(user_id=owner_id) == (400, "No address or user token")
    assert admin_bind(address_id=created["address_id"]) == (400, "No address or user token")
    assert admin_bind(user_id=owner_id, address_id=999999999) == (400, "Address not found")
    assert admin_bind(user_id=999999999, address=created["address"]) == (400, "User not found")
    assert admin_bind(user_email=owner_email.upper(), address=created["address"]) == SUCCESS
    _, other_id = sign_up(server)
    assert admin_bind(user_id=other_id, address_id=created["address_id"]) == (
        400,
        "Address is already binded, please unbind first",
    )
    assert rules(server, **{**OPEN, "maxAddressCount": 1})[0] == 200
    assert admin_bind(user_id=owner_id, address_id=server.new_address()["address_id"]) == (
        400,
        "Max address count reached",
    )
