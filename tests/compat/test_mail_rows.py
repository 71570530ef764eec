"""COMPAT §13 and §26: mail rows' exact keys on every route, `null` for a missing mail, deletes
that answer success whatever matched, and gzip-stored mails read back identically."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.support import Server

ROW_KEYS = {"id", "message_id", "source", "address", "raw", "metadata", "created_at"}
RAW = (
    "From: =?utf-8?q?J=C3=BCrgen?= <j@remote.example>\r\n"
    "Subject: Grüße, 你好\r\n"
    "Message-ID: <rows@remote.example>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Grüße aus München — 你好\r\n"
)


def every_view(server: Server, created: dict[str, Any]) -> dict[str, Any]:
    """The mail as each route shows it."""
    jwt = created["jwt"]
    (listed,) = server.with_jwt("GET", "/api/mails?limit=10&offset=0", jwt).json()["results"]
    mail_id = listed["id"]
    admin_list = server.admin("GET", f"/admin/mails?limit=10&offset=0&address={created['address']}").json()
    return {
        "/api/mails": listed,
        "/api/mail": server.with_jwt("GET", f"/api/mail/{mail_id}", jwt).json(),
        "/admin/mails": admin_list["results"][0],
        "/admin/mails/{id}": server.admin("GET", f"/admin/mails/{mail_id}").json(),
    }


@pytest.mark.parametrize("gzip", ["false", "true"])
def test_rows_are_the_same_on_every_route_stored_plain_or_gzipped(
    make_server: ServerFactory, gzip: str
) -> None:
    server = make_server(ENABLE_MAIL_GZIP=gzip)
    created = server.new_address()
    server.send(created["address"], RAW.encode("utf-8"), mail_from="j@remote.example")
    views = every_view(server, created)
    for route, row in views.items():
        assert set(row) == ROW_KEYS, route
        assert row["raw"] == RAW, route
        assert row["message_id"] == "<rows@remote.example>" and row["source"] == "j@remote.example"
    assert len({tuple(sorted(row.items())) for row in views.values()}) == 1
    (stored,) = server.db.sql("SELECT raw, raw_blob FROM raw_mails WHERE address = ?", created["address"])
    if gzip == "true":
        assert stored[0] is None and stored[1] is not None
    else:
        assert stored == (RAW, None)
    parsed = server.with_jwt("GET", f"/api/parsed_mail/{views['/api/mails']['id']}", created["jwt"]).json()
    assert parsed["subject"] == "Grüße, 你好" and parsed["text"] == "Grüße aus München — 你好\n"
    assert parsed["sender"] == "Jürgen <j@remote.example>"


def test_gzip_rows_of_unknown_addresses(make_server: ServerFactory) -> None:
    server = make_server(ENABLE_MAIL_GZIP="true")
    to = "gzip-unknown-rows@test.example"
    server.send(to, RAW.encode("utf-8"))
    rows = server.admin("GET", "/admin/mails_unknow?limit=100&offset=0").json()["results"]
    (row,) = [r for r in rows if r["address"] == to]
    assert set(row) == ROW_KEYS and row["raw"] == RAW


def test_a_missing_mail_is_null(server: Server) -> None:
    jwt = server.new_address()["jwt"]
    for response in (
        server.with_jwt("GET", "/api/mail/999999999", jwt),
        server.with_jwt("GET", "/api/parsed_mail/999999999", jwt),
        server.admin("GET", "/admin/mails/999999999"),
    ):
        assert (response.status_code, response.text) == (200, "null")


def test_deletes_answer_success_whatever_matched(server: Server) -> None:
    owner, other = server.new_address(), server.new_address()
    server.send(owner["address"], "Subject: mine\r\n\r\nx")
    (row,) = server.mails(owner["jwt"])["results"]
    for response in (
        server.with_jwt("DELETE", "/api/mails/999999999", owner["jwt"]),
        server.with_jwt("DELETE", f"/api/mails/{row['id']}", other["jwt"]),
        server.admin("DELETE", "/admin/mails/999999999"),
    ):
        assert (response.status_code, response.json()) == (200, {"success": True})
    assert server.mails(owner["jwt"])["count"] == 1, "another address cannot delete it"
    assert server.with_jwt("DELETE", f"/api/mails/{row['id']}", owner["jwt"]).json() == {"success": True}
    assert server.mails(owner["jwt"])["count"] == 0
    server.send(owner["address"], "Subject: again\r\n\r\nx")
    (row,) = server.mails(owner["jwt"])["results"]
    assert server.admin("DELETE", f"/admin/mails/{row['id']}").json() == {"success": True}
    assert server.mails(owner["jwt"])["count"] == 0
