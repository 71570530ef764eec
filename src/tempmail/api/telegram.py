"""The Telegram routes of the reference (COMPAT §17), answered as far as tempmail goes.

Without TELEGRAM_BOT_TOKEN the reference answers every one of them `400 TELEGRAM_BOT_TOKEN is
required`, and so do we. The bot itself (webhook updates, the mini-app, the admin's bot
settings) is not built yet: with a token set, the routes say so with a 501 rather than
pretending to work. `/telegram/*` is exempt from the site password (the mini-app proves itself
with Telegram's init data); `/admin/telegram/*` asks for the admin first, as every `/admin/*`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from tempmail.errors import ApiError
from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep
from tempmail.http.openapi import answers

TOKEN_REQUIRED = "TELEGRAM_BOT_TOKEN is required"
NOT_BUILT = "Telegram bot is not implemented in this tempmail version"
MINI_APP_ROUTES = ("webhook", "get_bind_address", "new_address", "bind_address", "unbind_address", "get_mail")
ADMIN_ROUTES = (("POST", "init"), ("GET", "status"), ("GET", "settings"), ("POST", "settings"))
UNAVAILABLE = answers({400: TOKEN_REQUIRED, 501: NOT_BUILT})

router = APIRouter(prefix="/telegram", tags=["telegram"])
admin_router = APIRouter(prefix="/admin/telegram", tags=["admin"], dependencies=[Depends(require_admin)])


async def unavailable(services: ServicesDep) -> None:
    """Every Telegram route: the reference's 400 without a token, else "not built yet"."""
    if not services.settings.TELEGRAM_BOT_TOKEN:
        raise ApiError(400, TOKEN_REQUIRED)
    raise ApiError(501, NOT_BUILT)


for _name in MINI_APP_ROUTES:
    router.add_api_route(
        f"/{_name}", unavailable, methods=["POST"], name=f"telegram_{_name}", responses=UNAVAILABLE
    )
for _method, _name in ADMIN_ROUTES:
    admin_router.add_api_route(
        f"/{_name}",
        unavailable,
        methods=[_method],
        name=f"admin_telegram_{_method.lower()}_{_name}",
        responses=UNAVAILABLE,
    )
