"""COMPAT §7 (passkeys): `/user_api/passkey/*` as cloudflare_temp_email v1.12 answers — the list
shape, rename and delete that succeed whatever the id, and the texts and statuses of a failed
registration or login. The authenticator is a real WebAuthn one in software."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.accounts.test_user_accounts import email, register
from tests.fakes.authenticator import SoftAuthenticator
from tests.support import Server

ORIGIN = "http://localhost:8787"
SUCCESS = (200, '{"success":true}')


def enrol(
    server: Server, token: str, authenticator: SoftAuthenticator, name: str = "laptop"
) -> tuple[int, str]:
    options = server.user("POST", "/user_api/passkey/register_request", token, json={"domain": "localhost"})
    assert options.status_code == 200, options.text
    credential = authenticator.register(options.json(), ORIGIN)
    body = {"origin": ORIGIN, "passkey_name": name, "credential": credential}
    response = server.user("POST", "/user_api/passkey/register_response", token, json=body)
    return response.status_code, response.text


def assertion(server: Server, authenticator: SoftAuthenticator) -> dict[str, Any]:
    options = server.client.post("/user_api/passkey/authenticate_request", json={"domain": "localhost"})
    assert options.status_code == 200, options.text
    return authenticator.authenticate(options.json(), ORIGIN)


def login(server: Server, credential: Any, origin: str = ORIGIN) -> tuple[int, str]:
    body = {"origin": origin, "domain": "localhost", "credential": credential}
    response = server.client.post("/user_api/passkey/authenticate_response", json=body)
    return response.status_code, response.text


def rename(server: Server, token: str, passkey_id: Any, name: Any) -> tuple[int, str]:
    body = {"passkey_id": passkey_id, "passkey_name": name}
    response = server.user("POST", "/user_api/passkey/rename", token, json=body)
    return response.status_code, response.text


def test_list_shape(server: Server) -> None:
    token = register(server, email())
    assert enrol(server, token, SoftAuthenticator()) == SUCCESS
    (row,) = server.user("GET", "/user_api/passkey", token).json()
    assert set(row) == {"passkey_name", "passkey_id", "created_at", "updated_at"}
    assert row["passkey_name"] == "laptop"


def test_rename(server: Server) -> None:
    token = register(server, email())
    enrol(server, token, SoftAuthenticator())
    (row,) = server.user("GET", "/user_api/passkey", token).json()
    assert rename(server, token, "no-such-passkey", "phone") == SUCCESS
    assert rename(server, token, row["passkey_id"], "x" * 255) == SUCCESS
    assert server.user("GET", "/user_api/passkey", token).json()[0]["passkey_name"] == "x" * 255
    for name in ("", "x" * 256, None, 5):
        assert rename(server, token, row["passkey_id"], name) == (400, "Invalid passkey name"), name
    zh = server.user(
        "POST",
        "/user_api/passkey/rename",
        token,
        json={"passkey_id": "a", "passkey_name": ""},
        headers={"x-lang": "zh"},
    )
    assert zh.text == "无效的 passkey 名称"


def test_delete_of_any_id_succeeds(server: Server) -> None:
    token = register(server, email())
    assert server.user("DELETE", "/user_api/passkey/no-such-passkey", token).json() == {"success": True}


def test_login_texts(server: Server) -> None:
    token = register(server, email())
    authenticator = SoftAuthenticator()
    enrol(server, token, authenticator)
    for credential in (None, {}, {"id": ""}, "not json", [1]):
        assert login(server, credential) == (400, "Invalid input"), credential
    stranger = SoftAuthenticator()
    stranger.register(
        server.user("POST", "/user_api/passkey/register_request", token, json={"domain": "localhost"}).json(),
        ORIGIN,
    )
    assert login(server, assertion(server, stranger)) == (404, "Passkey not found")
    tampered = assertion(server, authenticator)
    tampered["response"]["signature"] = tampered["response"]["signature"][:-6] + "AAAAAA"
    assert login(server, tampered) == (400, "Authentication failed")
    assert login(server, assertion(server, authenticator), origin="https://evil.example") == (
        400,
        "Authentication failed",
    )
    signed = assertion(server, authenticator)
    ok = login(server, signed)
    assert ok[0] == 200 and set(json.loads(ok[1])) == {"jwt"}
    assert login(server, signed) == (400, "Authentication failed")
    zh = server.client.post(
        "/user_api/passkey/authenticate_response",
        json={"origin": ORIGIN, "domain": "localhost", "credential": signed},
        headers={"x-lang": "zh"},
    )
    assert zh.text == "认证失败"


def test_login_of_a_user_gone(server: Server) -> None:
    """The user row deleted behind the passkey's back (the admin's delete takes the passkeys too)."""
    address = email()
    token = register(server, address)
    authenticator = SoftAuthenticator()
    enrol(server, token, authenticator)
    server.db.sql("DELETE FROM users WHERE user_email = ?", address)
    assert login(server, assertion(server, authenticator)) == (404, "User not found")


@pytest.mark.parametrize("kind", ["no request", "tampered", "foreign origin"])
def test_registration_failed(server: Server, kind: str) -> None:
    token = register(server, email())
    body: dict[str, Any] = {"origin": ORIGIN, "passkey_name": "x", "credential": {"id": "x"}}
    if kind != "no request":
        options = server.user(
            "POST", "/user_api/passkey/register_request", token, json={"domain": "localhost"}
        )
        credential = SoftAuthenticator().register(options.json(), ORIGIN)
        if kind == "tampered":
            credential["response"]["clientDataJSON"] = credential["response"]["clientDataJSON"][:-4] + "AAAA"
        else:
            body["origin"] = "https://evil.example"
        body["credential"] = credential
    response = server.user("POST", "/user_api/passkey/register_response", token, json=body)
    assert (response.status_code, response.text) == (400, "Registration failed")
