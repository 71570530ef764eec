"""Settings: every accepted spelling, the environment over the TOML file, and errors naming keys."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tempmail.config import ConfigError, Settings, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own environment must not leak into what these tests read."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    settings = load_settings()
    assert settings.DOMAINS == ["localhost"]
    assert settings.default_domains == ["localhost"]
    assert settings.MAX_MESSAGE_SIZE == 26_214_400
    assert settings.DATABASE_URL == "sqlite:///./tempmail.db"
    assert settings.http_host_port == ("0.0.0.0", 8787)
    assert settings.smtp_host_port == ("0.0.0.0", 2525)
    assert settings.ENABLE_USER_CREATE_EMAIL is False
    assert (settings.MIN_ADDRESS_LEN, settings.MAX_ADDRESS_LEN) == (1, 30)


@pytest.mark.parametrize("value", ['["a.com", "B.com"]', "a.com,B.com", " a.com , B.com "])
def test_lists(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("DOMAINS", value)
    assert load_settings().DOMAINS == ["a.com", "b.com"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("TRUE", True), ("1", True), ("false", False), ("False", False), ("0", False)],
)
def test_booleans(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv("ENABLE_USER_CREATE_EMAIL", value)
    assert load_settings().ENABLE_USER_CREATE_EMAIL is expected


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ENABLE_USER_CREATE_EMAIL", "yes"),
        ("ENABLE_USER_CREATE_EMAIL", "ture"),
        ("MAX_MESSAGE_SIZE", "abc"),
        ("MAX_MESSAGE_SIZE", "-5"),
        ("DOMAINS", "{"),
        ("USER_ROLES", "{not json"),
        ("SMTP_CONFIG", '{"a.com": {"port": 25}}'),
        ("ADDRESS_REGEX", "[unclosed"),
        ("DATABASE_URL", "mysql://x"),
        ("HTTP_LISTEN", "no-port"),
        ("SMTP_LISTEN", "0.0.0.0:99999"),
        ("WORKERS", "many"),
    ],
)
def test_bad_values_name_the_key(monkeypatch: pytest.MonkeyPatch, key: str, value: str) -> None:
    monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert key in str(error.value)


def test_structured_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER_ROLES", '[{"domains": ["vip.com"], "role": "vip", "prefix": "v"}]')
    monkeypatch.setenv("SMTP_CONFIG", '{"a.com": {"host": "smtp.a.com", "port": 465, "secure": true}}')
    settings = load_settings()
    assert settings.USER_ROLES[0].role == "vip" and settings.USER_ROLES[0].domains == ["vip.com"]
    assert settings.SMTP_CONFIG["a.com"].secure is True


def test_min_over_max_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reference has no such check (creation then always fails): start anyway."""
    monkeypatch.setenv("MIN_ADDRESS_LEN", "10")
    monkeypatch.setenv("MAX_ADDRESS_LEN", "5")
    settings = load_settings()
    assert (settings.MIN_ADDRESS_LEN, settings.MAX_ADDRESS_LEN) == (10, 5)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("CLEANUP_BATCH_SIZE", "99999", 3000),
        ("CLEANUP_BATCH_SIZE", "0", 3000),
        ("CLEANUP_BATCH_SIZE", "many", 3000),
        ("CLEANUP_BATCH_SIZE", "5000", 5000),
        ("MIN_ADDRESS_LEN", "0", 1),
        ("MAX_ADDRESS_LEN", "-3", 1),
        ("RANDOM_SUBDOMAIN_LENGTH", "0", 1),
        ("RANDOM_SUBDOMAIN_LENGTH", "100", 63),
    ],
)
def test_out_of_range_numbers_are_brought_into_range(
    monkeypatch: pytest.MonkeyPatch, key: str, value: str, expected: int
) -> None:
    monkeypatch.setenv(key, value)
    assert getattr(load_settings(), key) == expected


def test_tls_needs_both_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_TLS_CERT", "/tmp/cert.pem")
    with pytest.raises(ConfigError, match="SMTP_TLS_KEY"):
        load_settings()


def test_toml_file_and_environment_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "tempmail.toml"
    config.write_text(
        'DOMAINS = ["file.example"]\nENABLE_USER_CREATE_EMAIL = true\nMAX_ADDRESS_LEN = 12\n'
        'PASSWORDS = "a,b"\n'
    )
    settings = load_settings(config)
    assert settings.DOMAINS == ["file.example"]
    assert settings.ENABLE_USER_CREATE_EMAIL is True
    assert settings.MAX_ADDRESS_LEN == 12
    assert settings.PASSWORDS == ["a", "b"]
    monkeypatch.setenv("DOMAINS", "env.example")
    assert load_settings(config).DOMAINS == ["env.example"]


@pytest.mark.parametrize(("value", "expected"), [(None, os.cpu_count()), ("0", os.cpu_count()), ("3", 3)])
def test_workers(monkeypatch: pytest.MonkeyPatch, value: str | None, expected: int) -> None:
    """One per core unless set; the flag (an override) wins."""
    if value is not None:
        monkeypatch.setenv("WORKERS", value)
    assert load_settings().worker_count == expected
    assert load_settings(WORKERS=1).worker_count == 1


def test_workers_share_the_database_pool() -> None:
    """DATABASE_POOL_SIZE stays what one node keeps open, however many workers it runs."""
    assert load_settings(WORKERS=1, DATABASE_POOL_SIZE=10).worker_pool_size == 10
    assert load_settings(WORKERS=3, DATABASE_POOL_SIZE=10).worker_pool_size == 4
    assert load_settings(WORKERS=16, DATABASE_POOL_SIZE=10).worker_pool_size == 1


@pytest.mark.parametrize("override", [{}, {"WORKERS": -1}])
def test_negative_workers_name_the_key(monkeypatch: pytest.MonkeyPatch, override: dict[str, int]) -> None:
    if not override:
        monkeypatch.setenv("WORKERS", "-2")
    with pytest.raises(ConfigError, match="WORKERS"):
        load_settings(**override)


def test_flags_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_LISTEN", "127.0.0.1:1")
    assert load_settings(HTTP_LISTEN="127.0.0.1:9000").http_host_port == ("127.0.0.1", 9000)


@pytest.mark.parametrize("content", ["DOMAINS = [", "MAX_MESSAGE_SIZE = 'big'"])
def test_bad_toml(tmp_path: Path, content: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(content)
    with pytest.raises(ConfigError):
        load_settings(config)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "absent.toml")
