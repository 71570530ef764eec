"""Sending from an address: `/api/send_mail`, `/external/api/send_mail`, send access, sent box."""

from __future__ import annotations

import time
from typing import Any

import jwt
from fastapi import APIRouter, Request

from tempmail.api.address import INVALID_ADDRESS
from tempmail.errors import DELETE_DISABLED, ApiError
from tempmail.http.auth import AddressDep, RoleDep
from tempmail.http.client_ip import sender_ip
from tempmail.http.context import ServicesDep
from tempmail.http.lax import LaxBool, OptionalLaxId
from tempmail.http.openapi import answers
from tempmail.http.paging import IdPath, PagingDep, page_json
from tempmail.outbound.sending import ALREADY_REQUESTED, SendError, SendRequest, sent_record
from tempmail.services import Services

router = APIRouter(tags=["send"])

SEND_FAILED = "Failed to send mail {inner}"
OK = {"status": "ok"}
SENT = answers({400: SEND_FAILED}, ok=OK)
SENT_ITEM_EXAMPLE: dict[str, Any] = {
    "id": 1,
    "address": "tmpk3v9x2@mail.example",
    "raw": sent_record(
        SendRequest(to_mail="bob@other.example", subject="Hello", content="Hi!"),
        "bob@other.example",
        "203.0.113.7",
    ),
    "created_at": "2026-01-01 12:00:00",
}


class AddressSendRequest(SendRequest):
    """`SendRequest` as pydantic reads it, for the document: its lax mode also takes 0, 1 and
    words like `yes` for `is_html`, and the text of an integer for `reply_mail_id`."""

    is_html: LaxBool = False
    reply_mail_id: OptionalLaxId = None


class ExternalSendRequest(AddressSendRequest):
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


@router.post("/api/send_mail", responses=SENT)
async def send_mail(
    request: Request, body: AddressSendRequest, claim: AddressDep, role: RoleDep, services: ServicesDep
) -> dict[str, Any]:
    await _send(services, request, claim.address, claim.address_id, role, body)
    return OK


@router.post("/external/api/send_mail", responses=SENT)
async def external_send_mail(
    request: Request, body: ExternalSendRequest, services: ServicesDep
) -> dict[str, Any]:
    """For scripts: the address JWT travels in the body; a bad one is `Failed to send mail <why>`."""
    claim = services.tokens.read_address(body.token)
    if claim is None:
        raise ApiError(400, SEND_FAILED, inner=jwt_error(body.token))
    if not await services.addresses.is_live(claim.address_id, claim.address):
        raise ApiError(400, SEND_FAILED, inner=INVALID_ADDRESS)
    await _send(services, request, claim.address, claim.address_id, None, body)
    return OK


@router.post("/api/request_send_mail_access", responses=answers({400: ALREADY_REQUESTED}, ok=OK))
async def request_send_mail_access(claim: AddressDep, services: ServicesDep) -> dict[str, Any]:
    await services.sending.request_access(claim.address)
    return OK


@router.get("/api/sendbox", responses=answers(ok={"results": [SENT_ITEM_EXAMPLE], "count": 1}))
async def sendbox(claim: AddressDep, paging: PagingDep, services: ServicesDep) -> dict[str, Any]:
    return page_json(await services.sending.sent_page(paging.limit, paging.offset, owner=claim.address))


@router.delete("/api/sendbox/{item_id}", responses=answers({403: DELETE_DISABLED}, ok={"success": True}))
async def delete_sent(item_id: IdPath, claim: AddressDep, services: ServicesDep) -> dict[str, Any]:
    services.mailbox.ensure_owner_deletes()
    await services.sending.delete_sent(item_id, owner=claim.address)
    return {"success": True}
