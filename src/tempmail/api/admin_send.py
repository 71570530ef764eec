"""`/admin` routes for sending: send as any address, sender access and balances, the sent box,
and the account settings (API.md §7)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from tempmail.accounts.settings import AccountSettings
from tempmail.errors import ApiError
from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep
from tempmail.http.paging import MAX_ID, IdPath, PagingDep, page_json
from tempmail.outbound.sending import SendError, SendRequest

router = APIRouter(prefix="/admin", tags=["admin send"], dependencies=[Depends(require_admin)])


class AdminSendRequest(SendRequest):
    from_mail: str = Field(default="", max_length=320)


class SenderUpdate(BaseModel):
    address_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    balance: int = Field(default=0, ge=0, le=2**31 - 1)
    enabled: bool = True


def _address_filter(request: Request) -> str:
    return request.query_params.get("address") or ""


@router.post("/send_mail")
async def send_mail(body: AdminSendRequest, services: ServicesDep) -> dict[str, Any]:
    try:
        await services.sending.send_as_admin(body.from_mail, body)
    except SendError as exc:
        raise ApiError(400, "Failed to send mail {reason}", reason=str(exc)) from None
    return {"status": "ok"}


@router.get("/address_sender")
async def address_senders(request: Request, paging: PagingDep, services: ServicesDep) -> dict[str, Any]:
    return page_json(
        await services.sending.senders_page(paging.limit, paging.offset, _address_filter(request))
    )


@router.post("/address_sender")
async def update_address_sender(body: SenderUpdate, services: ServicesDep) -> dict[str, Any]:
    await services.sending.update_sender(body.address_id, body.balance, body.enabled)
    return {"success": True}


@router.delete("/address_sender/{row_id}")
async def delete_address_sender(row_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    return {"success": await services.sending.delete_sender(row_id)}


@router.get("/sendbox")
async def sendbox(request: Request, paging: PagingDep, services: ServicesDep) -> dict[str, Any]:
    return page_json(await services.sending.sent_page(paging.limit, paging.offset, _address_filter(request)))


@router.delete("/sendbox/{item_id}")
async def delete_sent(item_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    return {"success": await services.sending.delete_sent(item_id)}


@router.get("/account_settings")
async def account_settings(services: ServicesDep) -> dict[str, Any]:
    return (await services.account_settings.get()).model_dump()


@router.post("/account_settings")
async def save_account_settings(body: AccountSettings, services: ServicesDep) -> dict[str, Any]:
    await services.account_settings.update(body)
    return {"success": True}
