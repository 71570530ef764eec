"""COMPAT §1.1 and §18: the configuration read as cloudflare_temp_email v1.12 reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tempmail.config import ConfigError, Settings, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    "key", ["DOMAINS", "DEFAULT_DOMAINS", "RANDOM_SUBDOMAIN_DOMAINS", "SEND_MAIL_DOMAINS"]
)
def test_domain_lists_are_trimmed_lowered_and_without_empties(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setenv(key, '[" A.Example ", "", "  ", "b.EXAMPLE"]')
    assert getattr(load_settings(), key) == ["a.example", "b.example"]


@pytest.mark.parametrize("value", ["[]", "", '[""]'])
def test_empty_default_domains_fall_back_to_domains(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("DOMAINS", '["a.example", "b.example"]')
    monkeypatch.setenv("DEFAULT_DOMAINS", value)
    assert load_settings().default_domains == ["a.example", "b.example"]


def test_default_domains_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOMAINS", '["a.example", "b.example"]')
    monkeypatch.setenv("DEFAULT_DOMAINS", '["B.example"]')
    assert load_settings().default_domains == ["b.example"]


def test_prefix_is_applied_trim_lowered_and_kept_raw(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFIX", " TMP ")
    settings = load_settings()
    assert settings.address_prefix == "tmp"
    assert settings.PREFIX == " TMP "
    assert settings.prefix_for(None) == "tmp"


def test_roles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOMAINS", '["a.example", "b.example"]')
    monkeypatch.setenv("DEFAULT_DOMAINS", '["b.example"]')
    monkeypatch.setenv("PREFIX", "Tmp")
    monkeypatch.setenv(
        "USER_ROLES",
        '[{"role": "one", "domains": " A.Example ", "prefix": " VIP "},'
        ' {"role": "none", "domains": ["", " "], "prefix": ""},'
        ' {"role": "plain"}]',
    )
    one, none, plain = load_settings().USER_ROLES
    settings = load_settings()
    assert one.domains == ["a.example"] and settings.domains_for(one) == ["a.example"]
    assert settings.prefix_for(one) == "vip"
    assert none.domains == [] and settings.domains_for(none) == ["b.example"]
    assert settings.prefix_for(none) == "", "a string prefix, even empty, wins over PREFIX"
    assert settings.prefix_for(plain) == "tmp", "no prefix key: PREFIX"
    assert settings.domains_for(plain) == ["b.example"]


def test_role_domains_fall_back_to_domains_when_default_domains_is_empty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOMAINS", '["a.example"]')
    monkeypatch.setenv("DEFAULT_DOMAINS", "[]")
    monkeypatch.setenv("USER_ROLES", '[{"domains": [], "role": "vip", "prefix": "VIP"}]')
    settings = load_settings()
    assert settings.domains_for(settings.USER_ROLES[0]) == ["a.example"]


def test_smtp_config_keys_are_lowered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_CONFIG", '{"Mail.EXAMPLE": {"host": "smtp.example"}}')
    assert list(load_settings().SMTP_CONFIG) == ["mail.example"]


def test_forward_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORWARD_ADDRESS_LIST", '["keep@remote.example"]')
    monkeypatch.setenv(
        "SUBDOMAIN_FORWARD_ADDRESS_LIST", '[{"domains": ["Sub.Example", ""], "forward": "f@remote.example"}]'
    )
    settings = load_settings()
    assert settings.FORWARD_ADDRESS_LIST == ["keep@remote.example"]
    assert settings.SUBDOMAIN_FORWARD_ADDRESS_LIST[0].domains == ["sub.example"]
    assert settings.SUBDOMAIN_FORWARD_ADDRESS_LIST[0].forward == "f@remote.example"


def test_passwords_drop_empty_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_PASSWORDS", '["", "secret"]')
    monkeypatch.setenv("PASSWORDS", '["site", ""]')
    settings = load_settings()
    assert (settings.ADMIN_PASSWORDS, settings.PASSWORDS) == (["secret"], ["site"])


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), ("true", True), ("false", False)])
def test_subdomain_match_has_three_states(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: bool | None
) -> None:
    if value is not None:
        monkeypatch.setenv("ENABLE_CREATE_ADDRESS_SUBDOMAIN_MATCH", value)
    settings = load_settings()
    assert settings.ENABLE_CREATE_ADDRESS_SUBDOMAIN_MATCH is expected
    assert settings.subdomain_match_env is bool(expected)


@pytest.mark.parametrize(
    "key", ["ENABLE_WEBHOOK", "ENABLE_AUTO_REPLY", "DISABLE_SHOW_GITHUB", "ENABLE_INDEX_ABOUT"]
)
def test_empty_boolean_is_false(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setenv(key, "")
    assert getattr(load_settings(), key) is False


REFERENCE_ONLY_VARIABLES = {
    "ENABLE_AI_EMAIL_EXTRACT": "true",
    "AI_EXTRACT_MODEL": "@cf/meta/llama-3.1-8b-instruct",
    "SMTP_IMAP_PROXY_CONFIG": (
        '{"smtp": {"host": "proxy.example"}, "imap": {"host": "proxy.example", "port": 993}}'
    ),
    "ENABLE_INDEX_ABOUT": "true",
    "DISABLE_SHOW_GITHUB": "true",
    "DISABLE_SHOW_GITHUB_FOR_USER": "true",
    "ENABLE_AGENT_EMAIL_INFO": "true",
    "SUBDOMAIN_FORWARD_ADDRESS_LIST": "[]",
    "SEND_MAIL_DOMAINS": '["a.example"]',
    "S3_ENDPOINT": "https://s3.example",
    "S3_ACCESS_KEY_ID": "id",
    "S3_SECRET_ACCESS_KEY": "secret",
    "S3_BUCKET": "bucket",
    "S3_URL_EXPIRES": "600",
    "ENABLE_GLOBAL_TURNSTILE_CHECK": "true",
    "CF_TURNSTILE_SITE_KEY": "site",
    "CF_TURNSTILE_SECRET_KEY": "secret",
    "ENABLE_ANOTHER_WORKER": "true",
    "ANOTHER_WORKER_LIST": '[{"binding": "AI_WORKER", "method": "rpcEmail", "keywords": ["code"]}]',
    "TELEGRAM_BOT_TOKEN": "123:abc",
    "TG_MAX_ADDRESS": "5",
    "TG_ALLOW_USER_LANG": "true",
}


def test_every_reference_variable_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in REFERENCE_ONLY_VARIABLES.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert settings.SMTP_IMAP_PROXY_CONFIG.smtp.host == "proxy.example"
    assert settings.SMTP_IMAP_PROXY_CONFIG.smtp.port == 8025
    assert settings.SMTP_IMAP_PROXY_CONFIG.imap.port == 993
    assert settings.S3_URL_EXPIRES == 600
    assert settings.ENABLE_ANOTHER_WORKER is True and len(settings.ANOTHER_WORKER_LIST) == 1


def test_proxy_ports_default(monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = load_settings().SMTP_IMAP_PROXY_CONFIG
    assert (proxy.smtp.port, proxy.imap.port) == (8025, 11143)


@pytest.mark.parametrize(("key", "value"), [("DOMAINS", "{"), ("SMTP_IMAP_PROXY_CONFIG", "{not json")])
def test_unparseable_values_still_stop_start_up(
    monkeypatch: pytest.MonkeyPatch, key: str, value: str
) -> None:
    monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert key in str(error.value)


def test_cleanup_batch_size_out_of_range_warns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CLEANUP_BATCH_SIZE", "9999")
    assert load_settings().CLEANUP_BATCH_SIZE == 3000
    assert "CLEANUP_BATCH_SIZE" in caplog.text


WRANGLER_TOML = """
name = "cloudflare_temp_email"
main = "src/worker.ts"
compatibility_date = "2024-09-23"
compatibility_flags = [ "nodejs_compat" ]

