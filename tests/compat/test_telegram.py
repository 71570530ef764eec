"""COMPAT §17 Telegram: without TELEGRAM_BOT_TOKEN every Telegram route of the reference answers
`400 TELEGRAM_BOT_TOKEN is required`; the admin routes ask for the admin first; with a token
the bot, not built yet, answers 501 saying so. On both backends."""

from __future__ import annotations

import pytest

from tests.conftest import ServerFactory
from tests.support import ADMIN_PASSWORD, Server

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
NOT_BUILT = "Telegram bot is not implemented in this tempmail version"
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


def test_with_a_token_the_routes_say_the_bot_is_not_built(make_server: ServerFactory) -> None:
    server = make_server(TELEGRAM_BOT_TOKEN="123456:test-token")
    for path in MINI_APP:
        response = server.client.post(path, json={})
        assert (response.status_code, response.text) == (501, NOT_BUILT)
    for method, path in ADMIN:
        assert server.client.request(method, path).status_code == 401
        response = server.client.request(method, path, headers={"x-admin-auth": ADMIN_PASSWORD})
        assert (response.status_code, response.text) == (501, NOT_BUILT)
