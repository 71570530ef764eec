"""`/admin/config*` and `/admin/worker/configs` (COMPAT §5): the admin frontend's own keys, and
the effective configuration as the reference's admin page lists it (counts, never secrets)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from tempmail.config import REFERENCE_VERSION
from tempmail.http.auth import require_admin
from tempmail.http.body import json_or_none
from tempmail.http.context import ServicesDep
from tempmail.http.openapi import answers, json_body
from tempmail.maintenance.admin_config import INVALID_KEY, KEY_PATTERN, VALUE_NOT_STRING
from tempmail.maintenance.worker_configs import worker_configs

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])


class ConfigBody(BaseModel):
    key: str = Field(pattern=f"^{KEY_PATTERN}$")
    value: str


@router.get(
    "/config/{key}",
    responses=answers({400: INVALID_KEY}, ok={"key": "theme", "value": None}),
)
async def get_config(key: str, services: ServicesDep) -> dict[str, Any]:
    """`value` is null for a key never set."""
    return {"key": key, "value": await services.admin_config.get(key)}


@router.post(
    "/config",
    responses=answers(
        {400: [INVALID_KEY, VALUE_NOT_STRING]}, ok={"success": True, "key": "theme", "value": "dark"}
    ),
    openapi_extra=json_body(ConfigBody),
)
async def put_config(request: Request, services: ServicesDep) -> dict[str, Any]:
    body = await json_or_none(request)
    fields = body if isinstance(body, dict) else {}
    key = await services.admin_config.put(fields.get("key"), fields.get("value"))
    return {"success": True, "key": key, "value": fields["value"]}


@router.get(
    "/worker/configs",
    responses=answers(
        ok={
            "DEFAULT_LANG": "en",
            "TITLE": "",
            "HAS_PASSWORD": 0,
            "HAS_ADMIN_PASSWORDS": 1,
            "DOMAINS": ["example.com"],
            "USER_ROLES": [{"role": "vip", "domains": ["example.com"], "prefix": "vip"}],
            "ENABLE_WEBHOOK": False,
            "VERSION": REFERENCE_VERSION,
        }
    ),
)
async def get_worker_configs(services: ServicesDep) -> dict[str, Any]:
    return worker_configs(services.settings, len(services.admin_passwords))
