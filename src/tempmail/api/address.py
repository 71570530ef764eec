"""`/api`: what an address's owner does with its address JWT (API.md §4, Address)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from tempmail.errors import ApiError
from tempmail.http.auth import AddressDep, OptionalUserDep, RoleDep, signed_address
from tempmail.http.client_ip import client_ip
from tempmail.http.context import ServicesDep
from tempmail.http.paging import IdPath, PagingDep, page_json
from tempmail.inbound.views import mail_row, parsed_rows
from tempmail.security.tokens import AddressClaim

router = APIRouter(prefix="/api", tags=["address"])


class NewAddressBody(BaseModel):
    name: str | None = None
    domain: str | None = None
    cf_token: str | None = None
    enableRandomSubdomain: bool = False


class AddressLoginBody(BaseModel):
    email: str | None = None
    password: str | None = None
    cf_token: str | None = None


class ChangePasswordBody(BaseModel):
    new_password: str | None = None


@router.post("/new_address")
async def new_address(
    request: Request,
    services: ServicesDep,
    user: OptionalUserDep,
    role_name: RoleDep,
    body: NewAddressBody | None = None,
) -> dict[str, Any]:
    """Anonymous, or with `x-user-token` a logged-in creation: the address is bound to the user
    within the limit of the user's role, with the role's domains and prefix."""
    body = body or NewAddressBody()
    if role_name is None and user is not None:
        role_name = await services.roles.role_of(user.user_id)
    if user is not None:
        await services.users.check_room(user.user_id)
    created = await services.addresses.create_public(
        name=body.name,
        domain=body.domain,
        random_subdomain=body.enableRandomSubdomain,
        source_meta=client_ip(request, services.settings.TRUSTED_PROXIES),
        logged_in=user is not None,
        role=services.roles.config_of(role_name),
    )
    if user is not None:
        await services.users.bind(user.user_id, created.address_id, limited=False)
    return created.as_json()


@router.post("/address_login")
async def address_login(body: AddressLoginBody, services: ServicesDep) -> dict[str, Any]:
    return await services.addresses.login(body.email, body.password)


@router.post("/address_change_password")
async def address_change_password(
    body: ChangePasswordBody, claim: AddressDep, services: ServicesDep
) -> dict[str, Any]:
    await services.addresses.change_password(claim.address_id, body.new_password)
    return {"success": True}


@router.get("/settings")
async def settings(
    claim: Annotated[AddressClaim, Depends(signed_address)], role: RoleDep, services: ServicesDep
) -> dict[str, Any]:
    if not await services.addresses.is_live(claim.address_id, claim.address):
        raise ApiError(400, "Invalid address")
    await services.addresses.touch(claim.address_id)
    return {"address": claim.address, "send_balance": await services.sending.balance(claim.address, role)}


@router.get("/mails")
async def mails(claim: AddressDep, paging: PagingDep, services: ServicesDep) -> dict[str, Any]:
    page = await services.mailbox.inbox(claim.address_id, claim.address, paging.limit, paging.offset)
    return page_json(page, mail_row)


@router.get("/mail/{mail_id}")
async def mail(mail_id: IdPath, claim: AddressDep, services: ServicesDep) -> dict[str, Any] | None:
    row = await services.mailbox.get(mail_id, owner=claim.address)
    return mail_row(row) if row is not None else None


@router.delete("/mails/{mail_id}")
async def delete_mail(mail_id: IdPath, claim: AddressDep, services: ServicesDep) -> dict[str, Any]:
    services.mailbox.ensure_owner_deletes()
    await services.mailbox.delete(mail_id, owner=claim.address)
    return {"success": True}


@router.get("/parsed_mails")
async def parsed_mails(claim: AddressDep, paging: PagingDep, services: ServicesDep) -> dict[str, Any]:
    page = await services.mailbox.page(paging.limit, paging.offset, owner=claim.address)
    return {"results": await parsed_rows(page.results), "count": page.count}


@router.get("/parsed_mail/{mail_id}")
async def parsed_mail(mail_id: IdPath, claim: AddressDep, services: ServicesDep) -> dict[str, Any] | None:
    row = await services.mailbox.get(mail_id, owner=claim.address)
    return (await parsed_rows([row]))[0] if row is not None else None


@router.delete("/delete_address")
async def delete_address(claim: AddressDep, services: ServicesDep) -> dict[str, Any]:
    services.mailbox.ensure_owner_deletes()
    await services.addresses.delete(claim.address_id)
    return {"success": True}


@router.delete("/clear_inbox")
async def clear_inbox(claim: AddressDep, services: ServicesDep) -> dict[str, Any]:
    services.mailbox.ensure_owner_deletes()
    await services.mailbox.clear(claim.address)
    return {"success": True}


@router.delete("/clear_sent_items")
async def clear_sent_items(claim: AddressDep, services: ServicesDep) -> dict[str, Any]:
    services.mailbox.ensure_owner_deletes()
    await services.sending.clear_sent(claim.address)
    return {"success": True}
