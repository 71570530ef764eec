"""`/admin/ip_blacklist/settings`: the IP access rules (COMPAT §4.1).

The body is taken as whatever JSON was sent, not a model: the service checks every type in the
reference's order, so a wrong type gets the reference's text rather than a coerced value.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep

router = APIRouter(prefix="/admin/ip_blacklist", tags=["admin"], dependencies=[Depends(require_admin)])


@router.get("/settings")
async def get_settings(services: ServicesDep) -> dict[str, Any]:
    return await services.ip_access.settings()


@router.post("/settings")
async def save_settings(body: Annotated[Any, Body()], services: ServicesDep) -> dict[str, Any]:
    await services.ip_access.save(body)
    return {"success": True}
