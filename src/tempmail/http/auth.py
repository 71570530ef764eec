"""The credential checks of API.md §2, as FastAPI dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tempmail.accounts.users import UserClaim
from tempmail.errors import (
    ACCESS_TOKEN_EXPIRED,
    ADDRESS_CREDENTIAL,
    ADMIN_PASSWORD,
    NOT_ADMIN_ROLE,
    USER_TOKEN,
    ApiError,
)
from tempmail.http.context import ServicesDep
from tempmail.security.passwords import matches_any
from tempmail.security.tokens import AddressClaim


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def signed_address(request: Request, services: ServicesDep) -> AddressClaim:
    """The address a correctly signed credential names (it may have been deleted since)."""
    claim = services.tokens.read_address(bearer_token(request))
    if claim is None:
        raise ApiError(401, ADDRESS_CREDENTIAL)
    return claim


# For routes that check the address exists themselves, in the statement that reads its mail.
SignedAddressDep = Annotated[AddressClaim, Depends(signed_address)]


async def require_address(
    claim: Annotated[AddressClaim, Depends(signed_address)], services: ServicesDep
) -> AddressClaim:
    """A credential of an address that still exists ([better]: the reference only checks this
    on /api/settings, so a deleted address's JWT kept working elsewhere)."""
    if not await services.addresses.is_live(claim.address_id, claim.address):
        raise ApiError(401, ADDRESS_CREDENTIAL)
    return claim


AddressDep = Annotated[AddressClaim, Depends(require_address)]


async def signed_user(request: Request, services: ServicesDep) -> UserClaim:
    """The user a valid, unexpired `x-user-token` names (the account may have been deleted)."""
    claim = services.users.read_user(request.headers.get("x-user-token"))
    if claim is None:
        raise ApiError(401, USER_TOKEN)
    return claim


# For routes that check the account exists themselves, in the statement that reads its mail.
SignedUserDep = Annotated[UserClaim, Depends(signed_user)]


async def require_user(claim: Annotated[UserClaim, Depends(signed_user)], services: ServicesDep) -> UserClaim:
    """A user token whose account still exists: a deleted user's token must not bind anything."""
    if not await services.users.is_live(claim):
        raise ApiError(401, USER_TOKEN)
    return claim


UserDep = Annotated[UserClaim, Depends(require_user)]


async def role_of(request: Request, services: ServicesDep) -> str | None:
    """The role carried by a valid `x-user-access-token`, if any."""
    token = request.headers.get("x-user-access-token")
    return services.tokens.read_role(token) if token else None


RoleDep = Annotated[str | None, Depends(role_of)]


async def require_admin(request: Request, services: ServicesDep) -> None:
    """The reference's order (COMPAT §16): `x-admin-auth`, then a role token when ADMIN_USER_ROLE
    is set (a correctly signed one that is expired, or of another role, is refused with its own
    text; a badly signed one is ignored), then DISABLE_ADMIN_PASSWORD_CHECK."""
    settings = services.settings
    if matches_any(request.headers.get("x-admin-auth"), services.admin_passwords):
        return
    token = request.headers.get("x-user-access-token")
    claim = services.tokens.read_role_claim(token) if token and settings.ADMIN_USER_ROLE else None
    if claim is not None:
        if claim.expired:
            raise ApiError(401, ACCESS_TOKEN_EXPIRED)
        if claim.role != settings.ADMIN_USER_ROLE:
            raise ApiError(401, NOT_ADMIN_ROLE)
        return
    if settings.DISABLE_ADMIN_PASSWORD_CHECK:
        return
    raise ApiError(401, ADMIN_PASSWORD)
