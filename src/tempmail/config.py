"""Settings, read from environment variables named as in cloudflare_temp_email, or a TOML file.

The environment wins over the TOML file so that one file can be shared by several nodes and
overridden per node. Lists accept a JSON array or a comma-separated string, booleans
true/false/1/0; a value that does not parse stops start-up with a message naming the key.

Values are read as cloudflare_temp_email v1.12 reads them (COMPAT.md §1.1), so its own
configuration works unchanged: domain lists trimmed, lower-cased and without empty entries, an
empty DEFAULT_DOMAINS or role `domains` meaning "all", PREFIX applied trim-lowered, and numbers
the reference bounds at use time (CLEANUP_BATCH_SIZE, MIN/MAX_ADDRESS_LEN,
RANDOM_SUBDOMAIN_LENGTH) brought into range with a warning rather than refused.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import socket
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

StrList = Annotated[list[str], NoDecode]
# The cloudflare_temp_email release whose API we speak: the API reports it as its version (clients
# compare it), while the CLI and the UI show our own package version.
REFERENCE_VERSION = "v1.12.0"
RESEND_TOKEN_PREFIX = "RESEND_TOKEN_"
DEFAULT_CLEANUP_BATCH_SIZE = 3000
DEFAULT_ADDRESS_REGEX = "[^a-z0-9]"
MAX_CLEANUP_BATCH_SIZE = 5000
MAX_SUBDOMAIN_LENGTH = 63

log = logging.getLogger(__name__)


class ConfigError(Exception):
    """A setting has a value that cannot be used; the message names the key."""


def normalise_domains(values: list[str]) -> list[str]:
    """Trimmed, lower-cased, empties dropped: how the reference reads every list of domains."""
    return [lowered for value in values if (lowered := value.strip().lower())]


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


# The `domains` of an entry of USER_ROLES or SUBDOMAIN_FORWARD_ADDRESS_LIST: a list, or a single
# string meaning a one-element list, normalised like every list of domains.
EntryDomains = Annotated[list[str], BeforeValidator(_one_or_many), AfterValidator(normalise_domains)]


class UserRole(BaseModel):
    """One entry of USER_ROLES: the domains and prefix a role's users create addresses with.

    `domains` may be one string (a one-element list, as in the reference); `prefix` is None when
    the entry has no such key (PREFIX applies) and a string, even "", when it has one.
    """

    role: str
    domains: EntryDomains = Field(default_factory=list)
    prefix: str | None = None

    @field_validator("prefix")
    @classmethod
    def _lower_prefix(cls, value: str | None) -> str | None:
        return None if value is None else value.strip().lower()


class SubdomainForward(BaseModel):
    """One entry of SUBDOMAIN_FORWARD_ADDRESS_LIST: mail to these domains is copied to `forward`."""

    domains: EntryDomains = Field(default_factory=list)
    forward: str


class ProxyEndpoint(BaseModel):
    """Where the SMTP/IMAP proxy of the reference listens, shown to clients in /open_api/settings."""

    host: str = ""
    port: int
    starttls: bool = False


class SmtpImapProxy(BaseModel):
    """SMTP_IMAP_PROXY_CONFIG, with the reference's default ports (8025 and 11143)."""

    smtp: ProxyEndpoint = Field(default_factory=lambda: ProxyEndpoint(port=8025))
    imap: ProxyEndpoint = Field(default_factory=lambda: ProxyEndpoint(port=11143))

    @model_validator(mode="before")
    @classmethod
    def _default_ports(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        filled = dict(value)
        for key, port in (("smtp", 8025), ("imap", 11143)):
            part = filled.get(key)
            if isinstance(part, dict) and not part.get("port"):
                filled[key] = {**part, "port": port}
            elif part is None:
                filled.pop(key, None)
        return filled


class SmtpRelay(BaseModel):
    """One entry of SMTP_CONFIG: the relay used for mail sent from one domain."""

    host: str
    port: int = 587
    secure: bool = False
    authType: list[str] = Field(default_factory=lambda: ["plain", "login"])
    credentials: dict[str, str] = Field(default_factory=dict)
    # Ours: false accepts a self-signed relay certificate (a relay on the same host or LAN).
    validateCerts: bool = True


class AllowedNetwork(BaseModel):
    """One OUTBOUND_ALLOW_NETWORKS entry: addresses that webhooks and OAuth2 may reach although
    they are not public (security/outbound.py), on one port or, when `port` is None, any."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    port: int | None = Field(default=None, ge=1, le=65535)

    def admits(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int) -> bool:
        return address in self.network and (self.port is None or self.port == port)


def _allowed_network(value: Any) -> Any:
    """`10.0.0.0/8`, `127.0.0.1`, `::1`, or one of them on one port: `127.0.0.1:8080`,
    `[::1]:8080`, `[fd00::/8]:443`."""
    if not isinstance(value, str):
        return value
    text, port = value.strip(), None
    if text.startswith("["):
        text, sep, port = text[1:].partition("]:")
        if not sep:
            raise ValueError(f"{value!r}: expected [IPV6]:PORT or [NETWORK]:PORT")
    elif text.count(":") == 1:
        text, _, port = text.partition(":")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address or network") from None
    return {"network": network, "port": port}


def _parse_list(value: Any) -> Any:
    """Accept a JSON array or a comma-separated string for list settings (JSON that is not an
    array, such as `{`, is refused rather than read as a one-item list)."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if text.startswith(("[", "{")):
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


def _bounded_int(value: Any, key: str, low: int, high: int, default: int) -> int:
    """The reference bounds some numbers at use time: out of range (or not a whole number at
    all) gives the default, with a warning, instead of stopping start-up."""
    try:
        number = int(str(value).strip())
    except ValueError:
        number = None
    if number is not None and low <= number <= high:
        return number
    log.warning("%s=%r is not a whole number in %d..%d; using %d", key, value, low, high, default)
    return default


def _clamped_int(value: Any, key: str, low: int, high: int | None) -> Any:
    """A whole number brought into low..high (with a warning when it had to move); anything that
    is not a number is left for the field's own validation (which names the key)."""
    try:
        number = int(str(value).strip())
    except ValueError:
        return value
    clamped = max(low, number if high is None else min(number, high))
    if clamped != number:
        log.warning("%s=%d is out of range; using %d", key, number, clamped)
    return clamped


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
    # PostgreSQL connections one node keeps open (as many again for bursts), shared out among its
    # workers: with several nodes (or many test servers) on one database, their sum must stay
    # under max_connections.
    DATABASE_POOL_SIZE: int = Field(default=10, ge=1, le=1000)
    HTTP_LISTEN: str = "0.0.0.0:8787"
    SMTP_LISTEN: str = "0.0.0.0:2525"
    # Processes sharing the two ports (`--workers`); 0 = one per core. Checked by worker_count.
    WORKERS: int = 0
    SMTP_HOSTNAME: str = Field(default_factory=socket.getfqdn)
    SMTP_TLS_CERT: str = ""
    SMTP_TLS_KEY: str = ""
    # Ours: the certificate of the mail-client ports (IMAP, and its STARTTLS); unset, the SMTP
    # one (SMTP_TLS_CERT/SMTP_TLS_KEY) serves them too, so one pair of PEM files is enough.
    TLS_CERT_FILE: str = ""
    TLS_KEY_FILE: str = ""
    # Ours: the IMAP server (tempmail.imap), off when empty; `IMAP_TLS_LISTEN` is its port of TLS
    # from the first byte (1993 documented), which needs a certificate. Without one the plain
    # port refuses logins (LOGINDISABLED) to all but loopback, unless IMAP_ALLOW_PLAINTEXT.
    IMAP_LISTEN: str = ""
    IMAP_TLS_LISTEN: str = ""
    IMAP_ALLOW_PLAINTEXT: bool = False
    # Ours: SMTP submission for mail clients (tempmail.submission), off when empty; 1587
    # documented, with STARTTLS, and SUBMISSION_TLS_LISTEN (1465) with TLS from the first byte,
    # both on the certificate above. AUTH only over TLS unless SUBMISSION_ALLOW_PLAINTEXT.
    SUBMISSION_LISTEN: str = ""
    SUBMISSION_TLS_LISTEN: str = ""
    SUBMISSION_ALLOW_PLAINTEXT: bool = False
    MAX_MESSAGE_SIZE: int = Field(default=26_214_400, gt=0)
    # SMTP sessions: seconds a client may stay silent before it is cut off, and how many
    # connections one worker keeps open per client address and in all (see inbound/smtp.py).
    SMTP_IDLE_TIMEOUT: float = Field(default=60.0, gt=0)
    # Seconds between the comment lines an idle event stream sends (GET /api/events).
    EVENTS_HEARTBEAT_SECONDS: float = Field(default=15.0, gt=0)
    SMTP_MAX_CONNECTIONS_PER_IP: int = Field(default=20, gt=0)
    SMTP_MAX_CONNECTIONS: int = Field(default=1000, gt=0)
    TRUSTED_PROXIES: StrList = Field(default_factory=list)
    LOG_LEVEL: str = "info"
    # Ours: the DNS server SPF/DKIM/DMARC checks ask (`HOST[:PORT]`); the system's when empty.
    DNS_RESOLVER: str = ""
    # Ours: what webhooks and OAuth2 may reach besides public addresses (see AllowedNetwork).
    OUTBOUND_ALLOW_NETWORKS: Annotated[
        list[Annotated[AllowedNetwork, BeforeValidator(_allowed_network)]], NoDecode
    ] = Field(default_factory=list)
    # Ours: per client IP and RATE_LIMIT_WINDOW seconds, the address/account creations, refused
    # logins and wrong admin passwords allowed before 429 (0 = no limit), and the longest a
    # client that keeps going is refused for (see tempmail.http.rate_limit).
    RATE_LIMIT_WINDOW: int = Field(default=60, ge=1)
    RATE_LIMIT_CREATIONS: int = Field(default=300, ge=0)
    RATE_LIMIT_LOGIN_FAILURES: int = Field(default=10, ge=0)
    RATE_LIMIT_ADMIN_FAILURES: int = Field(default=10, ge=0)
    RATE_LIMIT_MAX_BLOCK: int = Field(default=3600, ge=1)
    # Ours: every scheduled job on this interval in seconds (0 = each its own; tests and trials).
    JOBS_INTERVAL_SECONDS: float = Field(default=0, ge=0)
    # Ours: the outbox of what follows a stored mail (forward, webhook, auto-reply; see
    # tempmail.inbound.outbox): how long a worker's claim on a delivery lasts unrenewed before
    # another worker or node may take it over, and how many attempts it gets before it is kept
    # as failed.
    DELIVERY_LEASE_SECONDS: float = Field(default=60, ge=3)
    DELIVERY_MAX_ATTEMPTS: int = Field(default=10, ge=1, le=1000)

    # Carried over from cloudflare_temp_email
    DOMAINS: StrList = Field(default_factory=lambda: ["localhost"])
    DEFAULT_DOMAINS: StrList | None = None
    DOMAIN_LABELS: StrList = Field(default_factory=list)
    JWT_SECRET: str = ""
    ADMIN_PASSWORDS: StrList = Field(default_factory=list)
    PASSWORDS: StrList = Field(default_factory=list)
    DISABLE_ADMIN_PASSWORD_CHECK: bool = False
    PREFIX: str = ""
    MIN_ADDRESS_LEN: int = 1
    MAX_ADDRESS_LEN: int = 30
    ADDRESS_REGEX: str = DEFAULT_ADDRESS_REGEX
    ADDRESS_CHECK_REGEX: str = ""
    DISABLE_CUSTOM_ADDRESS_NAME: bool = False
    CREATE_ADDRESS_DEFAULT_DOMAIN_FIRST: bool = False
    # Three states (COMPAT §11.4): None = not configured, so the admin's override decides.
    ENABLE_CREATE_ADDRESS_SUBDOMAIN_MATCH: bool | None = None
    RANDOM_SUBDOMAIN_DOMAINS: StrList = Field(default_factory=list)
    RANDOM_SUBDOMAIN_LENGTH: int = 8
    ENABLE_USER_CREATE_EMAIL: bool = False
    DISABLE_ANONYMOUS_USER_CREATE_EMAIL: bool = False
    ENABLE_USER_DELETE_EMAIL: bool = False
    ENABLE_ADDRESS_PASSWORD: bool = False
    ENABLE_AUTO_REPLY: bool = False
    # tempmail's own: no auto-reply to automated mail (RFC 3834). Off = the reference's behaviour.
    AUTO_REPLY_SKIP_AUTOMATED: bool = False
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
    SUBDOMAIN_FORWARD_ADDRESS_LIST: Annotated[list[SubdomainForward], NoDecode] = Field(default_factory=list)
    REMOVE_EXCEED_SIZE_ATTACHMENT: bool = False
    REMOVE_ALL_ATTACHMENT: bool = False
    ENABLE_MAIL_GZIP: bool = False
    CLEANUP_BATCH_SIZE: int = DEFAULT_CLEANUP_BATCH_SIZE
    TITLE: str = ""
    ANNOUNCEMENT: str = ""
    ALWAYS_SHOW_ANNOUNCEMENT: bool = False
    ADMIN_CONTACT: str = ""
    COPYRIGHT: str = ""
    STATUS_URL: str = ""
    # zh, en, es, pt-BR (or pt), ja or de: the language of error texts without `x-lang`, and of
    # pages whose browser names none of ours. Kept as written (the reference reports it as it
    # is); any other value means English and never stops start-up, as in the reference.
    DEFAULT_LANG: str = "en"
    FRONTEND_URL: str = ""
    E2E_TEST_MODE: bool = False
    SMTP_CONFIG: Annotated[dict[str, SmtpRelay], NoDecode] = Field(default_factory=dict)
    RESEND_TOKEN: str = ""
    # RESEND_TOKEN_<DOMAIN> variables, keyed by <DOMAIN> (`EXAMPLE_COM`); gathered by load_settings.
    RESEND_TOKENS: dict[str, str] = Field(default_factory=dict)
    RESEND_API_URL: str = "https://api.resend.com"
    TELEGRAM_BOT_TOKEN: str = ""
    # The most addresses one Telegram user holds through the bot (the reference's TG_MAX_ADDRESS).
    TG_MAX_ADDRESS: int = Field(default=5, ge=0)
    # tempmail's own: how updates reach the bot: "webhook" (Telegram calls /telegram/webhook,
    # registered by POST /admin/telegram/init) or "polling" (one node asks getUpdates).
    TELEGRAM_MODE: Literal["webhook", "polling"] = "webhook"
    # tempmail's own: the Bot API server (a local telegram-bot-api server, or a test's fake).
    TELEGRAM_API_URL: str = "https://api.telegram.org"
    # tempmail's own: the webhook URL /admin/telegram/init registers (else
    # <the URL the admin called it on>/telegram/webhook).
    TELEGRAM_WEBHOOK_URL: str = ""
    # tempmail's own: seconds one getUpdates long poll waits in polling mode.
    TELEGRAM_POLL_TIMEOUT: int = Field(default=25, ge=0, le=50)
    # Read and reported as the reference does (COMPAT §3, §5, §18); most have no effect here
    # (no Workers AI, Turnstile, S3 presigning or service bindings), but none stops start-up.
    SEND_MAIL_DOMAINS: StrList = Field(default_factory=list)
    ENABLE_AI_EMAIL_EXTRACT: bool = False
    AI_EXTRACT_MODEL: str = ""
    SMTP_IMAP_PROXY_CONFIG: Annotated[SmtpImapProxy, NoDecode] = Field(default_factory=SmtpImapProxy)
    ENABLE_INDEX_ABOUT: bool = False
    DISABLE_SHOW_GITHUB: bool = False
    DISABLE_SHOW_GITHUB_FOR_USER: bool = False
    ENABLE_AGENT_EMAIL_INFO: bool = False
    S3_ENDPOINT: str = ""
    S3_ACCESS_KEY_ID: str = ""
    S3_SECRET_ACCESS_KEY: str = ""
    S3_BUCKET: str = ""
    S3_URL_EXPIRES: int = 360
    ENABLE_GLOBAL_TURNSTILE_CHECK: bool = False
    CF_TURNSTILE_SITE_KEY: str = ""
    CF_TURNSTILE_SECRET_KEY: str = ""
    ENABLE_ANOTHER_WORKER: bool = False
    ANOTHER_WORKER_LIST: Annotated[list[Any], NoDecode] = Field(default_factory=list)

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
        "SEND_MAIL_DOMAINS",
        "OUTBOUND_ALLOW_NETWORKS",
        mode="before",
    )
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _parse_list(value)

    @field_validator("DOMAINS", "DEFAULT_DOMAINS", "RANDOM_SUBDOMAIN_DOMAINS", "SEND_MAIL_DOMAINS")
    @classmethod
    def _lower_domains(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else normalise_domains(value)

    @field_validator("ADMIN_PASSWORDS", "PASSWORDS")
    @classmethod
    def _drop_empty(cls, value: list[str]) -> list[str]:
        return [item for item in value if item]

    @field_validator(
        "USER_ROLES",
        "SMTP_CONFIG",
        "SUBDOMAIN_FORWARD_ADDRESS_LIST",
        "SMTP_IMAP_PROXY_CONFIG",
        "ANOTHER_WORKER_LIST",
        mode="before",
    )
    @classmethod
    def _json(cls, value: Any, info: ValidationInfo) -> Any:
        parsed = _parse_json(value)
        if parsed is None:
            return {} if info.field_name in ("SMTP_CONFIG", "SMTP_IMAP_PROXY_CONFIG") else []
        return parsed

    @field_validator("SMTP_CONFIG")
    @classmethod
    def _lower_relay_domains(cls, value: dict[str, SmtpRelay]) -> dict[str, SmtpRelay]:
        """Looked up by the sender's (lower-cased) domain, as the reference matches keys."""
        return {domain.strip().lower(): relay for domain, relay in value.items()}

    @field_validator("CLEANUP_BATCH_SIZE", mode="before")
    @classmethod
    def _batch_size(cls, value: Any) -> int:
        return _bounded_int(
            value, "CLEANUP_BATCH_SIZE", 1, MAX_CLEANUP_BATCH_SIZE, DEFAULT_CLEANUP_BATCH_SIZE
        )

    @field_validator("MIN_ADDRESS_LEN", "MAX_ADDRESS_LEN", "RANDOM_SUBDOMAIN_LENGTH", mode="before")
    @classmethod
    def _clamped(cls, value: Any, info: ValidationInfo) -> Any:
        high = MAX_SUBDOMAIN_LENGTH if info.field_name == "RANDOM_SUBDOMAIN_LENGTH" else None
        return _clamped_int(value, str(info.field_name), 1, high)

    @field_validator("ENABLE_CREATE_ADDRESS_SUBDOMAIN_MATCH", mode="before")
    @classmethod
    def _three_state(cls, value: Any) -> Any:
        """An empty value is "not configured", not false (COMPAT §11.4)."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return _parse_bool(value)

    @field_validator(
        "DISABLE_ADMIN_PASSWORD_CHECK",
        "DISABLE_CUSTOM_ADDRESS_NAME",
        "CREATE_ADDRESS_DEFAULT_DOMAIN_FIRST",
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
        "ENABLE_AI_EMAIL_EXTRACT",
        "ENABLE_INDEX_ABOUT",
        "DISABLE_SHOW_GITHUB",
        "DISABLE_SHOW_GITHUB_FOR_USER",
        "ENABLE_AGENT_EMAIL_INFO",
        "ENABLE_GLOBAL_TURNSTILE_CHECK",
        "ENABLE_ANOTHER_WORKER",
        "IMAP_ALLOW_PLAINTEXT",
        "SUBMISSION_ALLOW_PLAINTEXT",
        mode="before",
    )
    @classmethod
    def _bools(cls, value: Any) -> Any:
        return _parse_bool(value)

    @field_validator("ADDRESS_REGEX", mode="before")
    @classmethod
    def _default_regex(cls, value: Any) -> Any:
        """Empty means the default, as in the reference (an empty pattern would strip nothing)."""
        return value if value != "" else DEFAULT_ADDRESS_REGEX

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
        """Domains offered to anonymous users: DEFAULT_DOMAINS, or all DOMAINS when it is unset
        or empty (the reference's fallback: `DEFAULT_DOMAINS=[]` means every domain)."""
        return self.DEFAULT_DOMAINS or self.DOMAINS

    @property
    def address_prefix(self) -> str:
        """PREFIX as the reference applies it: trimmed and lower-cased (PREFIX itself stays raw,
        as /admin/worker/configs shows it)."""
        return self.PREFIX.strip().lower()

    @property
    def address_regex(self) -> str:
        """The characters removed from a new name (ADDRESS_REGEX, default `[^a-z0-9]`)."""
        return self.ADDRESS_REGEX

    @property
    def configured_address_regex(self) -> str:
        """ADDRESS_REGEX as configured, "" when it is not (what /open_api/settings reports; the
        default still applies to new names)."""
        return self.ADDRESS_REGEX if "ADDRESS_REGEX" in self.model_fields_set else ""

    @property
    def subdomain_match_env(self) -> bool:
        """ENABLE_CREATE_ADDRESS_SUBDOMAIN_MATCH as a boolean (not configured = false)."""
        return bool(self.ENABLE_CREATE_ADDRESS_SUBDOMAIN_MATCH)

    def prefix_for(self, role: UserRole | None) -> str:
        """The prefix of a new address: the role's own when its entry has a `prefix` key (even
        "", meaning none), else PREFIX; both trim-lowered."""
        if role is not None and role.prefix is not None:
            return role.prefix
        return self.address_prefix

    def domains_for(self, role: UserRole | None) -> list[str]:
        """The domains a new address may take: the role's, or DEFAULT_DOMAINS (itself falling
        back to DOMAINS) when it has none."""
        if role is not None and role.domains:
            return role.domains
        return self.default_domains

    @property
    def http_host_port(self) -> tuple[str, int]:
        return _host_port(self.HTTP_LISTEN, "HTTP_LISTEN")

    @property
    def smtp_host_port(self) -> tuple[str, int]:
        return _host_port(self.SMTP_LISTEN, "SMTP_LISTEN")

    @property
    def imap_host_port(self) -> tuple[str, int] | None:
        """Where IMAP listens; None when it is off (IMAP_LISTEN empty)."""
        return _host_port(self.IMAP_LISTEN, "IMAP_LISTEN") if self.IMAP_LISTEN else None

    @property
    def imap_tls_host_port(self) -> tuple[str, int] | None:
        """Where IMAP over TLS from the first byte listens; None when it is off."""
        return _host_port(self.IMAP_TLS_LISTEN, "IMAP_TLS_LISTEN") if self.IMAP_TLS_LISTEN else None

    @property
    def submission_host_port(self) -> tuple[str, int] | None:
        """Where SMTP submission listens; None when it is off (SUBMISSION_LISTEN empty)."""
        return _host_port(self.SUBMISSION_LISTEN, "SUBMISSION_LISTEN") if self.SUBMISSION_LISTEN else None

    @property
    def submission_tls_host_port(self) -> tuple[str, int] | None:
        """Where SMTP submission over TLS from the first byte listens; None when it is off."""
        if not self.SUBMISSION_TLS_LISTEN:
            return None
        return _host_port(self.SUBMISSION_TLS_LISTEN, "SUBMISSION_TLS_LISTEN")

    @property
    def mail_client_tls(self) -> tuple[str, str] | None:
        """(certificate, key) PEM paths of the mail-client ports: TLS_CERT_FILE/TLS_KEY_FILE, else
        SMTP_TLS_CERT/SMTP_TLS_KEY; None when neither pair is set."""
        if self.TLS_CERT_FILE:
            return self.TLS_CERT_FILE, self.TLS_KEY_FILE
        if self.SMTP_TLS_CERT:
            return self.SMTP_TLS_CERT, self.SMTP_TLS_KEY
        return None

    @property
    def worker_pool_size(self) -> int:
        """DATABASE_POOL_SIZE shared out among the workers, so that a node keeps the
        connections the setting says however many workers it runs."""
        return self.worker_share(self.DATABASE_POOL_SIZE)

    def worker_share(self, total: int) -> int:
        """One worker's share of what the whole server has `total` of (rounded up)."""
        return -(-total // self.worker_count)

    @property
    def worker_count(self) -> int:
        """How many worker processes `tempmail serve` runs: WORKERS, or one per core when 0."""
        if self.WORKERS < 0:
            raise ConfigError(f"WORKERS (--workers): expected 0 (one per core) or more, got {self.WORKERS}")
        return self.WORKERS or os.cpu_count() or 1


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the TOML file (if any) and the environment; raise ConfigError naming the bad key.

    `overrides` come from command-line flags and win over everything else. The reference's
    `wrangler.toml` works as the file too: the settings of its `[vars]` table are read, and its
    Cloudflare keys (`name`, `[[d1_databases]]`, ...) ignored.
    """
    file_values: dict[str, Any] = {}
    if config_file is not None:
        try:
            file_values = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config file {config_file}: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {config_file} is not valid TOML: {exc}") from exc
        wrangler_vars = file_values.pop("vars", None)
        if isinstance(wrangler_vars, dict):
            file_values = {**wrangler_vars, **file_values}
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
        settings.worker_count  # noqa: B018 - the flag too, which model_copy does not validate
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from exc
    if bool(settings.SMTP_TLS_CERT) != bool(settings.SMTP_TLS_KEY):
        raise ConfigError("SMTP_TLS_CERT and SMTP_TLS_KEY: set both or neither")
    if bool(settings.TLS_CERT_FILE) != bool(settings.TLS_KEY_FILE):
        raise ConfigError("TLS_CERT_FILE and TLS_KEY_FILE: set both or neither")
    settings.imap_host_port  # noqa: B018 - validated here so a bad value stops start-up
    if settings.imap_tls_host_port is not None and settings.mail_client_tls is None:
        raise ConfigError("IMAP_TLS_LISTEN: needs a certificate (TLS_CERT_FILE and TLS_KEY_FILE)")
    _check_submission(settings)
    return settings


def _check_submission(settings: Settings) -> None:
    """Submission's ports parse, and a client can log in on them: with a certificate, or over
    plaintext when the operator says so (a port where every AUTH is refused is a mistake)."""
    plain, tls = settings.submission_host_port, settings.submission_tls_host_port
    if tls is not None and settings.mail_client_tls is None:
        raise ConfigError("SUBMISSION_TLS_LISTEN: needs a certificate (TLS_CERT_FILE and TLS_KEY_FILE)")
    if plain is not None and settings.mail_client_tls is None and not settings.SUBMISSION_ALLOW_PLAINTEXT:
        raise ConfigError(
            "SUBMISSION_LISTEN: logins need STARTTLS, so a certificate (TLS_CERT_FILE and "
            "TLS_KEY_FILE), or SUBMISSION_ALLOW_PLAINTEXT=true"
        )


def _describe(exc: ValidationError) -> str:
    """One line per bad key: `KEY: what was expected (got value)`."""
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "configuration"
        lines.append(f"{key}: {error['msg']} (got {error.get('input')!r})")
    return "invalid configuration:\n  " + "\n  ".join(lines)
