"""COMPAT §8 and §11.5: an address's `updated_at` (its activity, which the inactive-address
cleanup goes by) as cloudflare_temp_email v1.12 keeps it — written only when it is NULL or older
than a day, on the first page of `/api/mails` and `/api/parsed_mails`, on `/api/settings` and on
the `/user_api` reads of a user's bound addresses; always on a password set or reset."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.accounts.test_user_accounts import email, register
from tests.conftest import ServerFactory
from tests.support import Server

FORMAT = "%Y-%m-%d %H:%M:%S"


def set_updated_at(server: Server, address_id: int, age: timedelta) -> str:
    """Age the address's activity by `age`; the stored text."""
    when = (datetime.now(UTC) - age).replace(tzinfo=None, microsecond=0)
    value: object = when.strftime(FORMAT) if server.backend == "sqlite" else when
    server.db.sql("UPDATE address SET updated_at = ? WHERE id = ?", value, address_id)
    return when.strftime(FORMAT)


def updated_at(server: Server, address: str) -> str:
    rows = server.admin("GET", "/admin/address", params={"limit": 1, "offset": 0, "query": address}).json()
    (row,) = rows["results"]
    return str(row["updated_at"])


def recent() -> str:
    """A time just before now, to tell a fresh write from an aged value."""
    return time.strftime(FORMAT, time.gmtime(time.time() - 60))


@pytest.mark.parametrize(
    "path", ["/api/mails?limit=5&offset=0", "/api/parsed_mails?limit=5&offset=0", "/api/settings"]
)
def test_reads_touch_only_after_a_day(server: Server, path: str) -> None:
    created = server.new_address()
    hour_old = set_updated_at(server, created["address_id"], timedelta(hours=2))
    assert server.with_jwt("GET", path, created["jwt"]).status_code == 200
    assert updated_at(server, created["address"]) == hour_old
    set_updated_at(server, created["address_id"], timedelta(days=2))
    assert server.with_jwt("GET", path, created["jwt"]).status_code == 200
    touched = updated_at(server, created["address"])
    assert touched >= recent()
    assert server.with_jwt("GET", path, created["jwt"]).status_code == 200
    assert updated_at(server, created["address"]) == touched


@pytest.mark.parametrize("path", ["/api/mails?limit=5&offset=1", "/api/parsed_mails?limit=5&offset=1"])
def test_later_pages_do_not_touch(server: Server, path: str) -> None:
    created = server.new_address()
    old = set_updated_at(server, created["address_id"], timedelta(days=3))
    assert server.with_jwt("GET", path, created["jwt"]).status_code == 200
    assert updated_at(server, created["address"]) == old


def test_creation_sets_it(server: Server) -> None:
    assert updated_at(server, server.new_address()["address"]) >= recent()


@pytest.mark.parametrize("path", ["/user_api/bind_address", "/user_api/mails?limit=5&offset=0"])
def test_user_reads_touch_the_bound_addresses(server: Server, path: str) -> None:
    user = register(server, email())
    first, second = server.new_address(), server.new_address()
    for created in (first, second):
        bound = server.client.post(
            "/user_api/bind_address",
            headers={"x-user-token": user, "Authorization": f"Bearer {created['jwt']}"},
        )
        assert bound.json() == {"success": True}
    fresh = set_updated_at(server, first["address_id"], timedelta(hours=5))
    set_updated_at(server, second["address_id"], timedelta(days=2))
    assert server.user("GET", path, user).status_code == 200
    assert updated_at(server, first["address"]) == fresh
    assert updated_at(server, second["address"]) >= recent()


def test_a_password_change_always_touches(server: Server) -> None:
    created = server.new_address()
    set_updated_at(server, created["address_id"], timedelta(minutes=30))
    changed = server.with_jwt(
        "POST", "/api/address_change_password", created["jwt"], json={"new_password": "a" * 64}
    )
    assert changed.json() == {"success": True}
    assert updated_at(server, created["address"]) >= recent()
    set_updated_at(server, created["address_id"], timedelta(minutes=30))
    reset = server.admin(
        "POST", f"/admin/address/{created['address_id']}/reset_password", json={"password": "b" * 64}
    )
    assert reset.json() == {"success": True}
    assert updated_at(server, created["address"]) >= recent()


def test_a_login_does_not_touch(server: Server) -> None:
    created = server.new_address()
    old = set_updated_at(server, created["address_id"], timedelta(hours=3))
    password = hashlib.sha256(created["password"].encode()).hexdigest()
    login = server.client.post("/api/address_login", json={"email": created["address"], "password": password})
    assert login.status_code == 200, login.text
    assert updated_at(server, created["address"]) == old


def test_admin_reset_needs_address_passwords(make_server: ServerFactory, server: Server) -> None:
    plain = make_server(ENABLE_ADDRESS_PASSWORD="false")
    created = plain.new_address()
    response = plain.admin(
        "POST", f"/admin/address/{created['address_id']}/reset_password", json={"password": "c" * 64}
    )
    assert (response.status_code, response.text) == (403, "Password change is disabled")
    created = server.new_address()
    missing = server.admin("POST", f"/admin/address/{created['address_id']}/reset_password", json={})
    assert (missing.status_code, missing.text) == (400, "New password is required")
