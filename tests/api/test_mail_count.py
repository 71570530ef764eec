"""The counts on first pages follow every way mail comes and goes: received, deleted one by one,
an inbox cleared, an address deleted with its mail, the clean-up. Every mail's count
(`/admin/mails`) and each address's (its inbox, a user's, the admin's filtered list and list of
addresses) are kept by triggers (migrations 0005 on PostgreSQL, 0006), also for rows stored
before the migrations."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from tempmail.db.engine import Database
from tests.accounts.test_user_addresses import bind
from tests.support import ScratchDatabase, Server, upgrade_to


def total(server: Server) -> int:
    response = server.admin("GET", "/admin/mails?limit=1&offset=0")
    assert response.status_code == 200, response.text
    return int(response.json()["count"])


def counts(server: Server, box: dict[str, Any], user_token: str) -> dict[str, int]:
    """Every count that shows `box`'s number of mails."""
    name = box["address"]
    admin_page = server.admin("GET", "/admin/mails", params={"limit": 1, "offset": 0, "address": name})
    listed = server.admin("GET", "/admin/address", params={"limit": 1, "offset": 0, "query": name})
    user_page = server.user("GET", "/user_api/mails?limit=1&offset=0", user_token)
    for response in (admin_page, listed, user_page):
        assert response.status_code == 200, response.text
    return {
        "inbox": server.mails(box["jwt"], limit=1)["count"],
        "admin": admin_page.json()["count"],
        "listed": listed.json()["results"][0]["mail_count"],
        "user": user_page.json()["count"],
    }


def test_each_address_count_follows_every_change(fresh_server: Callable[[], Server]) -> None:
    server = fresh_server()
    name = f"late{uuid.uuid4().hex[:8]}"
    # Mail for an address not created yet is counted once the address is.
    server.send(f"{name}@test.example", "Subject: early\r\n\r\nbefore the address\r\n")
    box, other = server.new_address(name), server.new_address()
    user = {"email": f"{name}@example.org", "password": "0" * 64}
    assert server.admin("POST", "/admin/users", json=user).status_code == 200
    token = server.client.post("/user_api/login", json=user).json()["jwt"]
    for jwt in (box["jwt"], other["jwt"]):
        bound = bind(server, token, jwt)
        assert bound.status_code == 200, bound.text

    def expect(own: int, others: int) -> None:
        assert counts(server, box, token) == {"inbox": own, "admin": own, "listed": own, "user": own + others}

    expect(1, 0)
    with server.smtp() as client:
        client.sendmail("a@remote.example", [box["address"], other["address"]], b"Subject: both\r\n\r\nx\r\n")
    for n in range(3):
        server.send(box["address"], f"Subject: {n}\r\n\r\nbody {n}\r\n")
    expect(5, 1)
    newest = server.mails(box["jwt"])["results"][0]["id"]
    assert server.with_jwt("DELETE", f"/api/mails/{newest}", box["jwt"]).status_code == 200
    expect(4, 1)
    oldest = server.mails(box["jwt"])["results"][-1]["id"]
    assert server.admin("DELETE", f"/admin/mails/{oldest}").status_code == 200
    expect(3, 1)
    time.sleep(1.1)  # `cleanDays: 0` deletes what was created before this second
    cleaned = server.admin("POST", "/admin/cleanup", json={"cleanType": "mails", "cleanDays": 0})
    assert cleaned.status_code == 200, cleaned.text
    expect(0, 0)
    server.send(box["address"], "Subject: again\r\n\r\nafter the clean-up\r\n")
    server.send(other["address"], "Subject: again\r\n\r\nafter the clean-up\r\n")
    expect(1, 1)
    assert server.with_jwt("DELETE", "/api/clear_inbox", box["jwt"]).status_code == 200
    expect(0, 1)
    server.send(box["address"], "Subject: last\r\n\r\nbefore the address goes\r\n")
    assert server.with_jwt("DELETE", "/api/delete_address", box["jwt"]).status_code == 200
    again = server.new_address(name)
    assert server.mails(again["jwt"])["count"] == 0


