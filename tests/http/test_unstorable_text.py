"""Text no back end can store (NUL, invalid UTF-8, lone surrogates) is a 400 naming the field,
wherever it is sent: query, path, JSON body; headers are refused by the HTTP parser itself.
On both back ends: PostgreSQL refuses NUL, SQLite and the password hashing lone surrogates."""

from __future__ import annotations

import socket

import pytest

from tests.support import ADMIN_PASSWORD, Server

NUL = "NUL character not allowed"
NOT_UTF8 = "invalid UTF-8"
SURROGATE = "lone surrogate not allowed"
ADMIN = {"x-admin-auth": ADMIN_PASSWORD}
JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/admin/mails?limit=10&offset=0&address=a%00b", "address"),
        ("/admin/address?limit=10&offset=0&query=a%00", "query"),
        ("/admin/users?limit=10&offset=0&query=%00", "query"),
        ("/admin/sendbox?limit=10&offset=0&address=x%00", "address"),
        ("/admin/address_sender?limit=10&offset=0&address=x%00", "address"),
        ("/admin/mails?limit=10&offset=0&address=a+%00", "address"),
    ],
)
def test_nul_in_an_admin_filter_is_400(server: Server, path: str, field: str) -> None:
    response = server.client.get(path, headers=ADMIN)
    assert (response.status_code, response.text) == (400, f"Invalid input: query.{field}: {NUL}")


@pytest.mark.parametrize("value", ["%ff", "a%c3", "%ed%a0%80", "%c0%80"])
def test_invalid_utf8_in_the_query_is_400(server: Server, value: str) -> None:
    response = server.client.get(f"/admin/address?limit=10&offset=0&query={value}", headers=ADMIN)
    assert (response.status_code, response.text) == (400, f"Invalid input: query.query: {NOT_UTF8}")


def test_a_bad_parameter_name_is_named_escaped(server: Server) -> None:
    response = server.client.get("/admin/address?limit=10&offset=0&a%00b=1", headers=ADMIN)
    assert (response.status_code, response.text) == (400, f"Invalid input: query.a\\x00b: {NUL}")


def test_the_admin_ui_pages_refuse_nul_filters(server: Server) -> None:
    for path in (
        "/ui/admin/mails?limit=10&offset=0&address=%00",
        "/ui/admin/addresses?limit=10&offset=0&query=%00",
    ):
        response = server.client.get(path, headers=ADMIN)
        assert response.status_code == 400, (path, response.text)


def test_the_fast_lane_paths_are_guarded(server: Server) -> None:
    jwt = server.new_address()["jwt"]
    auth = {"Authorization": f"Bearer {jwt}"}
    poll = server.client.get("/api/mails?limit=20&offset=0&x=%00", headers=auth)
    assert (poll.status_code, poll.text) == (400, f"Invalid input: query.x: {NUL}")
    assert server.client.get("/api/mails?limit=20&offset=0", headers=auth).status_code == 200
    health = server.client.get("/health_check?probe=%ff")
    assert (health.status_code, health.text) == (400, f"Invalid input: query.probe: {NOT_UTF8}")
    admin = server.client.get("/admin/mails?limit=1&offset=0&address=%00", headers=ADMIN)
    assert admin.status_code == 400


@pytest.mark.parametrize("segment", ["%00", "a%00b", "%ff", "%ed%a0%80"])
def test_bad_text_in_a_path_segment_is_400(server: Server, segment: str) -> None:
    response = server.client.get(f"/admin/mails/{segment}", headers=ADMIN)
    problem = NUL if "%00" in segment else NOT_UTF8
    assert (response.status_code, response.text) == (400, f"Invalid input: path: {problem}")


@pytest.mark.parametrize(
    ("path", "body", "field", "problem"),
    [
        ("/api/address_login", b'{"email": "a\\u0000@mail.example", "password": "x"}', "email", NUL),
        ("/api/address_login", b'{"email": "a@mail.example", "password": "\\ud800"}', "password", SURROGATE),
        ("/user_api/login", b'{"email": "a\\u0000@people.example", "password": "x"}', "email", NUL),
        ("/user_api/login", b'{"email": "a@people.example", "password": "\\udfff"}', "password", SURROGATE),
        ("/user_api/register", b'{"email": "\\u0000", "password": "x", "code": ""}', "email", NUL),
        (
            "/user_api/register",
            b'{"email": "a@b.c", "password": "\\ud83d", "code": ""}',
            "password",
            SURROGATE,
        ),
        ("/api/new_address", b'{"name": "x\\ud800y", "domain": "test.example"}', "name", SURROGATE),
        ("/api/new_address", b'"\\u0000"', "body", NUL),
    ],
)
def test_bad_text_in_a_json_body_is_400(
    server: Server, path: str, body: bytes, field: str, problem: str
) -> None:
    response = server.client.post(path, content=body, headers=JSON)
    assert (response.status_code, response.text) == (400, f"Invalid input: {field}: {problem}")


