"""The GETs answered ahead of FastAPI's routing (`tempmail.http.fast_lane`) answer exactly as
their routes do: the same bodies and errors, the framework's own answer where the lane leaves a
request to it, and every other method still reaching the route."""

from __future__ import annotations

from tests.accounts.test_user_accounts import email, register
from tests.conftest import ServerFactory
from tests.support import ADMIN_PASSWORD, USERS_ENV, Server

ADDRESS_CREDENTIAL = "Invalid address credential"
ADDRESS_CREDENTIAL_ZH = "无效的邮箱地址凭据"


def test_inbox_poll_answers_the_route_shape(server: Server) -> None:
    box = server.new_address()
    server.send(box["address"], b"Subject: lane\r\n\r\nhello lane\r\n")
    response = server.with_jwt("GET", "/api/mails?limit=5&offset=0", box["jwt"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    page = response.json()
    assert page["count"] == 1
    assert set(page["results"][0]) == {
        "id",
        "message_id",
        "source",
        "address",
        "raw",
        "metadata",
        "created_at",
    }
    assert "hello lane" in page["results"][0]["raw"]


def test_errors_are_the_contracts_texts(server: Server) -> None:
    box = server.new_address()
    missing = server.client.get("/api/mails?limit=5&offset=0")
    assert (missing.status_code, missing.text) == (401, ADDRESS_CREDENTIAL)
    chinese = server.client.get("/api/mails?limit=5&offset=0", headers={"x-lang": "zh"})
    assert (chinese.status_code, chinese.text) == (401, ADDRESS_CREDENTIAL_ZH)
    bad_limit = server.with_jwt("GET", "/api/mails?limit=500&offset=0", box["jwt"])
    assert (bad_limit.status_code, bad_limit.text) == (400, "Invalid limit")
    no_admin = server.client.get("/admin/mails?limit=5&offset=0")
    assert no_admin.status_code == 401


def test_a_deleted_address_credential_is_refused(server: Server) -> None:
    box = server.new_address()
    assert server.with_jwt("DELETE", "/api/delete_address", box["jwt"]).status_code == 200
    response = server.with_jwt("GET", "/api/mails?limit=5&offset=0", box["jwt"])
    assert (response.status_code, response.text) == (401, ADDRESS_CREDENTIAL)


def test_an_invalid_parameter_is_left_to_the_framework(make_server: ServerFactory) -> None:
    users = make_server(**USERS_ENV)
    user_jwt = register(users, email())
    too_long = users.user(
        "GET", "/user_api/mails", user_jwt, params={"limit": 5, "offset": 0, "address": "a" * 400}
    )
    assert too_long.status_code == 400
    assert "address" in too_long.text
    fine = users.user(
        "GET", "/user_api/mails", user_jwt, params={"limit": 5, "offset": 0, "address": "a" * 300}
    )
    assert (fine.status_code, fine.json()) == (200, {"results": [], "count": 0})


def test_other_methods_still_reach_the_routes(server: Server) -> None:
    assert server.client.post("/health_check").status_code == 405
    assert server.client.post("/api/mails").status_code == 405


def test_cors_and_the_site_password_still_apply(make_server: ServerFactory) -> None:
    private = make_server(PASSWORDS='["pw"]')
    refused = private.client.get("/health_check", headers={"Origin": "https://app.example"})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "*"
    allowed = private.client.get(
        "/health_check", headers={"x-custom-auth": "pw", "Origin": "https://a.example"}
    )
    assert (allowed.status_code, allowed.text) == (200, "OK")
    assert allowed.headers["access-control-allow-origin"] == "*"
    admin = private.client.get(
        "/admin/mails?limit=5&offset=0", headers={"x-custom-auth": "pw", "x-admin-auth": ADMIN_PASSWORD}
    )
    assert admin.status_code == 200 and set(admin.json()) == {"results", "count"}
