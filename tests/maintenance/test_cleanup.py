"""Retention: `/admin/cleanup` per clean type, `/admin/auto_cleanup` settings and custom SQL."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest

from tests.support import Server

CleanupServer = Callable[..., Server]


def _age_past_cutoff() -> None:
    """`cleanDays: 0` deletes what was created before this second; step past it."""
    time.sleep(1.1)


def _cleanup(server: Server, clean_type: str, days: int = 0) -> None:
    response = server.admin("POST", "/admin/cleanup", json={"cleanType": clean_type, "cleanDays": days})
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}


def _admin_mail_addresses(server: Server) -> list[str]:
    rows = server.admin("GET", "/admin/mails?limit=100&offset=0").json()["results"]
    return [row["address"] for row in rows]


def _address_names(server: Server) -> list[str]:
    rows = server.admin("GET", "/admin/address?limit=100&offset=0").json()["results"]
    return [row["name"] for row in rows]


@pytest.fixture
def private(fresh_server: CleanupServer) -> Server:
    """Cleanups delete across the whole database: never on a shared server."""
    return fresh_server({"CLEANUP_BATCH_SIZE": "2"})


def test_cleanup_needs_admin(server: Server) -> None:
    response = server.client.post("/admin/cleanup", json={"cleanType": "mails", "cleanDays": 1})
    assert response.status_code == 401


def test_mails_older_than_cutoff_go_in_batches(private: Server) -> None:
    kept_days = private.new_address()
    for i in range(5):
        private.send(kept_days["address"], f"Subject: old {i}\r\n\r\nold")
    _cleanup(private, "mails", days=1)
    assert private.mails(kept_days["jwt"])["count"] == 5, "mails younger than a day must stay"
    _age_past_cutoff()
    private.send(kept_days["address"], "Subject: new\r\n\r\nnew")
    for left in (4, 2):
        _cleanup(private, "mails", days=0)
        assert private.mails(kept_days["jwt"])["count"] == left, "one batch of two per call"
    remaining = private.mails(kept_days["jwt"])["results"]
    assert [row["raw"].split("\r\n")[0] for row in remaining] == ["Subject: new", "Subject: old 4"]


def test_unknown_address_mails_only(private: Server) -> None:
    known = private.new_address()
    private.send(known["address"], "Subject: known\r\n\r\nx")
    private.send(f"nobody-{uuid.uuid4().hex[:8]}@test.example", "Subject: unknown\r\n\r\nx")
    _age_past_cutoff()
    _cleanup(private, "mails_unknow")
    assert _admin_mail_addresses(private) == [known["address"]]


def test_address_clean_types(private: Server) -> None:
    with_mail = private.new_address()
    private.send(with_mail["address"], "Subject: keep\r\n\r\nx")
    empty = private.new_address()
    _age_past_cutoff()
    _cleanup(private, "emptyAddress")
    assert empty["address"] not in _address_names(private)
    assert with_mail["address"] in _address_names(private)

    _cleanup(private, "unboundAddress")
    assert _address_names(private) == []
    assert _admin_mail_addresses(private) == [], "an address's mails go with it"


def test_created_and_inactive_addresses(private: Server) -> None:
    old = private.new_address()
    _age_past_cutoff()
    _cleanup(private, "inactiveAddress", days=1)
    _cleanup(private, "addressCreated", days=1)
    assert old["address"] in _address_names(private)
    _cleanup(private, "addressCreated", days=0)
    assert old["address"] not in _address_names(private)
    assert private.with_jwt("GET", "/api/mails?limit=1&offset=0", old["jwt"]).status_code == 401


def test_sendbox_clean_type_accepted(private: Server) -> None:
    _cleanup(private, "sendbox")
