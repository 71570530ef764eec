"""The admin console's Telegram screen (`/ui/admin/telegram`): whether a bot token is configured,
the mode, what the Bot API says of the webhook and the commands, and the bot's settings form.

It only reads; the init button and the form post to the JSON `/admin/telegram/*` routes. A Bot
API that cannot be reached shows as a notice on the screen, not as a failed fragment.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from tempmail.errors import ApiError
from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep
from tempmail.web.render import render

router = APIRouter(prefix="/ui/admin", include_in_schema=False, dependencies=[Depends(require_admin)])


@router.get("/telegram")
async def telegram(request: Request, services: ServicesDep) -> HTMLResponse:
    bot = services.telegram
    status: dict[str, Any] | None = None
    status_error = ""
    settings = None
    if bot.configured:
        settings = (await bot.get_settings()).model_dump()
        try:
            status = await bot.status()
        except ApiError as exc:
            status_error = str(exc)
    return render(
        request,
        "admin/telegram.html",
        configured=bot.configured,
        mode=services.settings.TELEGRAM_MODE,
        max_addresses=services.settings.TG_MAX_ADDRESS,
        status=status,
        status_error=status_error,
        bot_settings=settings,
    )
