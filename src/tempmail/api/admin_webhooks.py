"""`/admin/webhook/settings` (who may have webhooks) and `/admin/mail_webhook/*` (one webhook
for every mail)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from tempmail.events.webhooks import NOT_ENABLED, SEND_ERROR, AllowList, WebhookSettings
from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep
from tempmail.http.lax import LaxBool
from tempmail.http.openapi import answers


async def require_webhooks(services: ServicesDep) -> None:
    """After the admin check: the whole group answers 403 unless ENABLE_WEBHOOK."""
    services.webhooks.require_enabled()


router = APIRouter(
    prefix="/admin",
    tags=["admin webhooks"],
    dependencies=[Depends(require_admin), Depends(require_webhooks)],
    responses=answers({403: NOT_ENABLED}),
)

SUCCESS = {"success": True}


class AllowListBody(AllowList):
    enableAllowList: LaxBool = False


class WebhookBody(WebhookSettings):
    enabled: LaxBool = False


@router.get(
    "/webhook/settings",
    responses=answers(ok={"enableAllowList": True, "allowList": ["box@example.com"]}),
)
async def allow_list(services: ServicesDep) -> dict[str, Any]:
    return (await services.webhooks.allow_list()).model_dump()


@router.post("/webhook/settings", responses=answers(ok=SUCCESS))
async def save_allow_list(body: AllowListBody, services: ServicesDep) -> dict[str, Any]:
    await services.webhooks.save_allow_list(body)
    return {"success": True}


@router.get(
    "/mail_webhook/settings",
    responses=answers(ok=WebhookSettings(enabled=True, url="https://hooks.example/mail").model_dump()),
)
async def mail_webhook(services: ServicesDep) -> dict[str, Any]:
    return (await services.webhooks.mail_setting()).model_dump()


@router.post("/mail_webhook/settings", responses=answers(ok=SUCCESS))
async def save_mail_webhook(body: WebhookBody, services: ServicesDep) -> dict[str, Any]:
    await services.webhooks.save_mail_setting(body)
    return {"success": True}


@router.post("/mail_webhook/test", responses=answers({400: SEND_ERROR}, ok=SUCCESS))
async def test_mail_webhook(body: WebhookBody, services: ServicesDep) -> dict[str, Any]:
    await services.webhooks.test_mail_webhook(body, await services.mailbox.random_mail(None))
    return {"success": True}
