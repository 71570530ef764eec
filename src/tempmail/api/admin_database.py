"""`/admin/db_usage` (ours): the database's size and the room it has left, for the console's
Database screen. The reference's `/admin/db_version` reports a size too, but no capacity, and its
shape is the contract, so the capacity gets a route of its own."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep
from tempmail.http.openapi import answers

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])

USAGE_EXAMPLE = {
    "backend": "sqlite",
    "databaseSize": 143360,
    "diskFree": 52613349376,
    "diskTotal": 105226698752,
    "mailCount": 10,
}


@router.get("/db_usage", responses=answers(ok=USAGE_EXAMPLE))
async def db_usage(services: ServicesDep) -> dict[str, Any]:
    """`diskFree`/`diskTotal`: the file system under the SQLite file; null on PostgreSQL."""
    return await services.database.usage()
