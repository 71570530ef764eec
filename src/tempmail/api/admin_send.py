"""`/admin` routes for sending: send as any address, send a structured mail through a relay,
sender access and balances, the sent box, and the account settings (COMPAT §6.2, §11)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, ValidationError

from tempmail.errors import ApiError
from tempmail.http.auth import require_admin
from tempmail.http.body import json_or_none
from tempmail.http.client_ip import sender_ip
from tempmail.http.context import ServicesDep
from tempmail.http.paging import MAX_ID, IdPath, PagingDep, page_json
from tempmail.outbound.relays import Attachment, OutgoingMail
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


INVALID_INPUT = "Invalid input"


def admin_send_error(exc: SendError) -> ApiError:
    """The reference shows a contract text as it is and hides anything else (a relay's answer)."""
    return ApiError(400, str(exc)) if exc.known else ApiError(400, "Operation failed")


@router.post("/send_mail")
async def send_mail(request: Request, services: ServicesDep) -> dict[str, Any]:
    try:
        body = AdminSendRequest.model_validate(await json_or_none(request))
    except ValidationError:
        raise ApiError(400, INVALID_INPUT) from None
    try:
        await services.sending.send_as_admin(body.from_mail, body, sender_ip(request))
    except SendError as exc:
        raise admin_send_error(exc) from None
    return {"status": "ok"}


def _addresses(value: Any) -> list[str]:
    """A recipient field: one address or a list of them."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) and item.strip() for item in items):
        raise ApiError(400, INVALID_INPUT)
    return [item.strip() for item in items]


def _attachments(value: Any) -> list[Attachment]:
    """`[{filename, content (base64), type}]`."""
    if not isinstance(value, list):
        raise ApiError(400, INVALID_INPUT)
    found = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("content"), str):
            raise ApiError(400, INVALID_INPUT)
        try:
            content = base64.b64decode(item["content"], validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, INVALID_INPUT) from None
        kind = item.get("type") or item.get("contentType") or "application/octet-stream"
        found.append(Attachment(str(item.get("filename") or "attachment"), content, str(kind)))
    return found


def structured_mail(body: Any) -> OutgoingMail:
    """The body of `/admin/send_mail_by_binding` as a mail; a malformed one is `Invalid input`."""
    if not isinstance(body, dict):
        raise ApiError(400, INVALID_INPUT)
    sender, html, text = body.get("from"), body.get("html"), body.get("text")
    if isinstance(sender, dict):
        name, email = sender.get("name") or "", sender.get("email")
    else:
        name, email = "", sender
    subject = body.get("subject")
    if not email or not body.get("to") or not subject or not (html or text):
        raise ApiError(400, INVALID_INPUT)
    fields = (email, name, subject, html or "", text or "")
    if not all(isinstance(field, str) for field in fields):
        raise ApiError(400, INVALID_INPUT)
    _, at, domain = email.strip().rpartition("@")
    if not at or not domain:
        raise ApiError(400, INVALID_INPUT)
    headers = body.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ApiError(400, INVALID_INPUT)
    return OutgoingMail(
        from_address=email.strip(),
        from_name=name,
        to=_addresses(body["to"]),
        cc=_addresses(body["cc"]) if body.get("cc") else [],
        bcc=_addresses(body["bcc"]) if body.get("bcc") else [],
        reply_to=_addresses(body["replyTo"]) if body.get("replyTo") else [],
        subject=subject,
        html=html or "",
        text=text or "",
        headers={str(k): v for k, v in headers.items()},
        attachments=_attachments(body["attachments"]) if body.get("attachments") else [],
    )


@router.post("/send_mail_by_binding")
async def send_mail_by_binding(request: Request, services: ServicesDep) -> dict[str, Any]:
    """COMPAT §6.2; without any relay the binding is missing, whatever the body."""
    if not services.sending.has_binding():
        raise ApiError(400, "Please enable SEND_MAIL first")
    mail = structured_mail(await json_or_none(request))
    try:
        await services.sending.send_structured(mail)
    except SendError as exc:
        raise admin_send_error(exc) from None
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
    await services.sending.delete_sender(row_id)
    return {"success": True}


@router.get("/sendbox")
async def sendbox(request: Request, paging: PagingDep, services: ServicesDep) -> dict[str, Any]:
    return page_json(await services.sending.sent_page(paging.limit, paging.offset, _address_filter(request)))


@router.delete("/sendbox/{item_id}")
async def delete_sent(item_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    await services.sending.delete_sent(item_id)
    return {"success": True}


@router.get("/account_settings")
async def account_settings(services: ServicesDep) -> dict[str, Any]:
    return await services.account_settings.view()


@router.post("/account_settings")
async def save_account_settings(request: Request, services: ServicesDep) -> dict[str, Any]:
    await services.account_settings.update(await json_or_none(request))
    return {"success": True}
