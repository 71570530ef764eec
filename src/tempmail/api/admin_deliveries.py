"""`GET /admin/deliveries`: the outbox (forwards, webhooks, auto-replies after stored mail), so
the admin sees what is pending, what was delivered after how many attempts, and what failed and
why (see `tempmail.inbound.outbox`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep
from tempmail.http.openapi import answers
from tempmail.http.paging import PagingDep, page_json
from tempmail.inbound.outbox import INVALID_STATUS

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])

DELIVERY_EXAMPLE = {
    "id": 7,
    "mail_id": 42,
    "kind": "webhook",
    "address": "box@example.com",
    "attempts": 3,
    "last_error": "mail webhook: 503 Service Unavailable",
    "next_attempt_at": "2026-12-08 10:00:05",
    "created_at": "2026-12-08 10:00:00",
    "done_at": "2026-12-08 10:00:06",
    "status": "done",
}
# A plain string rather than an enum, so that a wrong value gets the clear 400 below, not a 422.
StatusFilter = Annotated[
    str | None, Query(description="Only deliveries of this status: pending, done or failed; all when absent.")
]


@router.get(
    "/deliveries",
    responses=answers({400: INVALID_STATUS}, ok={"results": [DELIVERY_EXAMPLE], "count": 1}),
)
async def deliveries(paging: PagingDep, services: ServicesDep, status: StatusFilter = None) -> dict[str, Any]:
    """Newest first; `attempts` counts the attempts made, `last_error` says why the last failed
    one failed, `next_attempt_at` is when a pending one is tried (again)."""
    page = await services.outbox.page(paging.limit, paging.offset, status.strip().lower() if status else None)
    return page_json(page, lambda row: row._asdict())
