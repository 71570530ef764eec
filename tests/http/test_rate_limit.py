"""Rate limits per client IP (issue 16, "Limits") on a real server: every test is a client of
its own, named by X-Forwarded-For from a trusted proxy (the server trusts 127.0.0.1)."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest

from tests.conftest import ServerFactory
from tests.support import ADMIN_PASSWORD, Server

LIMITED_ENV = {
    "RATE_LIMIT_CREATIONS": "3",
    "RATE_LIMIT_LOGIN_FAILURES": "3",
    "RATE_LIMIT_ADMIN_FAILURES": "3",
    "RATE_LIMIT_WINDOW": "60",
    "TRUSTED_PROXIES": '["127.0.0.1"]',
}
_clients = itertools.count(1)


@pytest.fixture
def limited(make_server: ServerFactory) -> Server:
    return make_server(**LIMITED_ENV)


@pytest.fixture
def ip() -> str:
    """An address no other test of the session uses, so no test inherits another's count."""
    return f"198.51.100.{next(_clients)}"


def elsewhere(ip: str) -> str:
    """Another client, whose address no test gets from `ip`."""
    return ip.replace("198.51.100.", "203.0.113.")


def call(server: Server, ip: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"x-forwarded-for": ip, **kwargs.pop("headers", {})}
    return server.client.request(method, path, headers=headers, **kwargs)


def assert_too_many(response: httpx.Response) -> None:
    assert response.status_code == 429
    seconds = int(response.headers["retry-after"])
    assert 1 <= seconds <= 60
    assert response.text == f"Too many requests, retry after {seconds} seconds"


def test_wrong_admin_passwords_then_429_even_with_the_right_one(limited: Server, ip: str) -> None:
    wrong = {"x-admin-auth": "not-the-password"}
    for _ in range(4):
        assert call(limited, ip, "GET", "/admin/address?limit=5&offset=0", headers=wrong).status_code == 401
    assert_too_many(
        call(limited, ip, "GET", "/admin/address?limit=5&offset=0", headers={"x-admin-auth": ADMIN_PASSWORD})
    )
    assert_too_many(call(limited, ip, "GET", "/admin/mails?limit=5&offset=0", headers=wrong))
    # A request without a password guesses nothing; another client is not affected.
    assert call(limited, ip, "GET", "/admin/address?limit=5&offset=0").status_code == 401
    other = call(
        limited,
        elsewhere(ip),
        "GET",
        "/admin/address?limit=5&offset=0",
        headers={"x-admin-auth": ADMIN_PASSWORD},
    )
    assert other.status_code == 200
    assert limited.output().count(f"rate limit: {ip} refused") == 1


def test_refused_logins_count_and_good_ones_do_not(limited: Server, ip: str) -> None:
    created = limited.new_address()
    password = "p" * 64
    changed = limited.with_jwt(
        "POST", "/api/address_change_password", created["jwt"], json={"new_password": password}
    )
    assert changed.json() == {"success": True}
    good = {"email": created["address"], "password": password}
    bad = {**good, "password": "q" * 64}
    for _ in range(5):
        assert call(limited, ip, "POST", "/api/address_login", json=good).status_code == 200
    for _ in range(4):
        assert call(limited, ip, "POST", "/api/address_login", json=bad).status_code == 401
    assert_too_many(call(limited, ip, "POST", "/api/address_login", json=good))
    assert_too_many(
        call(limited, ip, "POST", "/user_api/login", json={"email": "a@b.example", "password": "x"})
    )


def test_creations_are_counted_per_client(limited: Server, ip: str) -> None:
    for number in range(3):
        response = call(limited, ip, "POST", "/api/new_address", json={"name": f"rl{number}{ip[-3:]}"})
        assert response.status_code == 200, response.text
    assert_too_many(call(limited, ip, "POST", "/api/new_address", json={"name": "onemore"}))
    # cf-connecting-ip, believed for the IP rules of COMPAT §4, does not make a new client here.
    dodge = call(
        limited,
        ip,
        "POST",
        "/api/new_address",
        json={"name": "dodge"},
        headers={"cf-connecting-ip": "192.0.2.9"},
    )
    assert_too_many(dodge)
    assert (
        call(limited, elsewhere(ip), "POST", "/api/new_address", json={"name": f"other{ip[-3:]}"}).status_code
        == 200
    )


def test_the_default_server_limits_wrong_admin_passwords(make_server: ServerFactory) -> None:
    """Without the test suite's switches (tests.support.BASE_ENV turns them off), the defaults
    apply: ten wrong admin passwords a minute."""
    server = make_server(RATE_LIMIT_ADMIN_FAILURES="10", TRUSTED_PROXIES='["127.0.0.1"]')
    statuses = [
        call(
            server, "192.0.2.77", "GET", "/admin/address?limit=5&offset=0", headers={"x-admin-auth": "guess"}
        ).status_code
        for _ in range(12)
    ]
    assert statuses == [401] * 11 + [429]
