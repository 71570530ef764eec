"""COMPAT §11.1–§11.4: `/admin/account_settings` as cloudflare_temp_email v1.12 answers it — one
settings row per item, the GET shape, a POST checked as a whole before anything is written, and
the effective subdomain match (ENABLE_CREATE_ADDRESS_SUBDOMAIN_MATCH=false is a kill switch).

Account settings are global to a server, so every test here has a server of its own settings."""

from __future__ import annotations

import json
import smtplib
from typing import Any

import httpx
import pytest

from tests.conftest import ServerFactory
from tests.support import Server

SUCCESS = json.dumps({"success": True}, separators=(",", ":"))
REQUIRED = {"blockList": [], "sendBlockList": [], "verifiedAddressList": []}
KEYS = (
    "address_block_list",
    "send_block_list",
    "verified_address_list",
    "temp-mail-email-black-list",
    "no_limit_send_address_list",
    "email_rule_settings",
    "address_creation_settings",
    "send_mail_limit_config",
)


def post(server: Server, body: Any, **headers: str) -> tuple[int, str]:
    response = server.admin("POST", "/admin/account_settings", json=body, headers=headers)
    return response.status_code, response.text


def get(server: Server) -> dict[str, Any]:
    return dict(server.admin("GET", "/admin/account_settings").json())


def stored(server: Server) -> dict[str, Any]:
    marks = ", ".join("?" for _ in KEYS)
    rows = server.db.sql(f"SELECT key, value FROM settings WHERE key IN ({marks})", *KEYS)
    return {key: json.loads(value) for key, value in rows}


def test_get_before_anything_is_stored(make_server: ServerFactory) -> None:
    server = make_server(TITLE="compat-account-fresh")
    assert get(server) == {
        "blockList": [],
        "sendBlockList": [],
        "verifiedAddressList": [],
        "fromBlockList": [],
        "noLimitSendAddressList": [],
        "emailRuleSettings": {},
        "addressCreationSettings": {},
        "addressCreationSubdomainMatchStatus": {
            "envConfigured": False,
            "envEnabled": False,
            "effectiveEnabled": False,
        },
        "sendMailLimitConfig": None,
    }


def test_post_writes_one_row_per_item(make_server: ServerFactory) -> None:
    server = make_server(TITLE="compat-account-rows")
    rules = {"blockReceiveUnknowAddressEmail": False, "emailForwardingList": []}
    body = {
        "blockList": ["admin"],
        "sendBlockList": ["spam.example"],
        "verifiedAddressList": [],
        "fromBlockList": ["bad.example"],
        "noLimitSendAddressList": ["boss@test.example"],
        "emailRuleSettings": rules,
        "addressCreationSettings": {"enableSubdomainMatch": True},
        "sendMailLimitConfig": {"dailyEnabled": True, "monthlyEnabled": False, "dailyLimit": 5},
    }
    assert post(server, body) == (200, SUCCESS)
    limits = {"dailyEnabled": True, "monthlyEnabled": False, "dailyLimit": 5, "monthlyLimit": None}
    assert stored(server) == {
        "address_block_list": ["admin"],
        "send_block_list": ["spam.example"],
        "verified_address_list": [],
        "temp-mail-email-black-list": ["bad.example"],
        "no_limit_send_address_list": ["boss@test.example"],
        "email_rule_settings": rules,
        "address_creation_settings": {"enableSubdomainMatch": True},
        "send_mail_limit_config": limits,
    }
    assert not server.db.sql("SELECT key FROM settings WHERE key = 'account_settings'")
    got = get(server)
    assert got["addressCreationSettings"] == {"enableSubdomainMatch": True}
    assert got["addressCreationSubdomainMatchStatus"] == {
        "envConfigured": False,
        "envEnabled": False,
        "storedEnabled": True,
        "effectiveEnabled": True,
    }
    assert got["sendMailLimitConfig"] == limits
    # Missing optional items: noLimitSendAddressList -> [], emailRuleSettings -> {}; an empty
    # fromBlockList keeps the stored one; the override and the quota stay when not sent.
    assert post(server, {**REQUIRED, "fromBlockList": []}) == (200, SUCCESS)
    got = get(server)
    assert (got["noLimitSendAddressList"], got["emailRuleSettings"]) == ([], {})
    assert got["fromBlockList"] == ["bad.example"]
    assert got["addressCreationSettings"] == {"enableSubdomainMatch": True}
    assert got["sendMailLimitConfig"] == limits


