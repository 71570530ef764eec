"""Sending from an address: `/api/send_mail`, `/external/api/send_mail`, send access, sent box."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from tempmail.errors import ADDRESS_CREDENTIAL, ApiError
from tempmail.http.auth import AddressDep, RoleDep
from tempmail.http.context import ServicesDep
from tempmail.http.paging import IdPath, PagingDep, page_json
from tempmail.outbound.sending import SendError, SendRequest
from tempmail.services import Services

router = APIRouter(tags=["send"])


class ExternalSendRequest(SendRequest):
    token: str = ""


async def _send(
    services: Services, address: str, address_id: int, role: str | None, body: SendRequest
) -> None:
    try:
        await services.sending.send_as_address(address, address_id, role, body)
    except SendError as exc:
        raise ApiError(400, "Failed to send mail {reason}", reason=str(exc)) from None


@router.post("/api/send_mail")
async def send_mail(
    body: SendRequest, claim: AddressDep, role: RoleDep, services: ServicesDep
) -> dict[str, Any]:
    await _send(services, claim.address, claim.address_id, role, body)
    return {"status": "ok"}


@router.post("/external/api/send_mail")
async def external_send_mail(body: ExternalSendRequest, services: ServicesDep) -> dict[str, Any]:
    """For scripts: the address JWT travels in the body, and a bad one is a 400."""
    claim = services.tokens.read_address(body.token)
    if claim is None or not await services.addresses.is_live(claim.address_id, claim.address):
        raise ApiError(400, ADDRESS_CREDENTIAL)
    await _send(services, claim.address, claim.address_id, None, body)
    return {"status": "ok"}


@router.post("/api/request_send_mail_access")
async def request_send_mail_access(claim: AddressDep, services: ServicesDep) -> dict[str, Any]:
    await services.sending.request_access(claim.address)
    return {"status": "ok"}


@router.get("/api/sendbox")
async def sendbox(claim: AddressDep, paging: PagingDep, services: ServicesDep) -> dict[str, Any]:
    return page_json(await services.sending.sent_page(paging.limit, paging.offset, owner=claim.address))


@router.delete("/api/sendbox/{item_id}")
async def delete_sent(item_id: IdPath, claim: AddressDep, services: ServicesDep) -> dict[str, Any]:
    services.mailbox.ensure_owner_deletes()
    return {"success": await services.sending.delete_sent(item_id, owner=claim.address)}
