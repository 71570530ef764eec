"""The Telegram routes of the reference (COMPAT §17): the bot's webhook, the mini app, the admin's.

Without TELEGRAM_BOT_TOKEN every one of them answers `400 TELEGRAM_BOT_TOKEN is required`, as
the reference does, before it looks at the body. `/telegram/*` is exempt from the site password
(the webhook proves itself with the secret token Telegram echoes, the mini app with Telegram's
signed init data); `/admin/telegram/*` asks for the admin first, as every `/admin/*`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Request
from pydantic import BaseModel, Field

from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep
from tempmail.http.lax import LaxBool, LaxId
from tempmail.http.openapi import answers
from tempmail.telegram_bot.addresses import INVALID_CREDENTIAL, NOT_HELD, TOO_MANY
from tempmail.telegram_bot.bot import (
    API_FAILED,
    BAD_SECRET,
    NOT_ALLOWED,
    POLLING_SET,
    TOKEN_REQUIRED,
    WEBHOOK_SET,
)
from tempmail.telegram_bot.miniapp import MAIL_NOT_FOUND
from tempmail.telegram_bot.store import BotSettings
from tempmail.telegram_bot.webapp import INVALID_INIT_DATA


async def require_bot(services: ServicesDep) -> None:
    """The reference's 400 when no bot token is configured, before anything else is read."""
    services.telegram.require()


MINI_APP_REFUSALS = {401: INVALID_INIT_DATA, 403: NOT_ALLOWED.format(user_id="<id>")}
router = APIRouter(
    prefix="/telegram",
    tags=["telegram"],
    dependencies=[Depends(require_bot)],
    responses=answers({400: TOKEN_REQUIRED}),
)
admin_router = APIRouter(
    prefix="/admin/telegram",
    tags=["admin"],
    dependencies=[Depends(require_admin), Depends(require_bot)],
    responses=answers({400: TOKEN_REQUIRED, 502: API_FAILED.format(detail="<what the Bot API said>")}),
)

# --- the bot's webhook ----------------------------------------------------------------------


async def check_secret(
    services: ServicesDep,
    secret: Annotated[
        str | None,
        Header(
            alias="X-Telegram-Bot-Api-Secret-Token",
            description="The secret `/admin/telegram/init` registered; Telegram sends it with every update.",
        ),
    ] = None,
) -> None:
    services.telegram.check_secret(secret)


@router.post(
    "/webhook",
    dependencies=[Depends(check_secret)],
    responses=answers({401: BAD_SECRET}, ok={"ok": True}),
)
async def webhook(update: Annotated[dict[str, Any], Body()], services: ServicesDep) -> dict[str, Any]:
    """A Telegram update (a command, a button pressed), answered through the Bot API."""
    await services.telegram.handle(update)
    return {"ok": True}


# --- the mini app ---------------------------------------------------------------------------


class InitData(BaseModel):
    initData: str = Field(max_length=8192, description="Telegram.WebApp.initData, as the mini app has it.")


class NewAddressBody(InitData):
    address: str | None = Field(default=None, max_length=320, description="`name@domain`, `name` or nothing.")


class BindBody(InitData):
    jwt: str = Field(max_length=4096, description="The address credential to bind.")


class UnbindBody(InitData):
    address: str = Field(max_length=320)


class MailBody(InitData):
    mailId: LaxId


ADDRESS_OK = {"address": "tmp1@example.com", "jwt": "eyJ..."}


@router.post(
    "/get_bind_address",
    responses=answers(MINI_APP_REFUSALS, ok=[ADDRESS_OK]),
    name="telegram_get_bind_address",
)
async def get_bind_address(body: InitData, services: ServicesDep) -> list[dict[str, Any]]:
    return await services.mini_app.bound(body.initData)


@router.post(
    "/new_address",
    responses=answers({**MINI_APP_REFUSALS, 400: [TOKEN_REQUIRED, TOO_MANY]}, ok=ADDRESS_OK),
    name="telegram_new_address",
)
async def new_address(body: NewAddressBody, services: ServicesDep) -> dict[str, Any]:
    return await services.mini_app.new_address(body.initData, body.address)


@router.post(
    "/bind_address",
    responses=answers(
        {**MINI_APP_REFUSALS, 400: [TOKEN_REQUIRED, TOO_MANY, INVALID_CREDENTIAL]}, ok=ADDRESS_OK
    ),
    name="telegram_bind_address",
)
async def bind_address(body: BindBody, services: ServicesDep) -> dict[str, Any]:
    return await services.mini_app.bind(body.initData, body.jwt)


@router.post(
    "/unbind_address",
    responses=answers({**MINI_APP_REFUSALS, 400: [TOKEN_REQUIRED, NOT_HELD]}, ok={"success": True}),
    name="telegram_unbind_address",
)
async def unbind_address(body: UnbindBody, services: ServicesDep) -> dict[str, Any]:
    return await services.mini_app.unbind(body.initData, body.address)


@router.post(
    "/get_mail", responses=answers({**MINI_APP_REFUSALS, 404: MAIL_NOT_FOUND}), name="telegram_get_mail"
)
async def get_mail(body: MailBody, services: ServicesDep) -> dict[str, Any]:
    return await services.mini_app.mail(body.initData, body.mailId)


# --- the admin ------------------------------------------------------------------------------


class SettingsBody(BotSettings):
    enableAllowList: LaxBool = False


@admin_router.post(
    "/init", responses=answers(ok={"message": WEBHOOK_SET}), description=f"In polling mode: `{POLLING_SET}`."
)
async def init(request: Request, services: ServicesDep) -> dict[str, str]:
    """Register the webhook (`<this server>/telegram/webhook`, or TELEGRAM_WEBHOOK_URL) and the
    bot's commands."""
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return await services.telegram.init(origin)


@admin_router.get(
    "/status",
    responses=answers(ok={"info": {"url": "https://mail.example/telegram/webhook"}, "commands": []}),
)
async def status(services: ServicesDep) -> dict[str, Any]:
    return await services.telegram.status()


@admin_router.get("/settings", responses=answers(ok=BotSettings().model_dump()))
async def get_settings(services: ServicesDep) -> dict[str, Any]:
    return (await services.telegram.get_settings()).model_dump()


@admin_router.post("/settings", responses=answers(ok={"success": True}))
async def save_settings(body: SettingsBody, services: ServicesDep) -> dict[str, Any]:
    await services.telegram.save_settings(BotSettings.model_validate(body.model_dump()))
    return {"success": True}
