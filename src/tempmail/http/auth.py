"""The credential checks of API.md §2, as FastAPI dependencies (and the site-password gate)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from tempmail.accounts.users import UserClaim
from tempmail.errors import ADDRESS_CREDENTIAL, ADMIN_PASSWORD, SITE_PASSWORD, USER_TOKEN, ApiError
from tempmail.http.common import ServicesDep
from tempmail.security.tokens import AddressClaim

# Paths the site password does not guard (API.md §2.1).
SITE_PASSWORD_EXEMPT = ("/open_api/", "/telegram/")


def _one_of(candidate: str | None, secrets: list[str]) -> bool:
    """Constant-time membership, so response timing does not leak a password's prefix."""
    if not candidate:
        return False
    found = False
    for secret in secrets:
        found |= hmac.compare_digest(candidate.encode(), secret.encode())
    return found


def site_password_ok(headers: Headers, passwords: list[str]) -> bool:
    return not passwords or _one_of(headers.get("x-custom-auth"), passwords)


class SitePasswordMiddleware:
    """With PASSWORDS set, every path but /open_api and /telegram needs `x-custom-auth`.

    A middleware rather than a dependency, so that unknown paths and the docs are guarded too.
    """

    def __init__(self, app: ASGIApp, passwords: list[str]) -> None:
        self.app = app
        self.passwords = passwords

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.passwords or scope["path"].startswith(SITE_PASSWORD_EXEMPT):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if site_password_ok(headers, self.passwords):
            await self.app(scope, receive, send)
            return
        text = ApiError(401, SITE_PASSWORD).text(headers.get("x-lang"))
        await PlainTextResponse(text, status_code=401)(scope, receive, send)


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def signed_address(request: Request, services: ServicesDep) -> AddressClaim:
    """The address a correctly signed credential names (it may have been deleted since)."""
    claim = services.tokens.read_address(bearer_token(request))
    if claim is None:
        raise ApiError(401, ADDRESS_CREDENTIAL)
    return claim


async def require_address(
    claim: Annotated[AddressClaim, Depends(signed_address)], services: ServicesDep
) -> AddressClaim:
    """A credential of an address that still exists ([better]: the reference only checks this
    on /api/settings, so a deleted address's JWT kept working elsewhere)."""
    if not await services.addresses.is_live(claim.address_id, claim.address):
        raise ApiError(401, ADDRESS_CREDENTIAL)
    return claim


AddressDep = Annotated[AddressClaim, Depends(require_address)]


def signed_user(request: Request, services: ServicesDep) -> UserClaim:
    """The user a valid, unexpired `x-user-token` names (the account may have been deleted)."""
    claim = services.users.read_user(request.headers.get("x-user-token"))
    if claim is None:
        raise ApiError(401, USER_TOKEN)
    return claim


async def require_user(claim: Annotated[UserClaim, Depends(signed_user)], services: ServicesDep) -> UserClaim:
    """A user token whose account still exists: a deleted user's token must not bind anything."""
    if not await services.users.is_live(claim):
        raise ApiError(401, USER_TOKEN)
    return claim


UserDep = Annotated[UserClaim, Depends(require_user)]


def role_of(request: Request, services: ServicesDep) -> str | None:
    """The role carried by a valid `x-user-access-token`, if any."""
    token = request.headers.get("x-user-access-token")
    return services.tokens.read_role(token) if token else None


async def require_admin(request: Request, services: ServicesDep) -> None:
    settings = services.settings
    if settings.DISABLE_ADMIN_PASSWORD_CHECK:
        return
    if _one_of(request.headers.get("x-admin-auth"), services.admin_passwords):
        return
    role = role_of(request, services)
    if role is not None and settings.ADMIN_USER_ROLE and role == settings.ADMIN_USER_ROLE:
        return
    raise ApiError(401, ADMIN_PASSWORD)
