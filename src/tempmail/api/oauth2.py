"""OAuth2 login (`/user_api/oauth2`) and its provider settings (`/admin/user_oauth2_settings`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from tempmail.accounts.oauth2 import (
    CLIENT_ID_NOT_SET,
    CLIENT_ID_OR_CODE_MISSING,
    EMAIL_FAILED,
    TOKEN_FAILED,
    USER_INFO_FAILED,
    OAuth2ProviderSettings,
)
from tempmail.accounts.roles import USER_NOT_FOUND
from tempmail.accounts.users import DOMAIN_NOT_ALLOWED, INVALID_LOGIN
from tempmail.api.user import JWT_ANSWER, SUCCESS
from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep
from tempmail.http.lax import LaxBool
from tempmail.http.openapi import answers

router = APIRouter(tags=["user oauth2"])


class ProviderBody(OAuth2ProviderSettings):
    """A provider as the admin's page sends it; its flags are described as pydantic reads them."""

    enableEmailFormat: LaxBool = False
    enableMailAllowList: LaxBool = False


PROVIDER = OAuth2ProviderSettings(
    name="GitHub",
    clientID="client-id",
    clientSecret="client-secret",
    authorizationURL="https://github.com/login/oauth/authorize",
    accessTokenURL="https://github.com/login/oauth/access_token",
    accessTokenFormat="urlencoded",
    userInfoURL="https://api.github.com/user",
    redirectURL="https://mail.example.com/user/oauth2/callback",
    scope="user:email",
)


class CallbackBody(BaseModel):
    clientID: str | None = None
    code: str | None = None


@router.get(
    "/user_api/oauth2/login_url",
    responses=answers(
        {400: CLIENT_ID_NOT_SET},
        ok={"url": "https://github.com/login/oauth/authorize?response_type=code&client_id=client-id"},
    ),
)
async def login_url(
    services: ServicesDep,
    clientID: Annotated[str | None, Query(max_length=512)] = None,
    state: Annotated[str | None, Query(max_length=2048)] = None,
) -> dict[str, Any]:
    return {"url": await services.oauth2.login_url(clientID, state)}


@router.post(
    "/user_api/oauth2/callback",
    responses=answers(
        {
            400: [
                CLIENT_ID_OR_CODE_MISSING,
                CLIENT_ID_NOT_SET,
                TOKEN_FAILED,
                USER_INFO_FAILED,
                EMAIL_FAILED,
                INVALID_LOGIN,
                DOMAIN_NOT_ALLOWED,
                USER_NOT_FOUND,
            ]
        },
        ok=JWT_ANSWER,
    ),
)
async def callback(body: CallbackBody, services: ServicesDep) -> dict[str, Any]:
    return {"jwt": await services.oauth2.callback(body.clientID, body.code)}


@router.get(
    "/admin/user_oauth2_settings",
    dependencies=[Depends(require_admin)],
    responses=answers(ok=[PROVIDER.model_dump()]),
)
async def provider_settings(services: ServicesDep) -> list[dict[str, Any]]:
    return [provider.model_dump() for provider in await services.oauth2.providers()]


@router.post(
    "/admin/user_oauth2_settings",
    dependencies=[Depends(require_admin)],
    responses=answers(ok=SUCCESS),
)
async def save_provider_settings(body: list[ProviderBody], services: ServicesDep) -> dict[str, Any]:
    providers: list[OAuth2ProviderSettings] = list(body)
    await services.oauth2.save(providers)
    return {"success": True}
