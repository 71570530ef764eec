"""`/user_api/passkey`: register passkeys to an account and log in with them (API.md §6)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path
from pydantic import BaseModel

from tempmail.http.auth import UserDep
from tempmail.http.context import ServicesDep

router = APIRouter(prefix="/user_api/passkey", tags=["user passkeys"])


class DomainBody(BaseModel):
    domain: str | None = None


class RenameBody(BaseModel):
    passkey_id: str | None = None
    # Any JSON: a name that is not a string is refused with the reference's text.
    passkey_name: Any = None


class RegisterResponseBody(BaseModel):
    origin: str | None = None
    passkey_name: str | None = None
    credential: Any = None


class AuthenticateResponseBody(BaseModel):
    origin: str | None = None
    domain: str | None = None
    credential: Any = None


@router.get("")
async def passkeys(user: UserDep, services: ServicesDep) -> list[dict[str, Any]]:
    return await services.passkeys.list(user)


@router.post("/rename")
async def rename(body: RenameBody, user: UserDep, services: ServicesDep) -> dict[str, Any]:
    await services.passkeys.rename(user, body.passkey_id, body.passkey_name)
    return {"success": True}


@router.delete("/{passkey_id}")
async def delete(
    user: UserDep, services: ServicesDep, passkey_id: str = Path(max_length=1024)
) -> dict[str, Any]:
    await services.passkeys.delete(user, passkey_id)
    return {"success": True}


@router.post("/register_request")
async def register_request(body: DomainBody, user: UserDep, services: ServicesDep) -> dict[str, Any]:
    return await services.passkeys.registration_options(user, body.domain)


@router.post("/register_response")
async def register_response(
    body: RegisterResponseBody, user: UserDep, services: ServicesDep
) -> dict[str, Any]:
    await services.passkeys.register(user, body.origin, body.passkey_name, body.credential)
    return {"success": True}


@router.post("/authenticate_request")
async def authenticate_request(body: DomainBody, services: ServicesDep) -> dict[str, Any]:
    return await services.passkeys.authentication_options(body.domain)


@router.post("/authenticate_response")
async def authenticate_response(body: AuthenticateResponseBody, services: ServicesDep) -> dict[str, Any]:
    return {"jwt": await services.passkeys.authenticate(body.origin, body.domain, body.credential)}
