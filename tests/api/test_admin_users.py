"""`/admin` routes for accounts (API.md §6 "Admin side"): registration rules, users, roles,
per-role address limits, bindings made by the admin, and admin access through a role token."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from typing import Any

import jwt as pyjwt
import pytest

from tests.conftest import ServerFactory
from tests.support import JWT_SECRET, USERS_ENV, Server

ROLES = [
    {"role": "vip", "domains": ["example.org"], "prefix": "vip"},
    {"role": "boss", "domains": [], "prefix": ""},
]
ADMIN_TEXT = "You need to provide the admin password to access this page"
NOT_ADMIN_TEXT = "Your user role is not admin, no access to visit this page"
EXPIRED_TEXT = "Your access token has expired, please refresh the page"
TOKEN_EXPIRED = "Your token has expired, please login again"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
DEFAULT_RULES = {
    "enable": False,
    "enableMailVerify": False,
    "verifyMailSender": "",
    "enableMailAllowList": False,
    "mailAllowList": [],
    "maxAddressCount": 5,
    "enableEmailCheckRegex": False,
    "emailCheckRegex": "",
}
ADMIN_USER_ROUTES = [
    ("GET", "/admin/user_settings"),
    ("POST", "/admin/user_settings"),
    ("GET", "/admin/users?limit=10&offset=0"),
    ("POST", "/admin/users"),
    ("DELETE", "/admin/users/1"),
    ("POST", "/admin/users/1/reset_password"),
    ("GET", "/admin/user_roles"),
    ("POST", "/admin/user_roles"),
    ("GET", "/admin/role_address_config"),
    ("POST", "/admin/role_address_config"),
    ("GET", "/admin/users/bind_address/1"),
    ("POST", "/admin/users/bind_address"),
]


@pytest.fixture
def server(make_server: ServerFactory) -> Server:
    return make_server(**USERS_ENV)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def email(tag: str = "") -> str:
    return f"a{tag}{uuid.uuid4().hex[:10]}@people.example"


def set_rules(server: Server, **rules: Any) -> None:
    response = server.admin("POST", "/admin/user_settings", json=rules)
    assert (response.status_code, response.json()) == (200, {"success": True}), response.text


def set_role_limits(server: Server, configs: dict[str, Any]) -> None:
    response = server.admin("POST", "/admin/role_address_config", json={"configs": configs})
    assert (response.status_code, response.json()) == (200, {"success": True}), response.text


def create_user(server: Server, address: str, password: str = "secret") -> int:
    """Create the account through the admin; its id."""
    response = server.admin("POST", "/admin/users", json={"email": address, "password": sha256(password)})
    assert (response.status_code, response.json()) == (200, {"success": True}), response.text
    return int(server.db.sql("SELECT id FROM users WHERE user_email = ?", address.strip().lower())[0][0])


def login(server: Server, address: str, password: str = "secret") -> Any:
    return server.client.post("/user_api/login", json={"email": address, "password": sha256(password)})


def user_jwt(server: Server, address: str, password: str = "secret") -> str:
    response = login(server, address, password)
    assert response.status_code == 200, response.text
    return str(response.json()["jwt"])


def set_role(server: Server, user_id: int, role: str) -> Any:
    return server.admin("POST", "/admin/user_roles", json={"user_id": user_id, "role_text": role})


def user_row(server: Server, address: str) -> dict[str, Any]:
    page = server.admin("GET", "/admin/users", params={"limit": 10, "offset": 0, "query": address}).json()
    assert page["count"] == 1, page
    return dict(page["results"][0])


def user_settings(server: Server, token: str) -> dict[str, Any]:
    response = server.user("GET", "/user_api/settings", token)
    assert response.status_code == 200, response.text
    return dict(response.json())


def admin_bind(server: Server, **body: Any) -> Any:
    return server.admin("POST", "/admin/users/bind_address", json=body)


def bound_names(server: Server, user_id: int) -> list[str]:
    response = server.admin("GET", f"/admin/users/bind_address/{user_id}")
    assert response.status_code == 200, response.text
    return [row["name"] for row in response.json()["results"]]


def role_token(role: str, secret: str = JWT_SECRET, expires_in: int = 3600, algorithm: str = "HS256") -> str:
    now = int(time.time())
    claims = {"user_email": "x@people.example", "user_id": 1, "user_role": role, "iat": now}
    return pyjwt.encode({**claims, "exp": now + expires_in}, secret, algorithm=algorithm)


# --- auth ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), ADMIN_USER_ROUTES)
def test_admin_user_routes_need_admin_credentials(server: Server, method: str, path: str) -> None:
    """No password or a wrong one: 401 with the admin text; a non-admin role token: 401 with
    the role text (COMPAT §16)."""
    for headers in ({}, {"x-admin-auth": "wrong"}):
        response = server.client.request(method, path, headers=headers, json={})
        assert (response.status_code, response.text) == (401, ADMIN_TEXT), headers
    response = server.client.request(
        method, path, headers={"x-user-access-token": role_token("vip")}, json={}
    )
    assert (response.status_code, response.text) == (401, NOT_ADMIN_TEXT)


def test_admin_through_the_admin_role_token(server: Server) -> None:
    """The boss role's access token opens /admin; vip's does not, nor forged or expired ones."""
    set_rules(server, enable=True)
    boss, vip = email("boss"), email("vip")
    assert set_role(server, create_user(server, boss), "boss").status_code == 200
    assert set_role(server, create_user(server, vip), "vip").status_code == 200
    boss_settings = user_settings(server, user_jwt(server, boss))
    assert boss_settings["is_admin"] is True
    assert boss_settings["user_role"] == {"role": "boss", "domains": [], "prefix": ""}
    path = "/admin/users?limit=10&offset=0"
    ok = server.client.get(path, headers={"x-user-access-token": boss_settings["access_token"]})
    assert ok.status_code == 200, ok.text
    assert {"results", "count"} <= ok.json().keys()
    vip_token = user_settings(server, user_jwt(server, vip))["access_token"]
    assert vip_token is not None
    refused = {
        "vip": (vip_token, NOT_ADMIN_TEXT),
        "other secret": (
            role_token("boss", secret="another-secret-that-is-long-enough-for-hs256"),
            ADMIN_TEXT,
        ),
        "alg none": (role_token("boss", secret="", algorithm="none"), ADMIN_TEXT),
        "expired": (role_token("boss", expires_in=-10), EXPIRED_TEXT),
        "no exp": (
            pyjwt.encode({"user_role": "boss", "user_id": 1}, JWT_SECRET, algorithm="HS256"),
            EXPIRED_TEXT,
        ),
        "user jwt": (user_jwt(server, boss), NOT_ADMIN_TEXT),
        "garbage": ("abc.def.ghi", ADMIN_TEXT),
    }
    for kind, (token, text) in refused.items():
        response = server.client.get(path, headers={"x-user-access-token": token})
        assert (response.status_code, response.text) == (401, text), kind


# --- user settings ---------------------------------------------------------------------------


def test_user_settings_round_trip(server: Server) -> None:
    rules = {
        "enable": True,
        "enableMailVerify": True,
        "verifyMailSender": "noreply@test.example",
        "enableMailAllowList": True,
        "mailAllowList": ["people.example", "test.example"],
        "maxAddressCount": 7,
        "enableEmailCheckRegex": True,
        "emailCheckRegex": r"^[a-z0-9.]+@",
    }
    try:
        set_rules(server, **rules)
        assert server.admin("GET", "/admin/user_settings").json() == rules
        set_rules(server, enable="true", enableMailVerify=0, enableMailAllowList="false", maxAddressCount=2)
        got = server.admin("GET", "/admin/user_settings").json()
        assert got == {**DEFAULT_RULES, "enable": True, "maxAddressCount": 2}
        assert server.client.get("/user_api/open_settings").json()["enable"] is True
    finally:
        set_rules(server, enable=True)


def test_user_settings_defaults(server: Server) -> None:
    """Fields left out take their defaults, maxAddressCount 5 among them."""
    try:
        set_rules(server)
        assert server.admin("GET", "/admin/user_settings").json() == DEFAULT_RULES
    finally:
        set_rules(server, enable=True)


@pytest.mark.parametrize(
    "body",
    [
        {"emailCheckRegex": "([a-z"},
        {"enableEmailCheckRegex": True, "emailCheckRegex": "*oops"},
        {"enable": "maybe"},
        {"mailAllowList": "people.example"},
        {"mailAllowList": [1, {"a": 2}]},
        {"verifyMailSender": ["noreply@test.example"]},
        {"emailCheckRegex": 5},
        [],
        "text",
    ],
)
def test_user_settings_bad_input_is_400_and_changes_nothing(server: Server, body: Any) -> None:
    set_rules(server, enable=True, maxAddressCount=4)
    response = server.admin("POST", "/admin/user_settings", json=body)
    assert response.status_code == 400, response.text
    assert server.admin("GET", "/admin/user_settings").json() == {
        **DEFAULT_RULES,
        "enable": True,
        "maxAddressCount": 4,
    }
    set_rules(server, enable=True)


@pytest.mark.parametrize("count", ["many", -1, 1.5, None, True])
def test_user_settings_bad_max_address_count_is_stored_as_5(server: Server, count: Any) -> None:
    """As the reference (COMPAT §7.1): no error, the default instead."""
    try:
        response = server.admin(
            "POST", "/admin/user_settings", json={"enable": True, "maxAddressCount": count}
        )
        assert response.json() == {"success": True}
        assert server.admin("GET", "/admin/user_settings").json()["maxAddressCount"] == 5
    finally:
        set_rules(server, enable=True)


def test_user_settings_regex_with_a_huge_repeat_is_400(server: Server) -> None:
    set_rules(server, enable=True)
    response = server.admin(
        "POST",
        "/admin/user_settings",
        json={"emailCheckRegex": "a{4294967296}"},
        headers={"connection": "close"},
    )
    assert response.status_code == 400, response.text


def test_user_settings_malformed_json_is_400(server: Server) -> None:
    response = server.admin(
        "POST", "/admin/user_settings", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text


# --- users -----------------------------------------------------------------------------------


def test_admin_creates_a_user_who_can_log_in(server: Server) -> None:
    """The admin creates accounts even while public registration is off."""
    set_rules(server, enable=False)
    address = email()
    try:
        user_id = create_user(server, address, "first")
    finally:
        set_rules(server, enable=True)
    jwt = user_jwt(server, address, "first")
    claims = pyjwt.decode(jwt, JWT_SECRET, algorithms=["HS256"])
    assert (claims["user_email"], claims["user_id"]) == (address, user_id)
    assert login(server, address, "wrong").status_code == 400


def test_admin_create_user_normalizes_the_email(server: Server) -> None:
    address = email()
    create_user(server, f"  {address.upper()} ")
    assert user_row(server, address)["user_email"] == address
    duplicate = server.admin("POST", "/admin/users", json={"email": address, "password": sha256("x")})
    assert (duplicate.status_code, duplicate.text) == (400, "User already exists, please login")


def test_admin_create_user_stores_argon2(server: Server) -> None:
    address = email()
    create_user(server, address, "stored")
    [(stored,)] = server.db.sql("SELECT password FROM users WHERE user_email = ?", address)
    assert stored.startswith("$argon2")
    assert sha256("stored") not in stored


@pytest.mark.parametrize(
    "body",
    [{}, {"email": "x@people.example"}, {"password": sha256("x")}, {"email": "", "password": sha256("x")}],
)
def test_admin_create_user_missing_fields(server: Server, body: dict[str, str]) -> None:
    response = server.admin("POST", "/admin/users", json=body)
    assert (response.status_code, response.text) == (400, "Email and password are required")


def test_admin_create_user_duplicate(server: Server) -> None:
    address = email()
    create_user(server, address)
    response = server.admin("POST", "/admin/users", json={"email": address, "password": sha256("other")})
    assert (response.status_code, response.text) == (400, "User already exists, please login")
    assert user_jwt(server, address), "the first password still works"


@pytest.mark.parametrize(
    "body",
    [
        {"email": 5, "password": sha256("x")},
        {"email": "x@people.example", "password": ["x"]},
        {"email": "no-at-sign", "password": sha256("x")},
        [],
    ],
)
def test_admin_create_user_bad_input_is_400(server: Server, body: Any) -> None:
    assert server.admin("POST", "/admin/users", json=body).status_code == 400


def test_user_list_rows_paging_and_query(server: Server) -> None:
    tag = uuid.uuid4().hex[:8]
    addresses = [f"p{i}{tag}@people.example" for i in range(3)]
    ids = [create_user(server, address) for address in addresses]
    first = server.admin("GET", "/admin/users", params={"limit": 2, "offset": 0, "query": tag}).json()
    assert first["count"] == 3
    assert [row["id"] for row in first["results"]] == ids[::-1][:2], "newest first"
    row = first["results"][0]
    assert set(row) == {"id", "user_email", "created_at", "updated_at", "address_count", "role_text"}
    assert (row["user_email"], row["address_count"], row["role_text"]) == (addresses[2], 0, None)
    assert TIMESTAMP.match(row["created_at"]) and TIMESTAMP.match(row["updated_at"]), row
    rest = server.admin("GET", "/admin/users", params={"limit": 2, "offset": 2, "query": tag}).json()
    assert ([r["id"] for r in rest["results"]], rest["count"]) == ([ids[0]], 0), "count is 0 past offset 0"
    upper = server.admin("GET", "/admin/users", params={"limit": 10, "offset": 0, "query": tag.upper()})
    assert upper.json()["count"] == 3
    one = server.admin("GET", "/admin/users", params={"limit": 10, "offset": 0, "query": f"p1{tag}"})
    assert [r["id"] for r in one.json()["results"]] == [ids[1]]
    wildcard = server.admin("GET", "/admin/users", params={"limit": 10, "offset": 0, "query": f"p_{tag}"})
    assert wildcard.json() == {"results": [], "count": 0}, "LIKE wildcards are taken literally"
    everyone = server.admin("GET", "/admin/users?limit=100&offset=0").json()
    assert everyone["count"] >= 3 and all("password" not in r for r in everyone["results"])


def test_user_list_counts_addresses_and_shows_the_role(server: Server) -> None:
    address = email()
    user_id = create_user(server, address)
    for _ in range(2):
        assert (
            admin_bind(server, user_id=user_id, address_id=server.new_address()["address_id"]).status_code
            == 200
        )
    assert set_role(server, user_id, "vip").status_code == 200
    row = user_row(server, address)
    assert (row["id"], row["address_count"], row["role_text"]) == (user_id, 2, "vip")


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("", "Invalid limit"),
        ("limit=0&offset=0", "Invalid limit"),
        ("limit=101&offset=0", "Invalid limit"),
        ("limit=abc&offset=0", "Invalid limit"),
        ("limit=10", "Invalid offset"),
        ("limit=10&offset=-1", "Invalid offset"),
        ("limit=10&offset=x", "Invalid offset"),
    ],
)
def test_user_list_bad_paging(server: Server, query: str, text: str) -> None:
    response = server.admin("GET", f"/admin/users?{query}")
    assert (response.status_code, response.text) == (400, text)


def test_delete_user_keeps_its_addresses(server: Server) -> None:
    """The account, its bindings, role and passkeys go; the addresses and their mails stay."""
    set_rules(server, enable=True, maxAddressCount=5)
    address = email()
    user_id = create_user(server, address)
    token = user_jwt(server, address)
    mailbox = server.new_address()
    assert admin_bind(server, user_id=user_id, address_id=mailbox["address_id"]).status_code == 200
    assert set_role(server, user_id, "vip").status_code == 200
    server.db.sql(
        "INSERT INTO user_passkeys (user_id, passkey_name, passkey_id, passkey, counter, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        user_id,
        "laptop",
        f"cred-{uuid.uuid4().hex}",
        "{}",
        0,
    )
    server.send(mailbox["address"], "Subject: kept\r\n\r\nbody\r\n")
    tables = ("users_address", "user_roles", "user_passkeys")
    for table in tables:
        assert server.db.sql(f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", user_id) == [(1,)], table

    response = server.admin("DELETE", f"/admin/users/{user_id}")
    assert (response.status_code, response.json()) == (200, {"success": True})

    for table in tables:
        assert server.db.sql(f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", user_id) == [(0,)], table
    assert server.db.sql("SELECT COUNT(*) FROM users WHERE id = ?", user_id) == [(0,)]
    assert server.db.sql("SELECT COUNT(*) FROM address WHERE id = ?", mailbox["address_id"]) == [(1,)]
    assert [m["address"] for m in server.mails(mailbox["jwt"])["results"]] == [mailbox["address"]]
    page = server.admin("GET", "/admin/users", params={"limit": 10, "offset": 0, "query": address})
    assert page.json() == {"results": [], "count": 0}
    listing = server.user("GET", "/user_api/bind_address?limit=10&offset=0", token)
    assert (listing.status_code, listing.text) == (401, TOKEN_EXPIRED)
    gone = server.user("GET", "/user_api/settings", token)
    assert (gone.status_code, gone.text) == (400, "User not found")
    assert login(server, address).status_code == 400
    heir = create_user(server, email())
    assert admin_bind(server, user_id=heir, address_id=mailbox["address_id"]).status_code == 200, "freed"


def test_delete_user_bad_id_is_400(server: Server) -> None:
    for user_id in ("abc", "0", "-1", "1.5"):
        assert server.admin("DELETE", f"/admin/users/{user_id}").status_code == 400, user_id


def test_reset_password(server: Server) -> None:
    address = email()
    user_id = create_user(server, address, "old")
    response = server.admin(
        "POST", f"/admin/users/{user_id}/reset_password", json={"password": sha256("new")}
    )
    assert (response.status_code, response.json()) == (200, {"success": True})
    old = login(server, address, "old")
    assert (old.status_code, old.text) == (400, "Invalid email or password")
    assert user_jwt(server, address, "new")
    [(stored,)] = server.db.sql("SELECT password FROM users WHERE id = ?", user_id)
    assert stored.startswith("$argon2") and sha256("new") not in stored


def test_reset_password_bad_input(server: Server) -> None:
    address = email()
    user_id = create_user(server, address)
    for body in ({}, {"password": ""}, {"password": None}):
        response = server.admin("POST", f"/admin/users/{user_id}/reset_password", json=body)
        assert (response.status_code, response.text) == (400, "New password is required"), body
    wrong_type = server.admin("POST", f"/admin/users/{user_id}/reset_password", json={"password": 5})
    assert wrong_type.status_code == 400, wrong_type.text
    unknown = server.admin("POST", "/admin/users/999999999/reset_password", json={"password": sha256("x")})
    assert (unknown.status_code, unknown.text) == (400, "User not found")
    assert user_jwt(server, address), "the password did not change"


# --- roles -----------------------------------------------------------------------------------


def test_user_roles_list(server: Server) -> None:
    assert server.admin("GET", "/admin/user_roles").json() == ROLES


def test_set_change_and_remove_a_role(server: Server) -> None:
    address = email()
    user_id = create_user(server, address)
    token = user_jwt(server, address)

    assert set_role(server, user_id, "vip").json() == {"success": True}
    assert user_row(server, address)["role_text"] == "vip"
    body = user_settings(server, token)
    assert body["user_role"] == ROLES[0] and body["is_admin"] is False
    claims = pyjwt.decode(body["access_token"], JWT_SECRET, algorithms=["HS256"])
    assert (claims["user_role"], claims["user_id"], claims["user_email"]) == ("vip", user_id, address)

    assert set_role(server, user_id, "boss").status_code == 200
    assert user_row(server, address)["role_text"] == "boss"
    assert server.db.sql("SELECT COUNT(*) FROM user_roles WHERE user_id = ?", user_id) == [(1,)]
    assert user_settings(server, token)["is_admin"] is True

    assert set_role(server, user_id, "").json() == {"success": True}
    assert user_row(server, address)["role_text"] is None
    body = user_settings(server, token)
    assert (body["user_role"], body["access_token"], body["is_admin"]) == (None, None, False)


def test_set_role_refusals(server: Server) -> None:
    user_id = create_user(server, email())
    assert set_role(server, user_id, "vip").status_code == 200
    unknown_role = set_role(server, user_id, "emperor")
    assert unknown_role.status_code == 400, unknown_role.text
    assert server.db.sql("SELECT role_text FROM user_roles WHERE user_id = ?", user_id) == [("vip",)]
    unknown_user = set_role(server, 999999999, "vip")
    assert (unknown_user.status_code, unknown_user.text) == (400, "User not found")
    for body in ({}, {"user_id": "abc", "role_text": "vip"}, {"user_id": user_id, "role_text": 5}, []):
        assert server.admin("POST", "/admin/user_roles", json=body).status_code == 400, body


# --- role address limits ---------------------------------------------------------------------


def test_role_address_config_round_trip(server: Server) -> None:
    configs = {"vip": {"maxAddressCount": 3}, "boss": {"maxAddressCount": 0}}
    try:
        set_role_limits(server, configs)
        assert server.admin("GET", "/admin/role_address_config").json() == {"configs": configs}
        for bad in ({"vip": {"maxAddressCount": -1}}, {"vip": {"maxAddressCount": "x"}}, {"vip": 3}, []):
            response = server.admin("POST", "/admin/role_address_config", json={"configs": bad})
            assert response.status_code == 400, bad
        assert server.admin("GET", "/admin/role_address_config").json() == {"configs": configs}
    finally:
        set_role_limits(server, {})
    assert server.admin("GET", "/admin/role_address_config").json() == {"configs": {}}


def test_role_limit_overrides_the_default_limit(server: Server) -> None:
    """maxAddressCount 1 for everyone, 3 for vip: a vip user creates 3, a plain user 1."""
    set_rules(server, enable=True, maxAddressCount=1)
    set_role_limits(server, {"vip": {"maxAddressCount": 3}})
    try:
        vip, plain = email(), email()
        assert set_role(server, create_user(server, vip), "vip").status_code == 200
        create_user(server, plain)
        vip_jwt, plain_jwt = user_jwt(server, vip), user_jwt(server, plain)

        def create(token: str) -> Any:
            name = f"r{uuid.uuid4().hex[:8]}"
            return server.user("POST", "/api/new_address", token, json={"name": name, "bindToUser": True})

        for _ in range(3):
            created = create(vip_jwt)
            assert created.status_code == 200, created.text
            assert created.json()["address"].startswith("vip") and created.json()["address"].endswith(
                "@example.org"
            )
        refused = create(vip_jwt)
        assert (refused.status_code, refused.text) == (400, "Max address count reached")
        assert user_row(server, vip)["address_count"] == 3
        assert create(plain_jwt).status_code == 200
        refused = create(plain_jwt)
        assert (refused.status_code, refused.text) == (400, "Max address count reached")
        assert user_row(server, plain)["address_count"] == 1
    finally:
        set_role_limits(server, {})
        set_rules(server, enable=True)


# --- bindings made by the admin --------------------------------------------------------------


def test_admin_binds_by_id_and_by_name(server: Server) -> None:
    """Both forms bind, rebinding is a no-op, and the admin is held to the user's limit as the
    reference's admin binding is (COMPAT §7.1)."""
    set_rules(server, enable=True, maxAddressCount=2)
    try:
        address = email()
        user_id = create_user(server, address)
        first, second = server.new_address(), server.new_address()
        assert admin_bind(server, user_id=user_id, address_id=first["address_id"]).json() == {"success": True}
        by_name = admin_bind(server, user_email=address.upper(), address=second["address"].upper())
        assert (by_name.status_code, by_name.json()) == (200, {"success": True})
        assert admin_bind(server, user_id=user_id, address_id=first["address_id"]).status_code == 200
        rows = server.admin("GET", f"/admin/users/bind_address/{user_id}").json()
        assert set(rows) == {"results"}
        assert [row["name"] for row in rows["results"]] == [second["address"], first["address"]]
        assert all("password" not in row and {"id", "created_at"} <= row.keys() for row in rows["results"])
        assert user_row(server, address)["address_count"] == 2
        third = admin_bind(server, user_id=user_id, address_id=server.new_address()["address_id"])
        assert (third.status_code, third.text) == (400, "Max address count reached")
        seen = server.user(
            "GET", "/user_api/bind_address?limit=10&offset=0", user_jwt(server, address)
        ).json()
        assert [row["id"] for row in seen["results"]] == [second["address_id"], first["address_id"]]
    finally:
        set_rules(server, enable=True)


