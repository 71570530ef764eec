"""`/user_api` accounts: open settings, register, login, settings, password storage, tokens."""

from __future__ import annotations

import hashlib
import time
import uuid

import jwt as pyjwt
import pytest

from tests.conftest import ServerFactory
from tests.support import JWT_SECRET, USERS_ENV, Server

TOKEN_EXPIRED = "Your token has expired, please login again"


@pytest.fixture
def server(make_server: ServerFactory) -> Server:
    return make_server(**USERS_ENV)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def email() -> str:
    return f"u{uuid.uuid4().hex[:10]}@people.example"


def open_registration(server: Server, **rules: object) -> None:
    response = server.admin("POST", "/admin/user_settings", json={"enable": True, **rules})
    assert response.status_code == 200, response.text


def register(server: Server, address: str, password: str = "secret") -> str:
    """Register and log in; the user JWT."""
    open_registration(server)
    response = server.client.post("/user_api/register", json={"email": address, "password": sha256(password)})
    assert response.status_code == 200, response.text
    login = server.client.post("/user_api/login", json={"email": address, "password": sha256(password)})
    assert login.status_code == 200, login.text
    return str(login.json()["jwt"])


def test_open_settings_reflect_the_admin_rules(server: Server) -> None:
    open_registration(server, enableMailVerify=False)
    body = server.client.get("/user_api/open_settings").json()
    assert body == {"enable": True, "enableMailVerify": False, "oauth2ClientIDs": []}
    server.admin("POST", "/admin/user_settings", json={"enable": False})
    assert server.client.get("/user_api/open_settings").json()["enable"] is False


def test_register_is_refused_while_disabled(server: Server) -> None:
    server.admin("POST", "/admin/user_settings", json={"enable": False})
    response = server.client.post("/user_api/register", json={"email": email(), "password": sha256("x")})
    assert response.status_code == 403
    assert response.text == "User registration is disabled, please contact the administrator"


def test_register_then_login(server: Server) -> None:
    address = email()
    open_registration(server)
    created = server.client.post("/user_api/register", json={"email": address, "password": sha256("pw")})
    assert created.status_code == 200 and created.json() == {"success": True}
    again = server.client.post("/user_api/register", json={"email": address, "password": sha256("pw")})
    assert again.status_code == 400 and again.text == "User already exists, please login"
    login = server.client.post("/user_api/login", json={"email": address.upper(), "password": sha256("pw")})
    assert login.status_code == 200
    payload = pyjwt.decode(login.json()["jwt"], JWT_SECRET, algorithms=["HS256"])
    assert payload["user_email"] == address and isinstance(payload["user_id"], int)
    assert abs(payload["exp"] - payload["iat"] - 30 * 86400) <= 1
    assert abs(payload["iat"] - time.time()) < 60


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        ({"password": "x"}, 400, "Invalid email or password"),
        ({"email": "a@b.example"}, 400, "Invalid email or password"),
        ({"email": "not-an-email", "password": "x"}, 400, "Invalid email or password"),
    ],
)
def test_register_bad_input(server: Server, body: dict[str, str], status: int, text: str) -> None:
    open_registration(server)
    response = server.client.post("/user_api/register", json=body)
    assert (response.status_code, response.text) == (status, text)


