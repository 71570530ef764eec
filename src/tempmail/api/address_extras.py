"""`/api/auto_reply` and `/api/webhook/*`: what an address does with the mail it receives."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from tempmail.api.admin_webhooks import WebhookBody
from tempmail.events.webhooks import NOT_ALLOWED, NOT_ENABLED, SEND_ERROR, WebhookSettings
from tempmail.http.auth import AddressDep
from tempmail.http.context import ServicesDep
from tempmail.http.lax import LaxBool
from tempmail.http.openapi import answers
from tempmail.outbound.auto_reply import DISABLED, INVALID_TEXT, TOO_LONG, AutoReplySettings

router = APIRouter(prefix="/api", tags=["address settings"])

AUTO_REPLY_OFF = answers({403: DISABLED})
WEBHOOK_REFUSED = {403: [NOT_ENABLED, NOT_ALLOWED]}


class AutoReplyFields(AutoReplySettings):
    enabled: LaxBool = False


class AutoReplyBody(BaseModel):
    auto_reply: AutoReplyFields


@router.get("/auto_reply", responses=AUTO_REPLY_OFF)
async def auto_reply(claim: AddressDep, services: ServicesDep) -> dict[str, Any]:
    return await services.auto_reply.get(claim.address)


@router.post("/auto_reply", responses=answers({403: DISABLED, 400: [INVALID_TEXT, TOO_LONG]}))
async def save_auto_reply(body: AutoReplyBody, claim: AddressDep, services: ServicesDep) -> dict[str, Any]:
    await services.auto_reply.save(claim.address, body.auto_reply)
    return {"success": True}


@router.get(
    "/webhook/settings",
    responses=answers(
        WEBHOOK_REFUSED,
        ok=WebhookSettings(enabled=True, url="https://hooks.example/mail").model_dump(),
    ),
)
async def webhook_settings(claim: AddressDep, services: ServicesDep) -> dict[str, Any]:
    return (await services.webhooks.address_setting(claim.address)).model_dump()


@router.post("/webhook/settings", responses=answers(WEBHOOK_REFUSED))
async def save_webhook_settings(
    body: WebhookBody, claim: AddressDep, services: ServicesDep
) -> dict[str, Any]:
    await services.webhooks.save_address_setting(claim.address, body)
    return {"success": True}


@router.post("/webhook/test", responses=answers({**WEBHOOK_REFUSED, 400: SEND_ERROR}))
async def test_webhook(body: WebhookBody, claim: AddressDep, services: ServicesDep) -> dict[str, Any]:
    mail = await services.mailbox.random_mail(claim.address)
    await services.webhooks.test_address(claim.address, body, mail)
    return {"success": True}