def test_admin_bind_refusals(server: Server) -> None:
    owner, other = create_user(server, email()), create_user(server, email())
    mailbox = server.new_address()
    assert admin_bind(server, user_id=owner, address_id=mailbox["address_id"]).status_code == 200
    taken = admin_bind(server, user_id=other, address_id=mailbox["address_id"])
    assert (taken.status_code, taken.text) == (400, "Address is already binded, please unbind first")
    taken = admin_bind(server, user_id=other, address=mailbox["address"])
    assert (taken.status_code, taken.text) == (400, "Address is already binded, please unbind first")
    assert bound_names(server, owner) == [mailbox["address"]] and bound_names(server, other) == []
    for body in (
        {"user_id": 999999999, "address_id": mailbox["address_id"]},
        {"user_email": "nobody-here@people.example", "address_id": mailbox["address_id"]},
    ):
        response = admin_bind(server, **body)
        assert (response.status_code, response.text) == (400, "User not found"), body
    for body in (
        {"user_id": other, "address_id": 999999999},
        {"user_id": 999999999, "address": f"nobody{uuid.uuid4().hex[:8]}@test.example"},
    ):
        response = admin_bind(server, **body)
        assert (response.status_code, response.text) == (400, "Address not found"), body
    for body in ({"user_id": other}, {"address_id": mailbox["address_id"]}, {}):
        response = admin_bind(server, **body)
        assert (response.status_code, response.text) == (400, "No address or user token"), body
    for body in ({"user_id": "x", "address_id": 1}, {"user_id": other, "address_id": -3}):
        assert admin_bind(server, **body).status_code == 400, body


def test_bound_addresses_of_a_user_without_any(server: Server) -> None:
    user_id = create_user(server, email())
    assert server.admin("GET", f"/admin/users/bind_address/{user_id}").json() == {"results": []}
    assert server.admin("GET", "/admin/users/bind_address/abc").status_code == 400
