"""`/admin/cleanup` and `/admin/auto_cleanup`: retention, by hand and on schedule (API.md §8)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep
from tempmail.maintenance.cleanup import AutoCleanupSettings

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])


class CleanupBody(BaseModel):
    cleanType: str = ""
    cleanDays: int = -1


@router.post("/cleanup")
async def cleanup(body: CleanupBody, services: ServicesDep) -> dict[str, Any]:
    await services.cleanup.clean(body.cleanType, body.cleanDays)
    return {"success": True}


@router.get("/auto_cleanup")
async def get_auto_cleanup(services: ServicesDep) -> dict[str, Any]:
    return (await services.cleanup.settings()).model_dump()


@router.post("/auto_cleanup")
async def set_auto_cleanup(body: AutoCleanupSettings, services: ServicesDep) -> dict[str, Any]:
    await services.cleanup.save_settings(body)
    return {"success": True}
