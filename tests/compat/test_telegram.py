"""COMPAT §17 Telegram: without TELEGRAM_BOT_TOKEN every Telegram route of the reference answers
`400 TELEGRAM_BOT_TOKEN is required`; the admin routes ask for the admin first; with a token
the routes are the bot's. On both backends."""

from __future__ import annotations

import pytest

from tests.conftest import ServerFactory
from tests.support import Server

MINI_APP = [
    "/telegram/webhook",
    "/telegram/get_bind_address",
    "/telegram/new_address",
    "/telegram/bind_address",
    "/telegram/unbind_address",
    "/telegram/get_mail",
]
ADMIN = [
    ("POST", "/admin/telegram/init"),
    ("GET", "/admin/telegram/status"),
    ("GET", "/admin/telegram/settings"),
    ("POST", "/admin/telegram/settings"),
]
TOKEN_REQUIRED = "TELEGRAM_BOT_TOKEN is required"
ADMIN_NEEDED = "You need to provide the admin password to access this page"


@pytest.mark.parametrize("path", MINI_APP)
def test_mini_app_routes_need_the_bot_token(server: Server, path: str) -> None:
    response = server.client.post(path, json={})
    assert (response.status_code, response.text) == (400, TOKEN_REQUIRED)
    response = server.client.post(path, json={}, headers={"x-lang": "zh"})
    assert (response.status_code, response.text) == (400, "需要设置 TELEGRAM_BOT_TOKEN")


@pytest.mark.parametrize(("method", "path"), ADMIN)
def test_admin_routes_ask_for_the_admin_then_the_token(server: Server, method: str, path: str) -> None:
    response = server.client.request(method, path, json={})
    assert (response.status_code, response.text) == (401, ADMIN_NEEDED)
    response = server.admin(method, path, json={})
    assert (response.status_code, response.text) == (400, TOKEN_REQUIRED)


def test_the_site_password_guards_the_admin_routes_only(make_server: ServerFactory) -> None:
    server = make_server(PASSWORDS="tg-site-pw")
    for path in MINI_APP:
        response = server.client.post(path, json={})
        assert (response.status_code, response.text) == (400, TOKEN_REQUIRED)
    response = server.admin("POST", "/admin/telegram/init")
    assert response.status_code == 401
    assert response.text == "You have enabled the private site password, please provide the password"
    response = server.admin("POST", "/admin/telegram/init", headers={"x-custom-auth": "tg-site-pw"})
    assert (response.status_code, response.text) == (400, TOKEN_REQUIRED)


def test_with_a_token_the_routes_are_the_bot(make_server: ServerFactory) -> None:
    """The bot itself is tested against a fake Bot API in tests/telegram_bot; here, only that the
    token's 400 is gone (and nothing here reaches the real Telegram)."""
    server = make_server(TELEGRAM_BOT_TOKEN="123456:test-token")
    webhook = server.client.post("/telegram/webhook", json={})
    assert (webhook.status_code, webhook.text) == (401, "Invalid Telegram secret token")
    for path in MINI_APP[1:]:
        response = server.client.post(path, json={})
        assert response.status_code == 400 and response.text != TOKEN_REQUIRED
    for method, path in ADMIN:
        assert server.client.request(method, path).status_code == 401
    response = server.admin("GET", "/admin/telegram/settings")
    assert (response.status_code, response.json()) == (
        200,
        {"enableAllowList": False, "allowList": [], "miniAppUrl": ""},
    )
