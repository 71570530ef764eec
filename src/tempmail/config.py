"""Settings, read from environment variables named as in cloudflare_temp_email, or a TOML file.

The environment wins over the TOML file so that one file can be shared by several nodes and
overridden per node. Lists accept a JSON array or a comma-separated string, booleans
true/false/1/0; a value that does not parse stops start-up with a message naming the key.
"""

from __future__ import annotations

import json
import os
import re
import socket
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

StrList = Annotated[list[str], NoDecode]
RESEND_TOKEN_PREFIX = "RESEND_TOKEN_"


class ConfigError(Exception):
    """A setting has a value that cannot be used; the message names the key."""


class UserRole(BaseModel):
    """One entry of USER_ROLES: the domains and prefix a role's users create addresses with."""

    role: str
    domains: list[str] = Field(default_factory=list)
    prefix: str = ""


class SmtpRelay(BaseModel):
    """One entry of SMTP_CONFIG: the relay used for mail sent from one domain."""

    host: str
    port: int = 587
    secure: bool = False
    authType: list[str] = Field(default_factory=lambda: ["plain", "login"])
    credentials: dict[str, str] = Field(default_factory=dict)
    # Ours: false accepts a self-signed relay certificate (a relay on the same host or LAN).
    validateCerts: bool = True


