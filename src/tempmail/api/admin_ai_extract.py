"""`/admin/ai_extract/settings`: the recipients the extraction of codes and links runs for."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from tempmail.events.extraction import AiExtractSettings
from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep
from tempmail.http.lax import LaxBool
from tempmail.http.openapi import answers

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])


class AiExtractBody(AiExtractSettings):
    enableAllowList: LaxBool = False


@router.get(
    "/ai_extract/settings",
    responses=answers(ok={"enableAllowList": True, "allowList": ["*@example.com"]}),
)
async def ai_extract_settings(services: ServicesDep) -> dict[str, Any]:
    return (await services.extraction.settings()).model_dump()


@router.post("/ai_extract/settings", responses=answers(ok={"success": True}))
async def save_ai_extract_settings(body: AiExtractBody, services: ServicesDep) -> dict[str, Any]:
    await services.extraction.save_settings(body)
    return {"success": True}
