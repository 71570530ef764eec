"""`/user_api/passkey`: register passkeys to an account and log in with them (API.md §6)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path
from pydantic import BaseModel

from tempmail.accounts.passkeys import (
    AUTHENTICATION_FAILED,
    INVALID_PASSKEY_NAME,
    PASSKEY_NOT_FOUND,
    REGISTRATION_FAILED,
)
from tempmail.accounts.roles import USER_NOT_FOUND
from tempmail.api.user import JWT_ANSWER, SUCCESS
from tempmail.errors import INVALID_INPUT
from tempmail.http.auth import UserDep
from tempmail.http.context import ServicesDep
from tempmail.http.openapi import answers

router = APIRouter(prefix="/user_api/passkey", tags=["user passkeys"])

CHALLENGE = "LygN1XUr7BSnMcvTSycowH6def8PZInjLcoTGVJrdCF170XxPQr6Znps4jJjdiBQqrKtA3y5l_7rcQgSeIwphA"
# WebAuthn's PublicKeyCredentialCreationOptions, as py_webauthn writes them.
REGISTRATION_OPTIONS = {
    "rp": {"name": "tempmail", "id": "mail.example.com"},
    "user": {"id": "MQ", "name": "user@example.com", "displayName": "user@example.com"},
    "challenge": CHALLENGE,
    "pubKeyCredParams": [
        {"type": "public-key", "alg": -8},
        {"type": "public-key", "alg": -7},
        {"type": "public-key", "alg": -257},
    ],
    "timeout": 60000,
    "excludeCredentials": [],
    "authenticatorSelection": {
        "residentKey": "required",
        "requireResidentKey": True,
        "userVerification": "preferred",
    },
    "attestation": "none",
}
# WebAuthn's PublicKeyCredentialRequestOptions.
AUTHENTICATION_OPTIONS = {
    "challenge": CHALLENGE,
    "timeout": 60000,
    "rpId": "mail.example.com",
    "allowCredentials": [],
    "userVerification": "preferred",
}


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


@router.get(
    "",
    responses=answers(
        ok=[
            {
                "passkey_name": "laptop",
                "passkey_id": "AQIDBAUGBwgJCgsMDQ4PEA",
                "created_at": "2026-01-01 00:00:00",
                "updated_at": "2026-01-01 00:00:00",
            }
        ]
    ),
)
async def passkeys(user: UserDep, services: ServicesDep) -> list[dict[str, Any]]:
    return await services.passkeys.list(user)


@router.post("/rename", responses=answers({400: INVALID_PASSKEY_NAME}, ok=SUCCESS))
async def rename(body: RenameBody, user: UserDep, services: ServicesDep) -> dict[str, Any]:
    await services.passkeys.rename(user, body.passkey_id, body.passkey_name)
    return {"success": True}


@router.delete("/{passkey_id}", responses=answers(ok=SUCCESS))
async def delete(
    user: UserDep, services: ServicesDep, passkey_id: str = Path(max_length=1024)
) -> dict[str, Any]:
    await services.passkeys.delete(user, passkey_id)
    return {"success": True}


@router.post("/register_request", responses=answers({400: INVALID_INPUT}, ok=REGISTRATION_OPTIONS))
async def register_request(body: DomainBody, user: UserDep, services: ServicesDep) -> dict[str, Any]:
    return await services.passkeys.registration_options(user, body.domain)


@router.post("/register_response", responses=answers({400: REGISTRATION_FAILED}, ok=SUCCESS))
async def register_response(
    body: RegisterResponseBody, user: UserDep, services: ServicesDep
) -> dict[str, Any]:
    await services.passkeys.register(user, body.origin, body.passkey_name, body.credential)
    return {"success": True}


@router.post("/authenticate_request", responses=answers({400: INVALID_INPUT}, ok=AUTHENTICATION_OPTIONS))
async def authenticate_request(body: DomainBody, services: ServicesDep) -> dict[str, Any]:
    return await services.passkeys.authentication_options(body.domain)


@router.post(
    "/authenticate_response",
    responses=answers(
        {400: [INVALID_INPUT, AUTHENTICATION_FAILED], 404: [PASSKEY_NOT_FOUND, USER_NOT_FOUND]},
        ok=JWT_ANSWER,
    ),
)
async def authenticate_response(body: AuthenticateResponseBody, services: ServicesDep) -> dict[str, Any]:
    return {"jwt": await services.passkeys.authenticate(body.origin, body.domain, body.credential)}
