"""`/admin` routes for sending: send as any address, send a structured mail through a relay,
sender access and balances, the sent box, and the account settings (COMPAT §6.2, §11)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, ValidationError, WithJsonSchema

from tempmail.accounts.addresses import INVALID_DOMAIN
from tempmail.accounts.settings import SEND_MAIL_DISABLED
from tempmail.api.admin import AddressFilter
from tempmail.errors import INVALID_INPUT, ApiError
from tempmail.http.auth import require_admin
from tempmail.http.body import json_or_none
from tempmail.http.client_ip import sender_ip
from tempmail.http.context import ServicesDep
from tempmail.http.lax import LaxBool, OptionalLaxId, lax_int_schema
from tempmail.http.openapi import answers, json_body
from tempmail.http.paging import IdPath, PagingDep, page_json
from tempmail.outbound.relays import Attachment, OutgoingMail
from tempmail.outbound.send_quota import DAILY_REACHED, MONTHLY_REACHED
from tempmail.outbound.sending import (
    CONTENT_EMPTY,
    INVALID_RECIPIENT,
    INVALID_SENDER_ID,
    NO_DOMAIN_BINDING,
    RECIPIENT_BLOCKED,
    SUBJECT_EMPTY,
    SendError,
    SendRequest,
)

router = APIRouter(prefix="/admin", tags=["admin send"], dependencies=[Depends(require_admin)])


class AdminSendRequest(SendRequest):
    from_mail: str = Field(default="", max_length=320)


MAX_BALANCE = 2**31 - 1


class AdminSendBody(AdminSendRequest):
    """The body of /admin/send_mail; is_html and reply_mail_id are read leniently (`1`, `"yes"`,
    `"5"`)."""

    is_html: LaxBool = False
    reply_mail_id: OptionalLaxId = None


class SenderUpdate(BaseModel):
    address_id: OptionalLaxId = None
    balance: Annotated[int, Field(ge=0, le=MAX_BALANCE), WithJsonSchema(lax_int_schema(0, MAX_BALANCE))] = 0
    enabled: LaxBool = True


OPERATION_FAILED = "Operation failed"
# What the send answers besides `Invalid input`: a contract text, or OPERATION_FAILED for any other.
SEND_REFUSALS = [DAILY_REACHED, MONTHLY_REACHED, INVALID_RECIPIENT, OPERATION_FAILED]
SENT = {"status": "ok"}
SUCCESS = {"success": True}


def admin_send_error(exc: SendError) -> ApiError:
    """The reference shows a contract text as it is and hides anything else (a relay's answer)."""
    return ApiError(400, str(exc)) if exc.known else ApiError(400, OPERATION_FAILED)


@router.post(
    "/send_mail",
    responses=answers(
        {
            400: [
                INVALID_INPUT,
                INVALID_DOMAIN,
                RECIPIENT_BLOCKED,
                SUBJECT_EMPTY,
                CONTENT_EMPTY,
                *SEND_REFUSALS,
            ]
        },
        ok=SENT,
    ),
    openapi_extra=json_body(AdminSendBody),
)
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


# What the routes treat as absent (`body.get(...) or default`).
FALSY: dict[str, Any] = {"enum": [None, False, 0, "", [], {}]}
Falsy = Annotated[Any, WithJsonSchema(FALSY)]


class Sender(BaseModel):
    name: str | Falsy = None
    email: str


Recipients = str | list[str]


class Attached(BaseModel):
    filename: Any = None
    content: str = Field(description="Base64")
    type: Any = None
    contentType: Any = None


class StructuredMailBody(BaseModel):
    """The body of /admin/send_mail_by_binding: `from` an address or `{name, email}`; `html` or
    `text` (or both)."""

    from_: str | Sender = Field(alias="from")
    to: Recipients
    cc: Recipients | Falsy = None
    bcc: Recipients | Falsy = None
    replyTo: Recipients | Falsy = None
    subject: str
    html: str | Falsy = None
    text: str | Falsy = None
    headers: dict[str, str] | Falsy = None
    attachments: Annotated[
        list[Attached] | Falsy,
        WithJsonSchema({"anyOf": [{"type": "array", "items": Attached.model_json_schema()}, FALSY]}),
    ] = None


@router.post(
    "/send_mail_by_binding",
    responses=answers({400: [SEND_MAIL_DISABLED, INVALID_INPUT, NO_DOMAIN_BINDING, *SEND_REFUSALS]}, ok=SENT),
    openapi_extra=json_body(StructuredMailBody),
)
async def send_mail_by_binding(request: Request, services: ServicesDep) -> dict[str, Any]:
    """COMPAT §6.2; without any relay the binding is missing, whatever the body."""
    if not services.sending.has_binding():
        raise ApiError(400, SEND_MAIL_DISABLED)
    mail = structured_mail(await json_or_none(request))
    try:
        await services.sending.send_structured(mail)
    except SendError as exc:
        raise admin_send_error(exc) from None
    return {"status": "ok"}


SENDER_ROW = {
    "id": 1,
    "address": "box@example.com",
    "balance": 10,
    "enabled": 1,
    "created_at": "2026-01-01 00:00:00",
}


@router.get("/address_sender", responses=answers(ok={"results": [SENDER_ROW], "count": 1}))
async def address_senders(
    paging: PagingDep, services: ServicesDep, address: AddressFilter = ""
) -> dict[str, Any]:
    return page_json(await services.sending.senders_page(paging.limit, paging.offset, address))


@router.post("/address_sender", responses=answers({400: INVALID_SENDER_ID}, ok=SUCCESS))
async def update_address_sender(body: SenderUpdate, services: ServicesDep) -> dict[str, Any]:
    await services.sending.update_sender(body.address_id, body.balance, body.enabled)
    return {"success": True}


@router.delete("/address_sender/{row_id}", responses=answers(ok=SUCCESS))
async def delete_address_sender(row_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    await services.sending.delete_sender(row_id)
    return {"success": True}


@router.get(
    "/sendbox",
    responses=answers(
        ok={
            "results": [
                {
                    "id": 1,
                    "address": "box@example.com",
                    "raw": '{"version":"v2","to_mail":"someone@example.org","subject":"Hi"}',
                    "created_at": "2026-01-01 00:00:00",
                }
            ],
            "count": 1,
        }
    ),
)
async def sendbox(paging: PagingDep, services: ServicesDep, address: AddressFilter = "") -> dict[str, Any]:
    return page_json(await services.sending.sent_page(paging.limit, paging.offset, address))


@router.delete("/sendbox/{item_id}", responses=answers(ok=SUCCESS))
async def delete_sent(item_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    await services.sending.delete_sent(item_id)
    return {"success": True}


StringList = list[str]


class ForwardingRules(BaseModel):
    emailForwardingList: list[Any] = Field(default_factory=list)


class AddressCreation(BaseModel):
    enableSubdomainMatch: bool | None = None


class SendLimit(BaseModel):
    dailyEnabled: bool
    monthlyEnabled: bool
    # -1 is unlimited; ignored (and may be null) while its period is disabled.
    dailyLimit: int | None = Field(default=None, ge=-1)
    monthlyLimit: int | None = Field(default=None, ge=-1)


class AccountSettingsBody(BaseModel):
    """What POST /admin/account_settings checks (COMPAT §11.3); all of it is stored, or nothing.
    verifiedAddressList must be empty: verified addresses need SEND_MAIL, which tempmail lacks."""

    blockList: StringList
    sendBlockList: StringList
    verifiedAddressList: StringList
    noLimitSendAddressList: StringList | Falsy = None
    fromBlockList: StringList | Falsy = None
    emailRuleSettings: ForwardingRules | None = None
    addressCreationSettings: AddressCreation = Field(default_factory=AddressCreation)
    sendMailLimitConfig: SendLimit | None = Field(default=None, description="Absent keeps the stored one.")


@router.get(
    "/account_settings",
    responses=answers(
        ok={
            "blockList": [],
            "sendBlockList": [],
            "verifiedAddressList": [],
            "fromBlockList": [],
            "noLimitSendAddressList": [],
            "emailRuleSettings": {},
            "addressCreationSettings": {},
            "addressCreationSubdomainMatchStatus": {
                "envConfigured": False,
                "envEnabled": False,
                "effectiveEnabled": False,
            },
            "sendMailLimitConfig": None,
        }
    ),
)
async def account_settings(services: ServicesDep) -> dict[str, Any]:
    return await services.account_settings.view()


@router.post(
    "/account_settings",
    responses=answers({400: [INVALID_INPUT, SEND_MAIL_DISABLED]}, ok=SUCCESS),
    openapi_extra=json_body(AccountSettingsBody),
)
async def save_account_settings(request: Request, services: ServicesDep) -> dict[str, Any]:
    await services.account_settings.update(await json_or_none(request))
    return {"success": True}
