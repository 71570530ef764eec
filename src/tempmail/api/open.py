"""Public routes: health checks and `/open_api/settings` (what the UI needs before login)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from tempmail import __version__
from tempmail.errors import ApiError
from tempmail.http.auth import site_password_ok
from tempmail.http.common import ServicesDep
from tempmail.web.pages import inbox_page
from tempmail.web.render import prefers_html

router = APIRouter(tags=["open"])


@router.get("/", response_class=PlainTextResponse)
async def root(request: Request, services: ServicesDep) -> Response:
    """Browsers (Accept prefers HTML) get the web UI's inbox; everyone else the health check."""
    if prefers_html(request.headers.get("accept", "")):
        return inbox_page(request)
    return PlainTextResponse(await health(services), headers={"Vary": "Accept"})


@router.get("/health_check", response_class=PlainTextResponse)
async def health(services: ServicesDep) -> str:
    """200 `OK` when the database answers and mail has somewhere to go."""
    if not services.settings.DOMAINS:
        raise ApiError(400, "Domains are not set, please contact the administrator")
    try:
        await services.db.ping()
    except Exception as exc:
        raise ApiError(400, "Database is not reachable: {reason}", reason=type(exc).__name__) from exc
    return "OK"


@router.get("/open_api/settings")
async def open_settings(request: Request, services: ServicesDep) -> dict[str, Any]:
    cfg = services.settings
    domains = cfg.DOMAINS
    return {
        "title": cfg.TITLE,
        "announcement": cfg.ANNOUNCEMENT,
        "alwaysShowAnnouncement": cfg.ALWAYS_SHOW_ANNOUNCEMENT,
        "prefix": cfg.PREFIX,
        "addressRegex": cfg.ADDRESS_REGEX,
        "minAddressLen": cfg.MIN_ADDRESS_LEN,
        "maxAddressLen": cfg.MAX_ADDRESS_LEN,
        "defaultDomains": cfg.default_domains,
        "domains": domains,
        "randomSubdomainDomains": cfg.RANDOM_SUBDOMAIN_DOMAINS,
        "domainLabels": cfg.DOMAIN_LABELS,
        "needAuth": not site_password_ok(request.headers, cfg.PASSWORDS),
        "adminContact": cfg.ADMIN_CONTACT,
        "enableUserCreateEmail": cfg.ENABLE_USER_CREATE_EMAIL,
        "disableAnonymousUserCreateEmail": cfg.DISABLE_ANONYMOUS_USER_CREATE_EMAIL,
        "disableCustomAddressName": cfg.DISABLE_CUSTOM_ADDRESS_NAME,
        "enableUserDeleteEmail": cfg.ENABLE_USER_DELETE_EMAIL,
        "enableAutoReply": cfg.ENABLE_AUTO_REPLY,
        "enableIndexAbout": False,
        "copyright": cfg.COPYRIGHT,
        "cfTurnstileSiteKey": "",
        "enableWebhook": cfg.ENABLE_WEBHOOK,
        "isS3Enabled": False,
        "enableSendMail": bool(cfg.SMTP_CONFIG or cfg.RESEND_TOKEN or cfg.RESEND_TOKENS),
        "version": __version__,
        "showGithub": True,
        "showGithubForUser": True,
        "disableAdminPasswordCheck": cfg.DISABLE_ADMIN_PASSWORD_CHECK,
        "enableAddressPassword": cfg.ENABLE_ADDRESS_PASSWORD,
        "enableAgentEmailInfo": False,
        "smtpImapProxyConfig": {
            "smtp": {"host": "", "port": 0, "starttls": False},
            "imap": {"host": "", "port": 0, "starttls": False},
        },
        "statusUrl": cfg.STATUS_URL,
        "enableGlobalTurnstileCheck": False,
    }
