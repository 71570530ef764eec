"""COMPAT §9: `/admin/cleanup` (one batch per call for the batched kinds, oldest first, 500
`Operation failed: …` for every error) and `/admin/auto_cleanup` (null until saved, stored as
posted, the custom-SQL checks in the reference's order with the `[name]: ` prefix)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import Server

BATCH = 2


@pytest.fixture(scope="module")
def private(backend: str) -> Iterator[Server]:
    """Cleanups delete across the whole database: a server of this module's own. Each test
    ages its own rows to dates no other test uses, oldest in the tests that count batches."""
    server = Server(backend, {"CLEANUP_BATCH_SIZE": str(BATCH)}).start()
    yield server
    server.close()


def cleanup(server: Server, body: Any) -> tuple[int, str]:
    response = server.admin("POST", "/admin/cleanup", json=body)
    return response.status_code, response.text


def age(server: Server, table: str, column: str, when: str, where: str, *params: Any) -> None:
    server.db.sql(f"UPDATE {table} SET {column} = '{when}' WHERE {where}", *params)


def mail_ids(server: Server, address: str) -> list[int]:
    return [
        row[0] for row in server.db.sql("SELECT id FROM raw_mails WHERE address = ? ORDER BY id", address)
    ]


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"cleanDays": 1}, "Operation failed: Invalid cleanType or cleanDays"),
        ({"cleanType": "", "cleanDays": 1}, "Operation failed: Invalid cleanType or cleanDays"),
        ({"cleanType": "mails"}, "Operation failed: Invalid cleanType or cleanDays"),
        ({"cleanType": "mails", "cleanDays": "7"}, "Operation failed: Invalid cleanType or cleanDays"),
        ({"cleanType": "mails", "cleanDays": True}, "Operation failed: Invalid cleanType or cleanDays"),
        ({"cleanType": "mails", "cleanDays": -1}, "Operation failed: Invalid cleanType or cleanDays"),
        ({"cleanType": "mails", "cleanDays": 1001}, "Operation failed: Invalid cleanType or cleanDays"),
        ({"cleanType": "everything", "cleanDays": 1}, "Operation failed: Invalid cleanType"),
        ({"cleanType": "everything", "cleanDays": "x"}, "Operation failed: Invalid cleanType or cleanDays"),
        ([], "Operation failed: Invalid cleanType or cleanDays"),
    ],
)
def test_every_error_is_500_operation_failed(server: Server, body: Any, text: str) -> None:
    assert cleanup(server, body) == (500, text)


def test_the_error_text_in_chinese(server: Server) -> None:
    response = server.admin(
        "POST", "/admin/cleanup", json={"cleanType": "x", "cleanDays": 1}, headers={"x-lang": "zh"}
    )
    assert (response.status_code, response.text) == (500, "操作失败: 无效的 cleanType")


def test_bounds_are_accepted(private: Server) -> None:
    for days in (1000, 2.5, 0):
        assert cleanup(private, {"cleanType": "sendbox", "cleanDays": days}) == (200, '{"success":true}')


def test_mails_one_batch_per_call_oldest_first(private: Server) -> None:
    address = private.new_address()["address"]
    for i in range(5):
        private.send(address, f"Subject: old {i}\r\n\r\nx")
    ids = mail_ids(private, address)
    for day, mail_id in zip((5, 4, 3, 2, 1), ids, strict=True):
        age(private, "raw_mails", "created_at", f"2001-01-0{day} 00:00:00", "id = ?", mail_id)
    assert cleanup(private, {"cleanType": "mails", "cleanDays": 1}) == (200, '{"success":true}')
    assert mail_ids(private, address) == ids[:3], "the two oldest went, by created_at"
    cleanup(private, {"cleanType": "mails", "cleanDays": 1})
    assert mail_ids(private, address) == ids[:1]


def test_unknown_mails_all_at_once(private: Server) -> None:
    nobody = f"nobody-{uuid.uuid4().hex[:8]}@test.example"
    known = private.new_address()["address"]
    for to in (nobody, nobody, nobody, known):
        private.send(to, "Subject: x\r\n\r\nx")
    for to in (nobody, known):
        age(private, "raw_mails", "created_at", "2002-01-01 00:00:00", "address = ?", to)
    cleanup(private, {"cleanType": "mails_unknow", "cleanDays": 1})
    assert mail_ids(private, nobody) == [] and len(mail_ids(private, known)) == 1


def with_data(server: Server) -> tuple[dict[str, Any], int]:
    """An address with a mail, an auto-reply row, a sender row and a sent item."""
    created = server.new_address()
    server.send(created["address"], "Subject: x\r\n\r\nx")
    when = "2020-01-01 00:00:00"
    server.db.sql(
        "INSERT INTO auto_reply_mails (address, subject, message, source_prefix, name, enabled, created_at)"
        f" VALUES (?, 's', 'm', '', '', 1, '{when}')",
        created["address"],
    )
    server.db.sql(
        f"INSERT INTO address_sender (address, balance, enabled, created_at) VALUES (?, 0, 1, '{when}')",
        created["address"],
    )
    server.db.sql(
        f"INSERT INTO sendbox (address, raw, created_at) VALUES (?, '{{}}', '{when}')", created["address"]
    )
    (row,) = server.db.sql("SELECT id FROM address WHERE name = ?", created["address"])
    return created, int(row[0])


def remaining(server: Server, address: str) -> dict[str, int]:
    counts = {}
    for table in ("raw_mails", "auto_reply_mails", "sendbox", "address_sender"):
        counts[table] = server.db.sql(f"SELECT COUNT(*) FROM {table} WHERE address = ?", address)[0][0]
    counts["address"] = server.db.sql("SELECT COUNT(*) FROM address WHERE name = ?", address)[0][0]
    return counts


@pytest.mark.parametrize(
    ("clean_type", "column"), [("inactiveAddress", "updated_at"), ("addressCreated", "created_at")]
)
def test_batched_address_kinds_take_their_data(private: Server, clean_type: str, column: str) -> None:
    year = "2003" if clean_type == "inactiveAddress" else "2004"
    made = [with_data(private) for _ in range(3)]
    for day, (_, address_id) in zip((3, 1, 2), made, strict=True):
        age(private, "address", column, f"{year}-01-0{day} 00:00:00", "id = ?", address_id)
    cleanup(private, {"cleanType": clean_type, "cleanDays": 1})
    gone = {
        created["address"] for created, _ in made if remaining(private, created["address"])["address"] == 0
    }
    assert gone == {made[1][0]["address"], made[2][0]["address"]}, "one batch, oldest first"
    for address in gone:
        assert set(remaining(private, address).values()) == {0}
    kept = made[0][0]["address"]
    assert remaining(private, kept) == {
        "raw_mails": 1,
        "auto_reply_mails": 1,
        "sendbox": 1,
        "address_sender": 1,
        "address": 1,
    }
    cleanup(private, {"cleanType": clean_type, "cleanDays": 1})
    assert set(remaining(private, kept).values()) == {0}


def test_unbound_and_empty_addresses_all_at_once(private: Server) -> None:
    empty = [private.new_address()["address"] for _ in range(3)]
    full, _ = with_data(private)
    for address in [*empty, full["address"]]:
        age(private, "address", "created_at", "2005-01-01 00:00:00", "name = ?", address)
    cleanup(private, {"cleanType": "emptyAddress", "cleanDays": 1})
    assert [remaining(private, a)["address"] for a in empty] == [0, 0, 0]
    assert remaining(private, full["address"])["address"] == 1
    cleanup(private, {"cleanType": "unboundAddress", "cleanDays": 1})
    assert set(remaining(private, full["address"]).values()) == {0}


def test_auto_cleanup_is_null_until_saved_then_exactly_what_was_posted(private: Server) -> None:
    assert private.admin("GET", "/admin/auto_cleanup").text == "null"
    wanted = {
        "enableMailsAutoCleanup": True,
        "cleanMailsDays": 7,
        "somethingElse": {"kept": ["as", "is"]},
        "customSqlCleanupList": [
            {
                "id": "1",
                "name": "spam",
                "sql": "DELETE FROM raw_mails WHERE source LIKE '%spam%';",
                "enabled": True,
            },
            {"id": "2", "name": "blank", "sql": "", "enabled": False},
        ],
    }
    assert private.admin("POST", "/admin/auto_cleanup", json=wanted).json() == {"success": True}
    assert private.admin("GET", "/admin/auto_cleanup").json() == wanted
    private.admin("POST", "/admin/auto_cleanup", json={})
    assert private.admin("GET", "/admin/auto_cleanup").json() == {}


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ({"name": "a", "sql": "   "}, "[a]: SQL statement is empty"),
        ({"name": "a", "sql": " ; "}, "[a]: SQL statement is empty"),
        (
            {"sql": "DELETE FROM raw_mails WHERE id > " + "1" * 1000},
            "[unnamed]: SQL statement is too long (max 1000 characters)",
        ),
        ({"name": "", "sql": "DROP TABLE raw_mails; -- x"}, "[unnamed]: Only DELETE statements are allowed"),
        ({"name": "b", "sql": "DELETE\nFROM raw_mails"}, "[b]: Only DELETE statements are allowed"),
        (
            {"name": "c", "sql": "DELETE FROM raw_mails; DELETE FROM sendbox;"},
            "[c]: Only single SQL statement is allowed",
        ),
        ({"name": "d", "sql": "DELETE FROM raw_mails -- all"}, "[d]: SQL comments are not allowed"),
        ({"name": "e", "sql": "delete FROM raw_mails /* all */"}, "[e]: SQL comments are not allowed"),
        (
            {"name": "f", "sql": "DELETE FROM address"},
            "[f]: Only DELETE from raw_mails or sendbox is allowed",
        ),
    ],
)
def test_custom_sql_checks_in_the_references_order(server: Server, rule: dict[str, str], text: str) -> None:
    before = server.admin("GET", "/admin/auto_cleanup").text
    response = server.admin("POST", "/admin/auto_cleanup", json={"customSqlCleanupList": [rule]})
    assert (response.status_code, response.text) == (400, text)
    assert server.admin("GET", "/admin/auto_cleanup").text == before