@pytest.mark.parametrize("missing", ["blockList", "sendBlockList", "verifiedAddressList"])
def test_the_three_lists_are_required(make_server: ServerFactory, missing: str) -> None:
    server = make_server(TITLE="compat-account-required")
    assert post(server, {**REQUIRED, "sendBlockList": ["keep.example"]})[0] == 200
    body = {**REQUIRED, "sendBlockList": ["other.example"]}
    del body[missing]
    assert post(server, body) == (400, "Invalid input")
    assert post(server, {**body, missing: None}) == (400, "Invalid input")
    assert post(server, {**body, missing: ""}) == (400, "Invalid input")
    assert get(server)["sendBlockList"] == ["keep.example"]


@pytest.mark.parametrize(
    "bad",
    [
        {"addressCreationSettings": None},
        {"addressCreationSettings": []},
        {"addressCreationSettings": "on"},
        {"addressCreationSettings": {"enableSubdomainMatch": "yes"}},
        {"sendMailLimitConfig": {"dailyEnabled": "true", "monthlyEnabled": False}},
        {"sendMailLimitConfig": None},
        {"blockList": "admin"},
        {"emailRuleSettings": []},
        {"emailRuleSettings": {"emailForwardingList": 5}},
    ],
)
def test_a_bad_payload_changes_nothing(make_server: ServerFactory, bad: dict[str, Any]) -> None:
    server = make_server(TITLE="compat-account-atomic")
    before = {**REQUIRED, "blockList": ["kept"], "sendBlockList": ["kept.example"]}
    assert post(server, before)[0] == 200
    snapshot = stored(server)
    changed = {**before, "blockList": ["changed"], "noLimitSendAddressList": ["x@test.example"], **bad}
    assert post(server, changed) == (400, "Invalid input")
    assert stored(server) == snapshot


def test_a_body_that_is_not_a_json_object(make_server: ServerFactory) -> None:
    server = make_server(TITLE="compat-account-atomic")
    for content in (b"{oops", b"[]", b"null", b'"text"'):
        response = server.admin(
            "POST", "/admin/account_settings", content=content, headers={"content-type": "application/json"}
        )
        assert (response.status_code, response.text) == (400, "Invalid input")


def test_verified_addresses_need_a_send_binding(make_server: ServerFactory) -> None:
    server = make_server(TITLE="compat-account-verified")
    body = {**REQUIRED, "verifiedAddressList": ["v@else.example"], "blockList": ["nope"]}
    assert post(server, body) == (400, "Please enable SEND_MAIL first")
    assert post(server, body, **{"x-lang": "zh"}) == (400, "请先启用 SEND_MAIL")
    assert get(server)["blockList"] == []


def test_the_override_is_set_cleared_or_left(make_server: ServerFactory) -> None:
    server = make_server(TITLE="compat-account-override")
    assert post(server, {**REQUIRED, "addressCreationSettings": {"enableSubdomainMatch": False}})[0] == 200
    assert get(server)["addressCreationSettings"] == {"enableSubdomainMatch": False}
    assert post(server, {**REQUIRED, "addressCreationSettings": {}})[0] == 200
    assert get(server)["addressCreationSettings"] == {"enableSubdomainMatch": False}
    assert post(server, {**REQUIRED, "addressCreationSettings": {"enableSubdomainMatch": None}})[0] == 200
    got = get(server)
    assert got["addressCreationSettings"] == {}
    assert "storedEnabled" not in got["addressCreationSubdomainMatchStatus"]
    assert "address_creation_settings" not in stored(server)


