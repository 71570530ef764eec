"""`/admin/test/*`: routes for end-to-end tests, present only when E2E_TEST_MODE is on."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from tempmail.errors import ApiError
from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep
from tempmail.http.openapi import answers
from tempmail.inbound.pipeline import MAX_MESSAGE_ID, InboundMail, StoreFailed, header_of

MAX_SEED_RAW = 1_000_000
NOT_AVAILABLE = "Not available"
SEED_REQUIRED = "address and raw are required"
RAW_TOO_LARGE = "raw content too large"
MESSAGE_ID_TOO_LONG = "message_id too long"
RECEIVE_REQUIRED = "from, to and raw are required"


async def require_test_mode(services: ServicesDep) -> None:
    if not services.settings.E2E_TEST_MODE:
        raise ApiError(404, NOT_AVAILABLE)


router = APIRouter(
    prefix="/admin/test",
    tags=["test mode"],
    dependencies=[Depends(require_test_mode), Depends(require_admin)],
    responses=answers({404: NOT_AVAILABLE}),
)


class SeedMailBody(BaseModel):
    address: str | None = None
    raw: str | None = None
    source: str | None = None
    message_id: str | None = None


class ReceiveMailBody(BaseModel):
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    raw: str | None = None
    # Taken as the extraction's answer (JSON text or an object), as the reference's AI hook.
    ai_extract_result: Any = None


def with_message_id(raw: str) -> str:
    """`raw`, given a synthetic `Message-ID: <e2e-<ms>@test>` when it has none, so that
    auto-reply and metadata (which need one) work on hand-written test mails."""
    if header_of(raw.encode("utf-8"), "Message-ID"):
        return raw
    return f"Message-ID: <e2e-{int(time.time() * 1000)}@test>\r\n{raw}"


@router.post(
    "/seed_mail",
    responses=answers({400: [SEED_REQUIRED, RAW_TOO_LARGE, MESSAGE_ID_TOO_LONG]}, ok={"success": True}),
)
async def seed_mail(body: SeedMailBody, services: ServicesDep) -> dict[str, Any]:
    """Insert a mail row directly, skipping the pipeline (fixtures for UI and API tests)."""
    if not body.address or not body.raw:
        raise ApiError(400, SEED_REQUIRED)
    if len(body.raw) > MAX_SEED_RAW:
        raise ApiError(400, RAW_TOO_LARGE)
    if body.message_id is not None and len(body.message_id) > MAX_MESSAGE_ID:
        raise ApiError(400, MESSAGE_ID_TOO_LONG)
    await services.mailbox.seed(
        body.address.strip().lower(), body.raw.encode("utf-8"), body.source or "", body.message_id
    )
    return {"success": True}


@router.post(
    "/receive_mail",
    responses=answers(
        {400: RECEIVE_REQUIRED},
        ok={"success": True, "replyCalled": False, "forwardedTo": []},
    ),
)
async def receive_mail(body: ReceiveMailBody, services: ServicesDep) -> dict[str, Any]:
    """Run the very pipeline SMTP runs, on a message given as JSON, and everything that follows
    a stored mail before answering."""
    if not body.from_ or not body.to or not body.raw:
        raise ApiError(400, RECEIVE_REQUIRED)
    raw = with_message_id(body.raw).encode("utf-8")
    mail = InboundMail(body.from_, [body.to], raw, ai_answer=body.ai_extract_result)
    try:
        result = await services.pipeline.receive(mail, wait_after_store=True)
    except StoreFailed:
        return {
            "success": False,
            "replyCalled": False,
            "forwardedTo": [],
            "rejected": f"Failed save message to {body.to}",
        }
    answer: dict[str, Any] = {
        "success": bool(result.stored_ids),
        "replyCalled": result.reply_called,
        "forwardedTo": result.forwarded_to,
    }
    if result.rejected:
        answer["rejected"] = next(iter(result.rejected.values()))
    return answer
