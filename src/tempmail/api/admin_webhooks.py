"""`/admin/webhook/settings` (who may have webhooks) and `/admin/mail_webhook/*` (one webhook
for every mail)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from tempmail.events.webhooks import AllowList, WebhookSettings
from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep


async def require_webhooks(services: ServicesDep) -> None:
    """After the admin check: the whole group answers 403 unless ENABLE_WEBHOOK."""
    services.webhooks.require_enabled()


router = APIRouter(
    prefix="/admin",
    tags=["admin webhooks"],
    dependencies=[Depends(require_admin), Depends(require_webhooks)],
)


@router.get("/webhook/settings")
async def allow_list(services: ServicesDep) -> dict[str, Any]:
    return (await services.webhooks.allow_list()).model_dump()


@router.post("/webhook/settings")
async def save_allow_list(body: AllowList, services: ServicesDep) -> dict[str, Any]:
    await services.webhooks.save_allow_list(body)
    return {"success": True}


@router.get("/mail_webhook/settings")
async def mail_webhook(services: ServicesDep) -> dict[str, Any]:
    return (await services.webhooks.mail_setting()).model_dump()


@router.post("/mail_webhook/settings")
async def save_mail_webhook(body: WebhookSettings, services: ServicesDep) -> dict[str, Any]:
    await services.webhooks.save_mail_setting(body)
    return {"success": True}


@router.post("/mail_webhook/test")
async def test_mail_webhook(body: WebhookSettings, services: ServicesDep) -> dict[str, Any]:
    await services.webhooks.test_mail_webhook(body, await services.mailbox.random_mail(None))
    return {"success": True}