@pytest.mark.parametrize(
    ("env", "stored_value", "status"),
    [
        ("false", True, {"envConfigured": True, "envEnabled": False, "effectiveEnabled": False}),
        ("true", False, {"envConfigured": True, "envEnabled": True, "effectiveEnabled": False}),
        ("true", None, {"envConfigured": True, "envEnabled": True, "effectiveEnabled": True}),
        ("", True, {"envConfigured": False, "envEnabled": False, "effectiveEnabled": True}),
    ],
)
def test_effective_subdomain_match(
    make_server: ServerFactory, env: str, stored_value: bool | None, status: dict[str, bool]
) -> None:
    server = make_server(ENABLE_CREATE_ADDRESS_SUBDOMAIN_MATCH=env)
    override = {"enableSubdomainMatch": stored_value}
    assert post(server, {**REQUIRED, "addressCreationSettings": override})[0] == 200
    expected = {**status, "storedEnabled": stored_value} if stored_value is not None else status
    assert get(server)["addressCreationSubdomainMatchStatus"] == expected
    created = server.client.post("/api/new_address", json={"name": "sub", "domain": "mail.test.example"})
    mail = b"Subject: on a subdomain\r\n\r\nhello\r\n"
    if status["effectiveEnabled"]:
        assert created.status_code == 200, created.text
        address = created.json()["address"]
        assert address.endswith("@mail.test.example")
        # What may be created must also receive: SMTP follows the same effective value.
        server.send(address, mail)
        assert server.mails(created.json()["jwt"])["count"] == 1
    else:
        assert (created.status_code, created.text) == (400, "Failed to create address: Invalid domain")
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            server.send("sub@mail.test.example", mail)


def test_the_merged_document_of_older_versions_is_migrated(backend: str) -> None:
    """A database written by tempmail before this change kept one `account_settings` document;
    the migration spreads it over the reference's keys (the old 0 = no limit becomes disabled)."""
    server = Server(backend, {"TITLE": "compat-account-migration"}).start()
    try:
        server.stop()
        legacy = {
            "blockList": ["root"],
            "sendBlockList": [],
            "fromBlockList": ["junk.example"],
            "noLimitSendAddressList": ["a@test.example"],
            "emailRuleSettings": {"blockReceiveUnknowAddressEmail": True},
            "addressCreationSettings": {"enableSubdomainMatch": True},
            "addressCreationSubdomainMatchStatus": None,
            "sendMailLimitConfig": {"dailyLimit": 0, "monthlyLimit": 30},
        }
        server.db.sql("UPDATE alembic_version SET version_num = '0002'")
        server.db.sql(
            "INSERT INTO settings (key, value, created_at, updated_at) "
            "VALUES ('account_settings', ?, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            if backend == "sqlite"
            else "INSERT INTO settings (key, value, created_at, updated_at) "
            "VALUES ('account_settings', ?, now(), now())",
            json.dumps(legacy),
        )
        server.start()
        server.client = httpx.Client(base_url=server.base_url, timeout=30)
        got = get(server)
        assert got["blockList"] == ["root"] and got["fromBlockList"] == ["junk.example"]
        assert got["noLimitSendAddressList"] == ["a@test.example"]
        assert got["emailRuleSettings"] == {"blockReceiveUnknowAddressEmail": True}
        assert got["addressCreationSettings"] == {"enableSubdomainMatch": True}
        assert got["sendMailLimitConfig"] == {
            "dailyEnabled": False,
            "monthlyEnabled": True,
            "dailyLimit": None,
            "monthlyLimit": 30,
        }
        assert not server.db.sql("SELECT key FROM settings WHERE key = 'account_settings'")
    finally:
        server.close()
