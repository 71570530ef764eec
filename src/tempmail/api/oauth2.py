"""OAuth2 login (`/user_api/oauth2`) and its provider settings (`/admin/user_oauth2_settings`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from tempmail.accounts.oauth2 import OAuth2ProviderSettings
from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep

router = APIRouter(tags=["user oauth2"])


class CallbackBody(BaseModel):
    clientID: str | None = None
    code: str | None = None


@router.get("/user_api/oauth2/login_url")
async def login_url(
    services: ServicesDep,
    clientID: Annotated[str | None, Query(max_length=512)] = None,
    state: Annotated[str | None, Query(max_length=2048)] = None,
) -> dict[str, Any]:
    return {"url": await services.oauth2.login_url(clientID, state)}


@router.post("/user_api/oauth2/callback")
async def callback(body: CallbackBody, services: ServicesDep) -> dict[str, Any]:
    return {"jwt": await services.oauth2.callback(body.clientID, body.code)}


@router.get("/admin/user_oauth2_settings", dependencies=[Depends(require_admin)])
async def provider_settings(services: ServicesDep) -> list[dict[str, Any]]:
    return [provider.model_dump() for provider in await services.oauth2.providers()]


@router.post("/admin/user_oauth2_settings", dependencies=[Depends(require_admin)])
async def save_provider_settings(body: list[OAuth2ProviderSettings], services: ServicesDep) -> dict[str, Any]:
    await services.oauth2.save(body)
    return {"success": True}
