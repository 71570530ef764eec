"""`/admin/cleanup` and `/admin/auto_cleanup`: retention, by hand and on schedule (COMPAT §9).

Both take the JSON as sent: the reference refuses a `cleanDays` given as a string (which a
coercing body model would accept) and stores the auto-cleanup settings exactly as posted.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, Field, create_model

from tempmail.errors import INVALID_INPUT
from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep
from tempmail.http.openapi import answers, json_body
from tempmail.maintenance.cleanup import (
    CLEAN_TYPES,
    CUSTOM_SQL_REFUSED,
    INVALID_CONFIG,
    INVALID_TYPE,
    MAX_DAYS,
    OPERATION_FAILED,
    SCHEDULED,
)

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])

JsonBody = Annotated[Any, Body()]
SUCCESS = {"success": True}


class CleanupBody(BaseModel):
    """Anything else is the reference's 500 (COMPAT §10), never a 400."""

    cleanType: Literal[CLEAN_TYPES]  # type: ignore[valid-type]
    cleanDays: float = Field(ge=0, le=MAX_DAYS, description="A JSON number, not a string")


# Stored as posted: only a non-empty custom statement is checked, so every field takes any JSON
# (these are the ones the schedule reads: `enable…` a switch, `clean…Days` a number of days).
_AUTO_CLEANUP_FIELDS: dict[str, Any] = {
    name: (Any, None) for enabled, days, _ in SCHEDULED for name in (enabled, days)
}
AutoCleanupBody = create_model(
    "AutoCleanupBody",
    __doc__="Stored exactly as posted; the schedule reads these fields.",
    customSqlCleanupList=(
        Any,
        Field(
            default=None,
            description="`[{name, sql}]`; a non-empty `sql` must be one "
            "`DELETE FROM raw_mails|sendbox ...` statement, without comments",
        ),
    ),
    **_AUTO_CLEANUP_FIELDS,
)


@router.post(
    "/cleanup",
    responses=answers(
        {
            500: [
                OPERATION_FAILED.format(inner=INVALID_CONFIG),
                OPERATION_FAILED.format(inner=INVALID_TYPE),
                OPERATION_FAILED,
            ]
        },
        ok=SUCCESS,
    ),
    openapi_extra=json_body(CleanupBody, required=False),
)
async def cleanup(services: ServicesDep, body: JsonBody = None) -> dict[str, Any]:
    fields = body if isinstance(body, dict) else {}
    await services.cleanup.clean(fields.get("cleanType"), fields.get("cleanDays"))
    return {"success": True}


@router.get(
    "/auto_cleanup",
    responses=answers(ok={"enableMailsAutoCleanup": True, "cleanMailsDays": 30, "customSqlCleanupList": []}),
)
async def get_auto_cleanup(services: ServicesDep) -> Any:
    """What was last posted, or null when never saved."""
    return await services.cleanup.settings()


@router.post(
    "/auto_cleanup",
    responses=answers({400: [INVALID_INPUT, CUSTOM_SQL_REFUSED]}, ok=SUCCESS),
    openapi_extra=json_body(AutoCleanupBody, required=False),
)
async def set_auto_cleanup(services: ServicesDep, body: JsonBody = None) -> dict[str, Any]:
    await services.cleanup.save_settings(body)
    return {"success": True}
