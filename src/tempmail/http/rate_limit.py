"""Rate limits per client IP on the routes that are worth hammering (issue 16, "Limits"):

- creation — `POST /api/new_address`, `/user_api/register`, `/user_api/verify_code` (which
  sends a mail): every request counts;
- logins — `POST /api/address_login`, `/user_api/login`, the passkey sign-in: every refused
  attempt (a 4xx answer) counts, so a user who types the password right is never slowed;
- the admin password — an `/admin` request that carries `x-admin-auth` and is answered 401
  counts (a wrong password; a request without one guesses nothing).

Over the limit the client gets `429` with `Retry-After` for a penalty that doubles while it
goes on (`tempmail.security.rate_limits`), also with the right password: a guesser must not
learn when it found it. Each refusal is logged once, when it starts. The client IP is the
proxy-aware one (`TRUSTED_PROXIES`), never `cf-connecting-ip` from an untrusted peer, which
anyone could vary to dodge the limit. Counts are per worker process: with N workers a client
may get up to N times the limit through, spread over them.

A pure ASGI layer: other paths cost one prefix test.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tempmail.config import Settings
from tempmail.http.client_ip import client_ip
from tempmail.security.rate_limits import RateLimiter, Refusal

log = logging.getLogger(__name__)

CREATION_PATHS = ("/api/new_address", "/user_api/register", "/user_api/verify_code")
LOGIN_PATHS = ("/api/address_login", "/user_api/login", "/user_api/passkey/authenticate_response")
ADMIN_PREFIX = "/admin"
GUARDED_PREFIXES = (*CREATION_PATHS, *LOGIN_PATHS, ADMIN_PREFIX)
TOO_MANY = "Too many requests, retry after {seconds} seconds"


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    limiter: RateLimiter
    # The answers that count, or None: every request counts.
    refused_statuses: range | None


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.trusted_proxies = settings.TRUSTED_PROXIES
        window, block = float(settings.RATE_LIMIT_WINDOW), float(settings.RATE_LIMIT_MAX_BLOCK)

        def rule(name: str, limit: int, refused_statuses: range | None) -> _Rule:
            return _Rule(name, RateLimiter(limit, window, block), refused_statuses)

        self.creation = rule("creation", settings.RATE_LIMIT_CREATIONS, None)
        self.logins = rule("login", settings.RATE_LIMIT_LOGIN_FAILURES, range(400, 500))
        self.admin = rule("admin password", settings.RATE_LIMIT_ADMIN_FAILURES, range(401, 402))

    def _rule(self, scope: Scope) -> _Rule | None:
        path: str = scope["path"]
        if path.startswith(ADMIN_PREFIX):
            guesses = any(name == b"x-admin-auth" for name, _ in scope["headers"])
            return self.admin if guesses else None
        if scope["method"] != "POST":
            return None
        if path in CREATION_PATHS:
            return self.creation
        return self.logins if path in LOGIN_PATHS else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(GUARDED_PREFIXES):
            await self.app(scope, receive, send)
            return
        rule = self._rule(scope)
        if rule is None or rule.limiter.limit <= 0:
            await self.app(scope, receive, send)
            return
        ip = client_ip(Request(scope), self.trusted_proxies)
        left = rule.limiter.refused(ip)
        if left is not None:
            await _too_many(left)(scope, receive, send)
            return
        statuses = rule.refused_statuses
        if statuses is None:
            refusal = rule.limiter.record(ip)
            if refusal is not None:
                self._log(rule, ip, refusal)
                await _too_many(refusal.retry_after)(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in statuses:
                refusal = rule.limiter.record(ip)
                if refusal is not None:
                    self._log(rule, ip, refusal)
            await send(message)

        await self.app(scope, receive, counting_send)

    @staticmethod
    def _log(rule: _Rule, ip: str, refusal: Refusal) -> None:
        if refusal.started:
            log.warning(
                "rate limit: %s refused for %d s (over %d %s events in %d s)",
                ip or "an unknown client",
                math.ceil(refusal.retry_after),
                rule.limiter.limit,
                rule.name,
                rule.limiter.window,
            )


def _too_many(retry_after: float) -> PlainTextResponse:
    seconds = max(1, math.ceil(retry_after))
    return PlainTextResponse(
        TOO_MANY.format(seconds=seconds), status_code=429, headers={"Retry-After": str(seconds)}
    )
