"""Public routes: the health check and `/open_api/settings` (what the UI needs before login).

`/` answers the health check too, to everyone but browsers: see `tempmail.web.pages`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from tempmail import __version__
from tempmail.http.context import ServicesDep
from tempmail.http.site_password import site_password_ok

router = APIRouter(tags=["open"])


@router.get("/health_check", response_class=PlainTextResponse)
async def health(services: ServicesDep) -> str:
    """200 `OK` when the database answers and mail has somewhere to go."""
    return await services.database.health()


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
