"""The site password (PASSWORDS, API.md §2.1): every path but /open_api and /telegram needs
`x-custom-auth`.

A middleware rather than a dependency, so that unknown paths and the docs are guarded too.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from tempmail.errors import SITE_PASSWORD, ApiError, language
from tempmail.security.passwords import matches_any

# Paths the site password does not guard (API.md §2.1).
SITE_PASSWORD_EXEMPT = ("/open_api/", "/telegram/")


def site_password_ok(headers: Headers, passwords: list[str]) -> bool:
    return not passwords or matches_any(headers.get("x-custom-auth"), passwords)


class SitePasswordMiddleware:
    def __init__(self, app: ASGIApp, passwords: list[str], default_lang: str | None = None) -> None:
        self.app = app
        self.passwords = passwords
        self.default_lang = default_lang

    def exempt(self, scope: Scope) -> bool:
        """Requests that pass without the password; subclasses widen it (the UI's page shells)."""
        return bool(scope["path"].startswith(SITE_PASSWORD_EXEMPT))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.passwords or self.exempt(scope):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if site_password_ok(headers, self.passwords):
            await self.app(scope, receive, send)
            return
        text = ApiError(401, SITE_PASSWORD).text(language(headers.get("x-lang"), self.default_lang))
        await PlainTextResponse(text, status_code=401)(scope, receive, send)