def test_the_count_of_every_mail_follows_every_change(fresh_server: Callable[[], Server]) -> None:
    server = fresh_server()
    keep, drop = server.new_address(), server.new_address()
    for box, mails in ((keep, 3), (drop, 2)):
        for n in range(mails):
            server.send(box["address"], f"Subject: {n}\r\n\r\nbody {n}\r\n")
    server.send("nobody@test.example", "Subject: unknown\r\n\r\nfor no address\r\n")
    assert total(server) == 6
    first = server.mails(keep["jwt"])["results"][0]["id"]
    assert server.admin("DELETE", f"/admin/mails/{first}").status_code == 200
    assert total(server) == 5
    assert server.with_jwt("DELETE", "/api/clear_inbox", keep["jwt"]).status_code == 200
    assert total(server) == 3
    assert server.with_jwt("DELETE", "/api/delete_address", drop["jwt"]).status_code == 200
    assert total(server) == 1


@pytest.mark.backends("postgresql")
def test_the_migration_counts_what_was_stored_before_it(backend: str) -> None:
    scratch = ScratchDatabase(backend)
    try:
        asyncio.run(_migrate_with_mails_in_between(scratch.url))
    finally:
        scratch.drop()


def test_the_migration_counts_each_address_and_every_mail_stored_before_it(backend: str) -> None:
    scratch = ScratchDatabase(backend)
    try:
        asyncio.run(_migrate_addresses_with_mails_in_between(scratch.url, backend))
    finally:
        scratch.drop()


async def _migrate_addresses_with_mails_in_between(url: str, backend: str) -> None:
    db = Database(url)
    insert = "INSERT INTO raw_mails (address, raw, created_at) VALUES (:address, 'x', '2026-12-03 10:00:00')"

    async def per_address(conn: Any) -> dict[str | None, int]:
        """Each address's count, and every mail's under None."""
        rows = await conn.execute(text("SELECT address, mails FROM mail_counts"))
        counts: dict[str | None, int] = {address: int(mails) for address, mails in rows}
        return {**counts, None: int(await conn.scalar(text("SELECT mails FROM raw_mails_count")))}

    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda sync: upgrade_to(sync, "0005"))
            for address in ["a@test.example"] * 3 + ["b@test.example"] * 2:
                await conn.execute(text(insert), {"address": address})
            await conn.execute(text("INSERT INTO raw_mails (raw, created_at) VALUES ('none', '2026-12-03')"))
        await db.upgrade()
        async with db.engine.begin() as conn:
            assert await per_address(conn) == {"a@test.example": 3, "b@test.example": 2, None: 6}
            await conn.execute(text("DELETE FROM raw_mails WHERE address = 'b@test.example'"))
            await conn.execute(text(insert), {"address": "c@test.example"})
            assert await per_address(conn) == {"a@test.example": 3, "c@test.example": 1, None: 5}
            if backend == "postgresql":
                await conn.execute(text("TRUNCATE raw_mails"))
                assert await per_address(conn) == {None: 0}
    finally:
        await db.close()


async def _migrate_with_mails_in_between(url: str) -> None:
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda sync: upgrade_to(sync, "0004"))
            await conn.execute(
                text(
                    "INSERT INTO raw_mails (address, raw, created_at) SELECT 'a@test.example', 'x', now()"
                    " FROM generate_series(1, 7)"
                )
            )
        await db.upgrade()
        async with db.engine.begin() as conn:
            assert await conn.scalar(text("SELECT mails FROM raw_mails_count")) == 7
            await conn.execute(text("DELETE FROM raw_mails WHERE id <= 2"))
            await conn.execute(
                text("INSERT INTO raw_mails (address, raw, created_at) VALUES ('b', 'y', now())")
            )
            assert await conn.scalar(text("SELECT mails FROM raw_mails_count")) == 6
            await conn.execute(text("TRUNCATE raw_mails"))
            assert await conn.scalar(text("SELECT mails FROM raw_mails_count")) == 0
    finally:
        await db.close()