[triggers]
crons = [ "0 */1 * * *" ]

[vars]
PREFIX = "TMP"
MIN_ADDRESS_LEN = 1
MAX_ADDRESS_LEN = 30
DEFAULT_DOMAINS = []
DOMAINS = ["Mail.Example", "OTHER.example"]
JWT_SECRET = "xxx"
BLACK_LIST = ""
ENABLE_USER_CREATE_EMAIL = true
ENABLE_USER_DELETE_EMAIL = true
ENABLE_AUTO_REPLY = false
ENABLE_WEBHOOK = true
USER_ROLES = [
    { domains = ["Mail.Example"], role = "vip", prefix = "VIP" },
    { domains = [], role = "admin", prefix = "" },
]
ANOTHER_WORKER_LIST = [{ binding = "AUTH_INBOX", method = "rpcEmail", keywords = ["verify"] }]
CLEANUP_BATCH_SIZE = 9999

[[d1_databases]]
binding = "DB"
database_name = "temp-email-db"
database_id = "xxx"
"""


def test_the_references_wrangler_toml(tmp_path: Path) -> None:
    config = tmp_path / "wrangler.toml"
    config.write_text(WRANGLER_TOML)
    settings = load_settings(config)
    assert settings.DOMAINS == ["mail.example", "other.example"]
    assert settings.default_domains == ["mail.example", "other.example"]
    assert settings.address_prefix == "tmp"
    vip, admin = settings.USER_ROLES
    assert (settings.prefix_for(vip), settings.domains_for(vip)) == ("vip", ["mail.example"])
    assert (settings.prefix_for(admin), settings.domains_for(admin)) == (
        "",
        ["mail.example", "other.example"],
    )
    assert settings.ENABLE_WEBHOOK is True and settings.CLEANUP_BATCH_SIZE == 3000