def test_register_wrong_types_and_malformed_json_are_400(server: Server) -> None:
    open_registration(server)
    assert server.client.post("/user_api/register", json={"email": 5, "password": []}).status_code == 400
    response = server.client.post(
        "/user_api/register", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


def test_login_failures(server: Server) -> None:
    address = email()
    register(server, address, "right")
    wrong = server.client.post("/user_api/login", json={"email": address, "password": sha256("wrong")})
    assert (wrong.status_code, wrong.text) == (400, "Invalid email or password")
    unknown = server.client.post("/user_api/login", json={"email": email(), "password": sha256("x")})
    assert (unknown.status_code, unknown.text) == (400, "User not found")
    missing = server.client.post("/user_api/login", json={"email": address})
    assert (missing.status_code, missing.text) == (400, "Invalid email or password")


def test_allow_list_and_pattern(server: Server) -> None:
    open_registration(server, enableMailAllowList=True, mailAllowList=["good.example"])
    refused = server.client.post(
        "/user_api/register", json={"email": "a@bad.example", "password": sha256("x")}
    )
    assert refused.status_code == 400 and refused.text.startswith("User mail domain must be in this list")
    allowed = f"u{uuid.uuid4().hex[:8]}@good.example"
    ok = server.client.post("/user_api/register", json={"email": allowed, "password": sha256("x")})
    assert ok.status_code == 200
    open_registration(server, enableEmailCheckRegex=True, emailCheckRegex=r"^[a-z]+\d*@")
    bad = server.client.post("/user_api/register", json={"email": "a.b@c.example", "password": sha256("x")})
    assert bad.status_code == 400
    assert bad.text == r"Email address format does not match the required pattern: /^[a-z]+\d*@/"
    open_registration(server)


def test_password_is_stored_with_argon2_not_as_sent(server: Server) -> None:
    address = email()
    register(server, address, "hunter2")
    (stored,) = server.db.sql("SELECT password FROM users WHERE user_email = ?", address)[0]
    assert stored.startswith("$argon2id$") and sha256("hunter2") not in stored


def test_a_carried_over_bare_hex_password_logs_in_and_is_rehashed(server: Server) -> None:
    """Rows imported from the reference hold the client's SHA-256 hex as is."""
    address = email()
    register(server, address, "first")
    server.db.sql("UPDATE users SET password = ? WHERE user_email = ?", sha256("legacy"), address)
    login = server.client.post("/user_api/login", json={"email": address, "password": sha256("legacy")})
    assert login.status_code == 200
    (stored,) = server.db.sql("SELECT password FROM users WHERE user_email = ?", address)[0]
    assert stored.startswith("$argon2id$")
    again = server.client.post("/user_api/login", json={"email": address, "password": sha256("legacy")})
    assert again.status_code == 200


def test_settings_of_a_user_without_role(server: Server) -> None:
    address = email()
    user_jwt = register(server, address)
    body = server.user("GET", "/user_api/settings", user_jwt).json()
    assert body["user_email"] == address
    assert {"user_id", "exp", "iat"} <= body.keys()
    assert body["is_admin"] is False
    assert body["access_token"] is None and body["new_user_token"] is None and body["user_role"] is None


def test_settings_of_a_user_with_role(server: Server) -> None:
    user_jwt = register(server, email())
    user_id = pyjwt.decode(user_jwt, JWT_SECRET, algorithms=["HS256"])["user_id"]
    server.admin("POST", "/admin/user_roles", json={"user_id": user_id, "role_text": "vip"})
    body = server.user("GET", "/user_api/settings", user_jwt).json()
    assert body["user_role"] == {"role": "vip", "domains": ["example.org"], "prefix": "vip"}
    role = pyjwt.decode(body["access_token"], JWT_SECRET, algorithms=["HS256"])
    assert role["user_role"] == "vip" and role["user_id"] == user_id
    assert abs(role["exp"] - time.time() - 3600) < 60
    assert body["is_admin"] is False


def test_a_token_near_its_end_gets_a_fresh_one(server: Server) -> None:
    address = email()
    user_id = pyjwt.decode(register(server, address), JWT_SECRET, algorithms=["HS256"])["user_id"]
    now = int(time.time())
    old = pyjwt.encode(
        {"user_email": address, "user_id": user_id, "iat": now - 29 * 86400, "exp": now + 86400},
        JWT_SECRET,
        algorithm="HS256",
    )
    fresh = server.user("GET", "/user_api/settings", old).json()["new_user_token"]
    assert pyjwt.decode(fresh, JWT_SECRET, algorithms=["HS256"])["exp"] > now + 29 * 86400


def test_settings_of_a_deleted_user(server: Server) -> None:
    user_jwt = register(server, email())
    user_id = pyjwt.decode(user_jwt, JWT_SECRET, algorithms=["HS256"])["user_id"]
    assert server.admin("DELETE", f"/admin/users/{user_id}").status_code == 200
    response = server.user("GET", "/user_api/settings", user_jwt)
    assert (response.status_code, response.text) == (400, "User not found")


def _forged(address: str, user_id: int) -> dict[str, str]:
    now = int(time.time())
    claims = {"user_email": address, "user_id": user_id, "iat": now}
    unsigned = pyjwt.encode({**claims, "exp": now + 3600}, key="", algorithm="none")
    return {
        "expired": pyjwt.encode({**claims, "exp": now - 10}, JWT_SECRET, algorithm="HS256"),
        "other secret": pyjwt.encode(
            {**claims, "exp": now + 3600}, "another-secret-that-is-long-enough-for-hs256", algorithm="HS256"
        ),
        "alg none": unsigned,
        "no exp": pyjwt.encode(claims, JWT_SECRET, algorithm="HS256"),
        "garbage": "abc.def.ghi",
        "address jwt": pyjwt.encode({"address": address, "address_id": 1}, JWT_SECRET, algorithm="HS256"),
    }


USER_ROUTES = [
    ("GET", "/user_api/settings"),
    ("GET", "/user_api/bind_address?limit=10&offset=0"),
    ("POST", "/user_api/bind_address"),
    ("POST", "/user_api/unbind_address"),
    ("GET", "/user_api/bind_address_jwt/1"),
    ("POST", "/user_api/transfer_address"),
    ("GET", "/user_api/mails?limit=10&offset=0"),
    ("DELETE", "/user_api/mails/1"),
    ("GET", "/user_api/passkey"),
    ("POST", "/user_api/passkey/rename"),
    ("DELETE", "/user_api/passkey/abc"),
    ("POST", "/user_api/passkey/register_request"),
    ("POST", "/user_api/passkey/register_response"),
]


@pytest.mark.parametrize(("method", "path"), USER_ROUTES)
def test_every_user_route_refuses_bad_tokens(server: Server, method: str, path: str) -> None:
    address = email()
    user_id = pyjwt.decode(register(server, address), JWT_SECRET, algorithms=["HS256"])["user_id"]
    missing = server.client.request(method, path, json={})
    assert (missing.status_code, missing.text) == (401, TOKEN_EXPIRED)
    for kind, token in _forged(address, user_id).items():
        response = server.user(method, path, token, json={})
        assert (response.status_code, response.text) == (401, TOKEN_EXPIRED), kind


def test_a_token_that_worked_is_refused_once_it_expires(server: Server) -> None:
    """Verified tokens are remembered (a client polls with one all day), never past their `exp`."""
    address = email()
    user_id = pyjwt.decode(register(server, address), JWT_SECRET, algorithms=["HS256"])["user_id"]
    now = int(time.time())
    short = pyjwt.encode(
        {"user_email": address, "user_id": user_id, "iat": now, "exp": now + 2}, JWT_SECRET, algorithm="HS256"
    )
    for path in ("/user_api/mails?limit=10&offset=0", "/user_api/settings"):
        assert server.user("GET", path, short).status_code == 200, path
    time.sleep(max(0.0, now + 2.2 - time.time()))
    for path in ("/user_api/mails?limit=10&offset=0", "/user_api/settings"):
        response = server.user("GET", path, short)
        assert (response.status_code, response.text) == (401, TOKEN_EXPIRED), path
        response = server.user("GET", path, short, headers={"x-lang": "zh"})
        assert (response.status_code, response.text) == (401, "您的令牌已过期, 请重新登录"), path


def test_public_user_routes_need_no_token(server: Server) -> None:
    open_registration(server)
    assert server.client.get("/user_api/open_settings").status_code == 200
    login = server.client.post("/user_api/login", json={"email": email(), "password": "x"})
    assert login.status_code == 400
    assert (
        server.client.post("/user_api/passkey/authenticate_request", json={"domain": "localhost"}).status_code
        == 200
    )


def test_error_texts_in_chinese(server: Server) -> None:
    response = server.client.get("/user_api/settings", headers={"x-lang": "zh"})
    assert response.status_code == 401 and response.text == "您的令牌已过期, 请重新登录"
