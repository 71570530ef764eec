"""COMPAT §16 / §21: the admin check's order and its three 401 texts."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from tests.conftest import ServerFactory
from tests.support import ADMIN_PASSWORD, JWT_SECRET, Server

NEED_ADMIN = (401, "You need to provide the admin password to access this page")
EXPIRED = (401, "Your access token has expired, please refresh the page")
NOT_ADMIN = (401, "Your user role is not admin, no access to visit this page")
PATH = "/admin/statistics"


def role_token(role: str | None, expires_in: int | None = 3600, secret: str = JWT_SECRET) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {"user_email": "u@test.example", "user_id": 1, "iat": now}
    if role is not None:
        claims["user_role"] = role
    if expires_in is not None:
        claims["exp"] = now + expires_in
    return jwt.encode(claims, secret, algorithm="HS256")


def answer(server: Server, **headers: str) -> tuple[int, str]:
    response = server.client.get(PATH, headers={k.replace("_", "-"): v for k, v in headers.items()})
    return response.status_code, response.text


@pytest.fixture
def roles(make_server: ServerFactory) -> Server:
    return make_server(ADMIN_USER_ROLE="boss")


def test_role_token_of_the_admin_role(roles: Server) -> None:
    assert answer(roles, x_user_access_token=role_token("boss"))[0] == 200


def test_expired_or_no_exp(roles: Server) -> None:
    assert answer(roles, x_user_access_token=role_token("boss", expires_in=-10)) == EXPIRED
    assert answer(roles, x_user_access_token=role_token("boss", expires_in=None)) == EXPIRED


def test_other_role(roles: Server) -> None:
    assert answer(roles, x_user_access_token=role_token("vip")) == NOT_ADMIN
    assert answer(roles, x_user_access_token=role_token(None)) == NOT_ADMIN


def test_bad_signature_falls_through(roles: Server) -> None:
    forged = role_token("boss", secret="another-secret-that-is-long-enough-for-hs256")
    assert answer(roles, x_user_access_token=forged) == NEED_ADMIN
    assert answer(roles, x_user_access_token="abc.def.ghi") == NEED_ADMIN


def test_admin_password_comes_first(roles: Server) -> None:
    expired = role_token("boss", expires_in=-10)
    assert answer(roles, x_admin_auth=ADMIN_PASSWORD, x_user_access_token=expired)[0] == 200


def test_role_token_ignored_without_admin_user_role(server: Server) -> None:
    assert answer(server, x_user_access_token=role_token("boss", expires_in=-10)) == NEED_ADMIN


def test_role_token_checked_before_the_disabled_password_check(make_server: ServerFactory) -> None:
    open_admin = make_server(ADMIN_USER_ROLE="boss", DISABLE_ADMIN_PASSWORD_CHECK="true")
    assert answer(open_admin)[0] == 200
    assert answer(open_admin, x_user_access_token=role_token("vip")) == NOT_ADMIN
    assert answer(open_admin, x_user_access_token=role_token("boss", expires_in=-1)) == EXPIRED
    assert answer(open_admin, x_user_access_token="garbage")[0] == 200


def test_texts_in_chinese(roles: Server) -> None:
    zh = {"x_lang": "zh"}
    assert answer(roles, **zh) == (401, "您需要提供管理员密码才能访问此页面")
    assert answer(roles, x_user_access_token=role_token("boss", expires_in=-10), **zh) == (
        401,
        "您的访问令牌已过期, 请刷新页面",
    )
    assert answer(roles, x_user_access_token=role_token("vip"), **zh) == (
        401,
        "您的用户角色不是管理员, 无权访问",
    )
