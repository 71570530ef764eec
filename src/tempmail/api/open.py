"""Public routes: the health check, `/open_api/settings` (what the UI needs before login) and the
three `/open_api/*` logins of the reference (COMPAT §3), which the site password does not guard.

`/` answers the health check too, to everyone but browsers: see `tempmail.web.pages`.
The logins take the SHA-256 hex of a password, as the reference's frontend sends it, and only
say whether it is right: the frontend then keeps the password and sends it on every request.
Turnstile is not available here, so its check is off (and reported off).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel

from tempmail.accounts.addresses import DOMAINS_NOT_SET
from tempmail.config import REFERENCE_VERSION, ProxyEndpoint, Settings, SmtpImapProxy
from tempmail.errors import ADDRESS_CREDENTIAL, ADMIN_PASSWORD, SITE_PASSWORD, ApiError
from tempmail.http.body import json_or_none
from tempmail.http.context import ServicesDep, services_of
from tempmail.http.openapi import answers, json_body
from tempmail.http.site_password import site_password_ok
from tempmail.maintenance.database import UNREACHABLE
from tempmail.security.passwords import matches_any, sha256_hex

router = APIRouter(tags=["open"])

SUCCESS = {"success": True}


class PasswordBody(BaseModel):
    """What the password logins read: anything but a string is taken as a wrong password."""

    password: str


class CredentialBody(BaseModel):
    """What `/open_api/credential_login` reads: an address JWT (anything else is refused)."""

    credential: str


# Read (not required) by `/open_api/settings`, whose `needAuth` says whether it is right.
SITE_PASSWORD_HEADER: dict[str, Any] = {
    "name": "x-custom-auth",
    "in": "header",
    "required": False,
    "description": "The site password, if the client has one: `needAuth` is false when it is one of "
    "PASSWORDS (or PASSWORDS is not set).",
    "schema": {"type": "string"},
}

# What `/open_api/settings` answers on a server with one domain and the default settings.
SETTINGS_EXAMPLE: dict[str, Any] = {
    "title": "",
    "announcement": "",
    "alwaysShowAnnouncement": False,
    "prefix": "tmp",
    "addressRegex": "",
    "minAddressLen": 1,
    "maxAddressLen": 30,
    "defaultDomains": ["mail.example"],
    "domains": ["mail.example"],
    "randomSubdomainDomains": [],
    "domainLabels": [],
    "needAuth": False,
    "adminContact": "",
    "enableUserCreateEmail": True,
    "disableAnonymousUserCreateEmail": False,
    "disableCustomAddressName": False,
    "enableUserDeleteEmail": True,
    "enableAutoReply": False,
    "enableIndexAbout": False,
    "copyright": "",
    "cfTurnstileSiteKey": "",
    "enableWebhook": False,
    "isS3Enabled": False,
    "enableSendMail": False,
    "version": REFERENCE_VERSION,
    "showGithub": True,
    "showGithubForUser": True,
    "disableAdminPasswordCheck": False,
    "enableAddressPassword": True,
    "enableAgentEmailInfo": False,
    "smtpImapProxyConfig": SmtpImapProxy().model_dump(),
    "statusUrl": "",
    "enableGlobalTurnstileCheck": False,
}


HEALTH_PATH = "/health_check"


@router.get(
    HEALTH_PATH,
    response_class=PlainTextResponse,
    responses={
        **answers({400: [DOMAINS_NOT_SET, UNREACHABLE]}),
        200: {"content": {"text/plain": {"example": "OK"}}},
    },
)
async def health(services: ServicesDep) -> str:
    """200 `OK` when the database answers and mail has somewhere to go (GETs come through
    `health_answer`, see `tempmail.http.fast_lane`)."""
    return await services.database.health()


async def health_answer(request: Request) -> Response:
    return PlainTextResponse(await health(services_of(request)))


async def _field(request: Request, name: str) -> str:
    """A string field of the JSON body; "" when the body or the field is not there or not text
    (which the logins then refuse like a wrong value)."""
    body = await json_or_none(request)
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) else ""


def _hash_matches(candidate: str, passwords: list[str]) -> bool:
    """Whether `candidate` is the SHA-256 hex of one of `passwords` (compared in constant time)."""
    return bool(passwords) and matches_any(candidate, [sha256_hex(p) for p in passwords])


@router.post(
    "/open_api/site_login",
    responses=answers({401: SITE_PASSWORD}, ok=SUCCESS),
    openapi_extra=json_body(PasswordBody),
)
async def site_login(request: Request, services: ServicesDep) -> dict[str, bool]:
    if not _hash_matches(await _field(request, "password"), services.settings.PASSWORDS):
        raise ApiError(401, SITE_PASSWORD)
    return SUCCESS


@router.post(
    "/open_api/admin_login",
    responses=answers({401: ADMIN_PASSWORD}, ok=SUCCESS),
    openapi_extra=json_body(PasswordBody),
)
async def admin_login(request: Request, services: ServicesDep) -> dict[str, bool]:
    """Against the admin passwords (ADMIN_PASSWORDS, or the generated one); with
    DISABLE_ADMIN_PASSWORD_CHECK and no password it is still a 401, as in the reference."""
    if not _hash_matches(await _field(request, "password"), services.admin_passwords):
        raise ApiError(401, ADMIN_PASSWORD)
    return SUCCESS


@router.post(
    "/open_api/credential_login",
    responses=answers({401: ADDRESS_CREDENTIAL}, ok=SUCCESS),
    openapi_extra=json_body(CredentialBody),
)
async def credential_login(request: Request, services: ServicesDep) -> dict[str, bool]:
    """A correctly signed address JWT naming an address; no database lookup (as the reference)."""
    payload = services.tokens.decode(await _field(request, "credential"))
    address = payload.get("address") if payload is not None else None
    if not isinstance(address, str) or not address:
        raise ApiError(401, ADDRESS_CREDENTIAL)
    return SUCCESS


def with_submission(cfg: Settings) -> SmtpImapProxy:
    """SMTP_IMAP_PROXY_CONFIG as the reference's frontend shows it to mail-client users, our SMTP
    submission port in place of its proxy's SMTP port when submission is on: the STARTTLS port
    (`starttls` when a certificate is set), else the TLS one, on SMTP_HOSTNAME. An `smtp` entry
    the operator configured wins (behind NAT or a balancer the public port is another)."""
    proxy = cfg.SMTP_IMAP_PROXY_CONFIG
    plain, tls = cfg.submission_host_port, cfg.submission_tls_host_port
    if "smtp" in proxy.model_fields_set or (plain is None and tls is None):
        return proxy
    port = plain[1] if plain is not None else tls[1] if tls is not None else 0
    starttls = plain is not None and cfg.mail_client_tls is not None
    endpoint = ProxyEndpoint(host=cfg.SMTP_HOSTNAME, port=port, starttls=starttls)
    return proxy.model_copy(update={"smtp": endpoint})


def with_imap(cfg: Settings, proxy: SmtpImapProxy) -> SmtpImapProxy:
    """`proxy` with our IMAP port in place of the reference proxy's when IMAP is on: the plain
    port (`starttls` when a certificate is set), else the TLS one, on SMTP_HOSTNAME. An `imap`
    entry the operator configured wins, as for submission."""
    plain, tls = cfg.imap_host_port, cfg.imap_tls_host_port
    if "imap" in cfg.SMTP_IMAP_PROXY_CONFIG.model_fields_set or (plain is None and tls is None):
        return proxy
    port = plain[1] if plain is not None else tls[1] if tls is not None else 0
    starttls = plain is not None and cfg.mail_client_tls is not None
    endpoint = ProxyEndpoint(host=cfg.SMTP_HOSTNAME, port=port, starttls=starttls)
    return proxy.model_copy(update={"imap": endpoint})


@router.get(
    "/open_api/settings",
    responses=answers(ok=SETTINGS_EXAMPLE),
    openapi_extra={"parameters": [SITE_PASSWORD_HEADER]},
)
async def open_settings(request: Request, services: ServicesDep) -> dict[str, Any]:
    cfg = services.settings
    proxy = with_imap(cfg, with_submission(cfg))
    return {
        "title": cfg.TITLE,
        "announcement": cfg.ANNOUNCEMENT,
        "alwaysShowAnnouncement": cfg.ALWAYS_SHOW_ANNOUNCEMENT,
        "prefix": cfg.address_prefix,
        "addressRegex": cfg.configured_address_regex,
        "minAddressLen": cfg.MIN_ADDRESS_LEN,
        "maxAddressLen": cfg.MAX_ADDRESS_LEN,
        "defaultDomains": cfg.default_domains,
        "domains": cfg.DOMAINS,
        "randomSubdomainDomains": cfg.RANDOM_SUBDOMAIN_DOMAINS,
        "domainLabels": cfg.DOMAIN_LABELS,
        "needAuth": not site_password_ok(request.headers, cfg.PASSWORDS),
        "adminContact": cfg.ADMIN_CONTACT,
        "enableUserCreateEmail": cfg.ENABLE_USER_CREATE_EMAIL,
        "disableAnonymousUserCreateEmail": cfg.DISABLE_ANONYMOUS_USER_CREATE_EMAIL,
        "disableCustomAddressName": cfg.DISABLE_CUSTOM_ADDRESS_NAME,
        "enableUserDeleteEmail": cfg.ENABLE_USER_DELETE_EMAIL,
        "enableAutoReply": cfg.ENABLE_AUTO_REPLY,
        "enableIndexAbout": cfg.ENABLE_INDEX_ABOUT,
        "copyright": cfg.COPYRIGHT,
        "cfTurnstileSiteKey": cfg.CF_TURNSTILE_SITE_KEY,
        "enableWebhook": cfg.ENABLE_WEBHOOK,
        "isS3Enabled": False,
        "enableSendMail": any(services.sending.can_send_from(f"x@{domain}") for domain in cfg.DOMAINS),
        "version": REFERENCE_VERSION,
        "showGithub": not cfg.DISABLE_SHOW_GITHUB,
        "showGithubForUser": not cfg.DISABLE_SHOW_GITHUB_FOR_USER,
        "disableAdminPasswordCheck": cfg.DISABLE_ADMIN_PASSWORD_CHECK,
        "enableAddressPassword": cfg.ENABLE_ADDRESS_PASSWORD,
        "enableAgentEmailInfo": cfg.ENABLE_AGENT_EMAIL_INFO,
        "smtpImapProxyConfig": proxy.model_dump(),
        "statusUrl": cfg.STATUS_URL,
        "enableGlobalTurnstileCheck": False,
    }
