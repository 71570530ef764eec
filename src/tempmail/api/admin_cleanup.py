"""`/admin/cleanup` and `/admin/auto_cleanup`: retention, by hand and on schedule (COMPAT §9).

Both take the JSON as sent: the reference refuses a `cleanDays` given as a string (which a
coercing body model would accept) and stores the auto-cleanup settings exactly as posted.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])

JsonBody = Annotated[Any, Body()]


@router.post("/cleanup")
async def cleanup(services: ServicesDep, body: JsonBody = None) -> dict[str, Any]:
    fields = body if isinstance(body, dict) else {}
    await services.cleanup.clean(fields.get("cleanType"), fields.get("cleanDays"))
    return {"success": True}


@router.get("/auto_cleanup")
async def get_auto_cleanup(services: ServicesDep) -> Any:
    return await services.cleanup.settings()


@router.post("/auto_cleanup")
async def set_auto_cleanup(services: ServicesDep, body: JsonBody = None) -> dict[str, Any]:
    await services.cleanup.save_settings(body)
    return {"success": True}
