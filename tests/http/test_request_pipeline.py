"""What every request goes through: site password, CORS, language, and the API documents."""

from __future__ import annotations

import pytest

from tests.conftest import ServerFactory
from tests.support import ADMIN_PASSWORD, Server

SITE_TEXT = "You have enabled the private site password, please provide the password"


@pytest.fixture
def private_site(make_server: ServerFactory) -> Server:
    return make_server(PASSWORDS='["pw1", "pw2"]')


@pytest.mark.parametrize(
    "path", ["/api/mails?limit=1&offset=0", "/admin/statistics", "/health_check", "/nowhere"]
)
def test_site_password_guards_everything(private_site: Server, path: str) -> None:
    response = private_site.client.get(path, headers={"x-admin-auth": ADMIN_PASSWORD})
    assert (response.status_code, response.text) == (401, SITE_TEXT)
    wrong = private_site.client.get(path, headers={"x-custom-auth": "pw3"})
    assert wrong.status_code == 401


def test_either_site_password_works(private_site: Server) -> None:
    for password in ("pw1", "pw2"):
        response = private_site.client.get(
            "/admin/statistics", headers={"x-custom-auth": password, "x-admin-auth": ADMIN_PASSWORD}
        )
        assert response.status_code == 200
    created = private_site.client.post("/api/new_address", json={}, headers={"x-custom-auth": "pw1"})
    assert created.status_code == 200


def test_open_api_needs_no_site_password(private_site: Server) -> None:
    assert private_site.client.get("/open_api/settings").json()["needAuth"] is True
    with_password = private_site.client.get("/open_api/settings", headers={"x-custom-auth": "pw2"})
    assert with_password.json()["needAuth"] is False


def test_cors_preflight_and_headers(private_site: Server) -> None:
    preflight = private_site.client.options(
        "/api/mails",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, x-custom-auth",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] in ("*", "https://app.example")
    assert "GET" in preflight.headers["access-control-allow-methods"]
    normal = private_site.client.get("/open_api/settings", headers={"Origin": "https://app.example"})
    assert normal.headers["access-control-allow-origin"] == "*"
    refused = private_site.client.get("/api/settings", headers={"Origin": "https://app.example"})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "*", "errors are readable cross-origin too"


def test_chinese_texts(private_site: Server, server: Server) -> None:
    assert (
        private_site.client.get("/health_check", headers={"x-lang": "zh"}).text
        == "你已启用私有站点密码,请提供密码"
    )
    assert (
        server.client.get("/admin/statistics", headers={"x-lang": "zh"}).text
        == "您需要提供管理员密码才能访问此页面"
    )


def test_openapi_and_docs(server: Server) -> None:
    document = server.client.get("/openapi.json").json()
    assert "/api/mails" in document["paths"]
    assert "/admin/address" in document["paths"]
    assert server.client.get("/docs").status_code == 200
