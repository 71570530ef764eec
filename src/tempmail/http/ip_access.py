"""The runtime IP check (COMPAT §4.2) on the five paths the reference guards, after the site
password and before any credential check.

The client IP is `cf-connecting-ip` when it holds an IP address, as on the reference (behind
Cloudflare, Cloudflare sets it). It is believed from any peer while TRUSTED_PROXIES is empty
(the reference's behaviour, and what its tests do); once TRUSTED_PROXIES is set, only from those
proxies, since anyone else could send it to dodge a blacklist or the daily limit. Without it,
the proxy-aware client IP of `tempmail.http.client_ip` is used, so the feature works without
Cloudflare.

Any failure of the check itself lets the request through (fail open, as the reference does): a
broken settings row must not take address creation or sending down.
"""

from __future__ import annotations

import ipaddress
import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from tempmail.errors import ApiError
from tempmail.http.client_ip import client_ip, in_networks
from tempmail.http.errors import request_language
from tempmail.services import Services

log = logging.getLogger(__name__)

GUARDED_PREFIXES = (
    "/api/new_address",
    "/api/send_mail",
    "/external/api/send_mail",
    "/user_api/register",
    "/user_api/verify_code",
)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def request_ip(request: Request, trusted_proxies: list[str]) -> str:
    """The client's IP for the access rules, "" when unknown."""
    forwarded = request.headers.get("cf-connecting-ip", "").strip()
    peer = request.client.host if request.client else ""
    if _is_ip(forwarded) and (not trusted_proxies or in_networks(peer, trusted_proxies)):
        return forwarded
    return client_ip(request, trusted_proxies)


class IpAccessMiddleware:
    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(GUARDED_PREFIXES):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        settings = self.services.settings
        try:
            await self.services.ip_access.check(
                request_ip(request, settings.TRUSTED_PROXIES), request.headers.get("x-fingerprint", "")
            )
        except ApiError as refused:
            text = refused.text(request_language(request))
            await PlainTextResponse(text, status_code=refused.status)(scope, receive, send)
            return
        except Exception:
            log.exception("IP access check failed on %s; letting the request through", scope["path"])
        await self.app(scope, receive, send)
