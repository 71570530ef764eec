"""`/admin/ip_blacklist/settings`: the IP access rules (COMPAT §4.1).

The body is taken as whatever JSON was sent, not a model: the service checks every type in the
reference's order, so a wrong type gets the reference's text rather than a coerced value.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, Field, WithJsonSchema

from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep
from tempmail.http.openapi import answers, json_body
from tempmail.maintenance.ip_settings import (
    DEFAULT_SETTINGS,
    INVALID_SETTING,
    MAX_DAILY_LIMIT,
    MAX_ENTRIES,
    TOO_MANY,
)

router = APIRouter(prefix="/admin/ip_blacklist", tags=["admin"], dependencies=[Depends(require_admin)])

Entries = Annotated[list[str], Field(max_length=MAX_ENTRIES)]
# JavaScript's Number() of it must be in 1..MAX_DAILY_LIMIT: a number, a numeric string, `true`
# or a one-element list of one.
DAILY_LIMIT_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "number", "minimum": 1, "maximum": MAX_DAILY_LIMIT},
        {"type": "string", "examples": ["1000"]},
        {"const": True},
        {"type": "array", "minItems": 1, "maxItems": 1},
    ]
}


class IpSettingsBody(BaseModel):
    """A whitelist entry with regex metacharacters must compile as a regex."""

    enabled: bool
    blacklist: Entries
    asnBlacklist: Entries
    fingerprintBlacklist: Entries
    enableWhitelist: bool = False
    whitelist: Entries = Field(default_factory=list)
    enableDailyLimit: bool
    dailyRequestLimit: Annotated[Any, WithJsonSchema(DAILY_LIMIT_SCHEMA)]


@router.get("/settings", responses=answers(ok=DEFAULT_SETTINGS))
async def get_settings(services: ServicesDep) -> dict[str, Any]:
    return await services.ip_access.settings()


@router.post(
    "/settings",
    responses=answers({400: [INVALID_SETTING, TOO_MANY]}, ok={"success": True}),
    openapi_extra=json_body(IpSettingsBody),
)
async def save_settings(body: Annotated[Any, Body()], services: ServicesDep) -> dict[str, Any]:
    await services.ip_access.save(body)
    return {"success": True}
