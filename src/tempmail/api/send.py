"""Sending from an address: `/api/send_mail`, `/external/api/send_mail`, send access, sent box."""

from __future__ import annotations

import time
from typing import Any

import jwt
from fastapi import APIRouter, Request

from tempmail.errors import ApiError
from tempmail.http.auth import AddressDep, RoleDep
from tempmail.http.client_ip import sender_ip
from tempmail.http.context import ServicesDep
from tempmail.http.paging import IdPath, PagingDep, page_json
from tempmail.outbound.sending import SendError, SendRequest
from tempmail.services import Services

router = APIRouter(tags=["send"])

SEND_FAILED = "Failed to send mail {inner}"


class ExternalSendRequest(SendRequest):
    token: str = ""


def jwt_error(token: str) -> str:
    """Why a token was refused, in the words of the JWT library the reference uses (hono), which
    it puts after `Failed to send mail`."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return f"invalid JWT token: {token}"
    expires = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(expires, (int, float)) and expires <= time.time():
        return f"token ({token}) expired"
    return f"token({token}) signature mismatched"


async def _send(
    services: Services, request: Request, address: str, address_id: int, role: str | None, body: SendRequest
) -> None:
    try:
        await services.sending.send_as_address(address, address_id, role, body, sender_ip(request))
    except SendError as exc:
        raise ApiError(400, SEND_FAILED, inner=str(exc)) from None


@router.post("/api/send_mail")
async def send_mail(
    request: Request, body: SendRequest, claim: AddressDep, role: RoleDep, services: ServicesDep
) -> dict[str, Any]:
    await _send(services, request, claim.address, claim.address_id, role, body)
    return {"status": "ok"}


@router.post("/external/api/send_mail")
async def external_send_mail(
    request: Request, body: ExternalSendRequest, services: ServicesDep
) -> dict[str, Any]:
    """For scripts: the address JWT travels in the body; a bad one is `Failed to send mail <why>`."""
    claim = services.tokens.read_address(body.token)
    if claim is None:
        raise ApiError(400, SEND_FAILED, inner=jwt_error(body.token))
    if not await services.addresses.is_live(claim.address_id, claim.address):
        raise ApiError(400, SEND_FAILED, inner="Invalid address")
    await _send(services, request, claim.address, claim.address_id, None, body)
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
    await services.sending.delete_sent(item_id, owner=claim.address)
    return {"success": True}