def test_nested_json_fields_are_named_by_their_place(server: Server) -> None:
    body = b'{"configs": {"vip": {"maxAddressCount": "\\u0000"}}, "x": [1, "ok"]}'
    response = server.admin("POST", "/admin/role_address_config", content=body, headers=JSON)
    assert (response.status_code, response.text) == (
        400,
        f"Invalid input: configs.vip.maxAddressCount: {NUL}",
    )
    listed = server.admin("POST", "/admin/user_roles", content=b'{"a": [0, "\\ud800"]}', headers=JSON)
    assert (listed.status_code, listed.text) == (400, f"Invalid input: a.1: {SURROGATE}")
    key = server.admin("POST", "/admin/user_roles", content=b'{"k\\u0000": 1}', headers=JSON)
    assert (key.status_code, key.text) == (400, f"Invalid input: k\\u0000: {NUL}")


def test_admin_settings_with_a_lone_surrogate_are_400(server: Server) -> None:
    body = b'{"title": "\\ud800", "announcement": "", "enableAutoReply": false}'
    response = server.admin("POST", "/admin/account_settings", content=body, headers=JSON)
    assert response.status_code == 400, response.text
    assert response.text.endswith(SURROGATE)


def test_good_escapes_still_pass(server: Server) -> None:
    name = "esc" + server.new_address()["address"].split("@")[0][:8]
    escaped = "".join(f"\\u{ord(char):04x}" for char in name).encode()
    response = server.client.post(
        "/api/new_address", content=b'{"name": "' + escaped + b'", "domain": "test.example"}', headers=JSON
    )
    assert response.status_code == 200, response.text
    assert response.json()["address"] == f"{name}@test.example"
    emoji = server.client.post("/api/new_address", content=b'{"name": "\\ud83d\\ude00"}', headers=JSON)
    assert emoji.status_code == 400 and "surrogate" not in emoji.text


def test_the_refusal_speaks_chinese_when_asked(server: Server) -> None:
    response = server.client.get("/admin/users?limit=1&offset=0&query=%00", headers={**ADMIN, "x-lang": "zh"})
    assert (response.status_code, response.text) == (400, f"输入无效: query.query: {NUL}")


def _raw(server: Server, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.http_port), timeout=10) as conn:
        conn.sendall(request)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
        return received


def test_nul_in_a_header_is_refused_by_the_parser(server: Server) -> None:
    for name in (b"x-admin-auth", b"x-user-token", b"x-custom-auth", b"x-lang", b"Authorization"):
        answer = _raw(server, b"GET /admin/statistics HTTP/1.1\r\nHost: x\r\n" + name + b": a\x00b\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 400 "), (name, answer)


def test_non_ascii_credentials_are_refused_as_wrong_ones(server: Server) -> None:
    close = b"Connection: close\r\n"
    admin = _raw(
        server, b"GET /admin/statistics HTTP/1.1\r\nHost: x\r\n" + close + b"x-admin-auth: \xff\xfe\r\n\r\n"
    )
    assert admin.startswith(b"HTTP/1.1 401 "), admin
    bearer = _raw(
        server,
        b"GET /api/settings HTTP/1.1\r\nHost: x\r\n" + close + b"Authorization: Bearer \xc3\x28\r\n\r\n",
    )
    assert bearer.startswith(b"HTTP/1.1 401 "), bearer
    user = _raw(
        server,
        b"GET /user_api/settings HTTP/1.1\r\nHost: x\r\n" + close + b"x-user-token: \xed\xa0\x80\r\n\r\n",
    )
    assert user.startswith(b"HTTP/1.1 401 "), user
    lang = _raw(
        server,
        b"GET /admin/statistics HTTP/1.1\r\nHost: x\r\n"
        + close
        + b"x-admin-auth: no\r\nx-lang: \xff\r\n\r\n",
    )
    assert lang.startswith(b"HTTP/1.1 401 "), lang