def _parse_list(value: Any) -> Any:
    """Accept a JSON array or a comma-separated string for list settings."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if text.startswith("["):
            return json.loads(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


def _parse_json(value: Any) -> Any:
    """Structured settings (USER_ROLES, SMTP_CONFIG) come as JSON text from the environment."""
    if isinstance(value, str):
        return json.loads(value) if value.strip() else None
    return value


def _parse_bool(value: Any) -> Any:
    """Only true/false/1/0 (any case): a typo like `ture` must stop start-up, not mean false."""
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0", ""):
            return False
        raise ValueError("expected true/false/1/0")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return value


def _host_port(value: str, key: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"{key}: expected HOST:PORT, got {value!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


class Settings(BaseSettings):
    """Every setting of CONFIG.md. Field names are the environment variable names."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    # Server (tempmail's own)
    DATABASE_URL: str = "sqlite:///./tempmail.db"
    HTTP_LISTEN: str = "0.0.0.0:8787"
    SMTP_LISTEN: str = "0.0.0.0:2525"
    SMTP_HOSTNAME: str = Field(default_factory=socket.getfqdn)
    SMTP_TLS_CERT: str = ""
    SMTP_TLS_KEY: str = ""
    MAX_MESSAGE_SIZE: int = Field(default=26_214_400, gt=0)
    TRUSTED_PROXIES: StrList = Field(default_factory=list)
    LOG_LEVEL: str = "info"
    # Ours: the DNS server SPF/DKIM/DMARC checks ask (`HOST[:PORT]`); the system's when empty.
    DNS_RESOLVER: str = ""

    # Carried over from cloudflare_temp_email
    DOMAINS: StrList = Field(default_factory=lambda: ["localhost"])
    DEFAULT_DOMAINS: StrList | None = None
    DOMAIN_LABELS: StrList = Field(default_factory=list)
    JWT_SECRET: str = ""
    ADMIN_PASSWORDS: StrList = Field(default_factory=list)
    PASSWORDS: StrList = Field(default_factory=list)
    DISABLE_ADMIN_PASSWORD_CHECK: bool = False
    PREFIX: str = ""
    MIN_ADDRESS_LEN: int = Field(default=1, ge=1)
    MAX_ADDRESS_LEN: int = Field(default=30, ge=1)
    ADDRESS_REGEX: str = "[^a-z0-9]"
    ADDRESS_CHECK_REGEX: str = ""
    DISABLE_CUSTOM_ADDRESS_NAME: bool = False
    CREATE_ADDRESS_DEFAULT_DOMAIN_FIRST: bool = False
    ENABLE_CREATE_ADDRESS_SUBDOMAIN_MATCH: bool = False
    RANDOM_SUBDOMAIN_DOMAINS: StrList = Field(default_factory=list)
    RANDOM_SUBDOMAIN_LENGTH: int = Field(default=8, ge=1, le=63)
    ENABLE_USER_CREATE_EMAIL: bool = False
    DISABLE_ANONYMOUS_USER_CREATE_EMAIL: bool = False
    ENABLE_USER_DELETE_EMAIL: bool = False
    ENABLE_ADDRESS_PASSWORD: bool = False
    ENABLE_AUTO_REPLY: bool = False
    ENABLE_WEBHOOK: bool = False
    DEFAULT_SEND_BALANCE: int = Field(default=0, ge=0)
    NO_LIMIT_SEND_ROLE: StrList = Field(default_factory=list)
    USER_ROLES: Annotated[list[UserRole], NoDecode] = Field(default_factory=list)
    USER_DEFAULT_ROLE: str = ""
    ADMIN_USER_ROLE: str = ""
    BLACK_LIST: StrList = Field(default_factory=list)
    ENABLE_CHECK_JUNK_MAIL: bool = False
    JUNK_MAIL_CHECK_LIST: StrList = Field(default_factory=list)
    JUNK_MAIL_FORCE_PASS_LIST: StrList = Field(default_factory=list)
    FORWARD_ADDRESS_LIST: StrList = Field(default_factory=list)
    REMOVE_EXCEED_SIZE_ATTACHMENT: bool = False
    REMOVE_ALL_ATTACHMENT: bool = False
    ENABLE_MAIL_GZIP: bool = False
    CLEANUP_BATCH_SIZE: int = Field(default=3000, ge=1, le=5000)
    TITLE: str = ""
    ANNOUNCEMENT: str = ""
    ALWAYS_SHOW_ANNOUNCEMENT: bool = False
    ADMIN_CONTACT: str = ""
    COPYRIGHT: str = ""
    STATUS_URL: str = ""
    DEFAULT_LANG: str = "en"
    FRONTEND_URL: str = ""
    E2E_TEST_MODE: bool = False
    SMTP_CONFIG: Annotated[dict[str, SmtpRelay], NoDecode] = Field(default_factory=dict)
    RESEND_TOKEN: str = ""
    # RESEND_TOKEN_<DOMAIN> variables, keyed by <DOMAIN> (`EXAMPLE_COM`); gathered by load_settings.
    RESEND_TOKENS: dict[str, str] = Field(default_factory=dict)
    RESEND_API_URL: str = "https://api.resend.com"
    TELEGRAM_BOT_TOKEN: str = ""

    @field_validator(
        "TRUSTED_PROXIES",
        "DOMAINS",
        "DEFAULT_DOMAINS",
        "DOMAIN_LABELS",
        "ADMIN_PASSWORDS",
        "PASSWORDS",
        "RANDOM_SUBDOMAIN_DOMAINS",
        "NO_LIMIT_SEND_ROLE",
        "BLACK_LIST",
        "JUNK_MAIL_CHECK_LIST",
        "JUNK_MAIL_FORCE_PASS_LIST",
        "FORWARD_ADDRESS_LIST",
        mode="before",
    )
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _parse_list(value)

    @field_validator("DOMAINS", "DEFAULT_DOMAINS", "RANDOM_SUBDOMAIN_DOMAINS", mode="after")
    @classmethod
    def _lower_domains(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [d.strip().lower() for d in value]

    @field_validator("USER_ROLES", "SMTP_CONFIG", mode="before")
    @classmethod
    def _json(cls, value: Any, info: ValidationInfo) -> Any:
        parsed = _parse_json(value)
        if parsed is None:
            return {} if info.field_name == "SMTP_CONFIG" else []
        return parsed

    @field_validator(
        "DISABLE_ADMIN_PASSWORD_CHECK",
        "DISABLE_CUSTOM_ADDRESS_NAME",
        "CREATE_ADDRESS_DEFAULT_DOMAIN_FIRST",
        "ENABLE_CREATE_ADDRESS_SUBDOMAIN_MATCH",
        "ENABLE_USER_CREATE_EMAIL",
        "DISABLE_ANONYMOUS_USER_CREATE_EMAIL",
        "ENABLE_USER_DELETE_EMAIL",
        "ENABLE_ADDRESS_PASSWORD",
        "ENABLE_AUTO_REPLY",
        "ENABLE_WEBHOOK",
        "ENABLE_CHECK_JUNK_MAIL",
        "REMOVE_EXCEED_SIZE_ATTACHMENT",
        "REMOVE_ALL_ATTACHMENT",
        "ENABLE_MAIL_GZIP",
        "ALWAYS_SHOW_ANNOUNCEMENT",
        "E2E_TEST_MODE",
        mode="before",
    )
    @classmethod
    def _bools(cls, value: Any) -> Any:
        return _parse_bool(value)

    @field_validator("ADDRESS_REGEX", "ADDRESS_CHECK_REGEX")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except (re.error, OverflowError, RecursionError) as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value

    @field_validator("DATABASE_URL")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(
            ("sqlite:", "sqlite+aiosqlite:", "postgresql:", "postgres:", "postgresql+asyncpg:")
        ):
            raise ValueError("expected sqlite:///path or postgresql://user:pw@host:port/db")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Init kwargs carry the TOML file's values; the environment must win over them.
        return (env_settings, init_settings)

    # Derived values -------------------------------------------------------------------

    @property
    def default_domains(self) -> list[str]:
        """Domains offered to anonymous users: DEFAULT_DOMAINS, or all DOMAINS when unset."""
        return self.DEFAULT_DOMAINS if self.DEFAULT_DOMAINS is not None else self.DOMAINS

    @property
    def http_host_port(self) -> tuple[str, int]:
        return _host_port(self.HTTP_LISTEN, "HTTP_LISTEN")

    @property
    def smtp_host_port(self) -> tuple[str, int]:
        return _host_port(self.SMTP_LISTEN, "SMTP_LISTEN")


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the TOML file (if any) and the environment; raise ConfigError naming the bad key.

    `overrides` come from command-line flags and win over everything else.
    """
    file_values: dict[str, Any] = {}
    if config_file is not None:
        try:
            file_values = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config file {config_file}: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {config_file} is not valid TOML: {exc}") from exc
    resend_tokens = {
        key.removeprefix(RESEND_TOKEN_PREFIX): str(value)
        for key, value in {**file_values, **os.environ}.items()
        if key.startswith(RESEND_TOKEN_PREFIX) and value
    }
    file_values = {k: v for k, v in file_values.items() if not k.startswith(RESEND_TOKEN_PREFIX)}
    try:
        settings = Settings(**file_values)
        if resend_tokens:
            settings = settings.model_copy(update={"RESEND_TOKENS": resend_tokens})
        if overrides:
            settings = settings.model_copy(update=overrides)
        settings.http_host_port  # noqa: B018 - validated here so a bad value stops start-up
        settings.smtp_host_port  # noqa: B018
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from exc
    if settings.MIN_ADDRESS_LEN > settings.MAX_ADDRESS_LEN:
        raise ConfigError("MIN_ADDRESS_LEN: must not be greater than MAX_ADDRESS_LEN")
    if bool(settings.SMTP_TLS_CERT) != bool(settings.SMTP_TLS_KEY):
        raise ConfigError("SMTP_TLS_CERT and SMTP_TLS_KEY: set both or neither")
    return settings


def _describe(exc: ValidationError) -> str:
    """One line per bad key: `KEY: what was expected (got value)`."""
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "configuration"
        lines.append(f"{key}: {error['msg']} (got {error.get('input')!r})")
    return "invalid configuration:\n  " + "\n  ".join(lines)
