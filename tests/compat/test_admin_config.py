"""COMPAT §5: `/admin/config/{key}`, `POST /admin/config`, `/admin/worker/configs` and the
reference's version strings in `/admin/db_version`."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import ServerFactory
from tests.support import Server

WORKER_CONFIG_KEYS = [
    "DEFAULT_LANG", "TITLE", "HAS_PASSWORD", "HAS_ADMIN_PASSWORDS", "ANNOUNCEMENT",
    "ALWAYS_SHOW_ANNOUNCEMENT", "PREFIX", "ADDRESS_CHECK_REGEX", "ADDRESS_REGEX", "MIN_ADDRESS_LEN",
    "MAX_ADDRESS_LEN", "FORWARD_ADDRESS_LIST", "SUBDOMAIN_FORWARD_ADDRESS_LIST", "DEFAULT_DOMAINS",
    "DOMAINS", "ENABLE_CREATE_ADDRESS_SUBDOMAIN_MATCH", "RANDOM_SUBDOMAIN_DOMAINS",
    "RANDOM_SUBDOMAIN_LENGTH", "DOMAIN_LABELS", "HAS_JWT_SECRET", "ADMIN_USER_ROLE",
    "USER_DEFAULT_ROLE", "USER_ROLES", "NO_LIMIT_SEND_ROLE", "ADMIN_CONTACT",
    "ENABLE_USER_CREATE_EMAIL", "DISABLE_ANONYMOUS_USER_CREATE_EMAIL", "ENABLE_USER_DELETE_EMAIL",
    "ENABLE_AUTO_REPLY", "COPYRIGHT", "ENABLE_WEBHOOK", "S3_ENABLED", "VERSION", "DISABLE_SHOW_GITHUB",
    "DISABLE_SHOW_GITHUB_FOR_USER", "DISABLE_ADMIN_PASSWORD_CHECK", "ENABLE_CHECK_JUNK_MAIL",
    "JUNK_MAIL_CHECK_LIST", "JUNK_MAIL_FORCE_PASS_LIST", "REMOVE_EXCEED_SIZE_ATTACHMENT",
    "REMOVE_ALL_ATTACHMENT", "ENABLE_ANOTHER_WORKER", "ANOTHER_WORKER_LIST",
]  # fmt: skip


def unique_key() -> str:
    return f"ui.theme-{uuid.uuid4().hex[:8]}"


def test_config_round_trip(server: Server) -> None:
    key = unique_key()
    assert server.admin("GET", f"/admin/config/{key}").json() == {"key": key, "value": None}
    saved = server.admin("POST", "/admin/config", json={"key": key, "value": "dark"})
    assert saved.json() == {"success": True, "key": key, "value": "dark"}
    assert server.admin("GET", f"/admin/config/{key}").json() == {"key": key, "value": "dark"}
    server.admin("POST", "/admin/config", json={"key": key, "value": ""})
    assert server.admin("GET", f"/admin/config/{key}").json() == {"key": key, "value": ""}


@pytest.mark.parametrize("key", ["-starts-with-dash", "has space", "x" * 65, "ü"])
def test_bad_keys(server: Server, key: str) -> None:
    response = server.admin("GET", f"/admin/config/{key}")
    assert (response.status_code, response.text) == (400, "Invalid config key")
    response = server.admin("POST", "/admin/config", json={"key": key, "value": "v"})
    assert (response.status_code, response.text) == (400, "Invalid config key")


@pytest.mark.parametrize("body", [{"value": "v"}, {"key": 5, "value": "v"}, [], None])
def test_post_needs_a_string_key(server: Server, body: object) -> None:
    response = server.admin("POST", "/admin/config", json=body)
    assert (response.status_code, response.text) == (400, "Invalid config key")


@pytest.mark.parametrize("value", [5, None, ["a"], {"a": 1}, True])
def test_post_needs_a_string_value(server: Server, value: object) -> None:
    response = server.admin("POST", "/admin/config", json={"key": unique_key(), "value": value})
    assert (response.status_code, response.text) == (400, "Config value must be a string")


def test_texts_stay_english_in_chinese(server: Server) -> None:
    response = server.admin("GET", "/admin/config/-x", headers={"x-lang": "zh"})
    assert response.text == "Invalid config key"


def test_config_needs_the_admin(server: Server) -> None:
    assert server.client.get("/admin/config/theme").status_code == 401
    assert server.client.get("/admin/worker/configs").status_code == 401


def test_config_keys_do_not_collide_with_our_settings(server: Server) -> None:
    server.admin("POST", "/admin/config", json={"key": "account_settings", "value": "x"})
    assert server.admin("GET", "/admin/account_settings").status_code == 200
    assert server.admin("GET", "/admin/config/account_settings").json()["value"] == "x"


def test_worker_configs(make_server: ServerFactory) -> None:
    configured = make_server(
        PREFIX="TMP",
        PASSWORDS='["a", "b"]',
        DEFAULT_DOMAINS="[]",
        USER_ROLES='[{"domains": "Example.ORG", "role": "vip", "prefix": "VIP"}, {"role": "plain"}]',
        NO_LIMIT_SEND_ROLE="vip, plain",
        CLEANUP_BATCH_SIZE="9999",
        JWT_SECRET="a-very-secret-value-that-must-not-leak-0123456789",
    )
    response = configured.admin("GET", "/admin/worker/configs", headers={"x-custom-auth": "a"})
    configs = response.json()
    assert list(configs) == WORKER_CONFIG_KEYS
    assert configs["PREFIX"] == "TMP", "raw, not lower-cased"
    assert (configs["HAS_PASSWORD"], configs["HAS_ADMIN_PASSWORDS"]) == (2, 1)
    assert configs["DEFAULT_DOMAINS"] == ["test.example", "example.org"]
    assert configs["DOMAINS"] == ["test.example", "example.org"]
    assert configs["USER_ROLES"] == [
        {"domains": ["example.org"], "role": "vip", "prefix": "vip"},
        {"domains": [], "role": "plain"},
    ]
    assert configs["NO_LIMIT_SEND_ROLE"] == ["vip", "plain"]
    assert configs["VERSION"] == "v1.12.0"
    assert (configs["MIN_ADDRESS_LEN"], configs["MAX_ADDRESS_LEN"]) == (1, 30)
    assert configs["RANDOM_SUBDOMAIN_LENGTH"] == 8
    assert configs["HAS_JWT_SECRET"] is True
    assert configs["ENABLE_CREATE_ADDRESS_SUBDOMAIN_MATCH"] is False
    assert (configs["S3_ENABLED"], configs["ENABLE_ANOTHER_WORKER"], configs["ANOTHER_WORKER_LIST"]) == (
        False,
        False,
        [],
    )
    text = response.text
    for secret in ("a-very-secret-value", "admin-test-password", "test-jwt-secret"):
        assert secret not in text


def test_db_version_reports_the_reference_versions(server: Server) -> None:
    version = server.admin("GET", "/admin/db_version").json()
    assert version["need_initialization"] is False
    assert version["need_migration"] is False
    assert version["current_db_version"] == "v0.0.7"
    assert version["code_db_version"] == "v0.0.7"
    assert isinstance(version["database_size"], int) and version["database_size"] > 0
