"""`/api`: what an address's owner does with its address JWT (API.md §4, Address)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from tempmail.accounts.users import UserClaim
from tempmail.db.mails import mail_row
from tempmail.errors import USER_TOKEN, ApiError
from tempmail.http.auth import AddressDep, role_of, signed_address
from tempmail.http.common import IdPath, PagingDep, ServicesDep, client_ip, ensure_deletes_allowed, page_json
from tempmail.inbound.views import parsed_rows
from tempmail.security.passwords import hash_password, needs_rehash, verify_password
from tempmail.security.tokens import AddressClaim
from tempmail.services import Services

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
    request: Request, services: ServicesDep, body: NewAddressBody | None = None
) -> dict[str, Any]:
    """Anonymous, or with `x-user-token` a logged-in creation: the address is bound to the user
    within the limit of the user's role, with the role's domains and prefix."""
    body = body or NewAddressBody()
    user = await _optional_user(request, services)
    role_name = role_of(request, services)
    if role_name is None and user is not None:
        role_name = await services.user_store.role(user.user_id)
    if user is not None:
        await services.users.check_room(user.user_id)
    created = await services.address_service.create_public(
        name=body.name,
        domain=body.domain,
        random_subdomain=body.enableRandomSubdomain,
        source_meta=client_ip(request, services.settings.TRUSTED_PROXIES),
        logged_in=user is not None,
        role=services.users.role_config(role_name),
    )
    if user is not None:
        await services.users.bind(user.user_id, created.address_id, limited=False)
    return created.as_json()


async def _optional_user(request: Request, services: Services) -> UserClaim | None:
    """No `x-user-token`: anonymous. A token that is not valid: 401, not a silent anonymous
    creation the person would lose track of."""
    token = request.headers.get("x-user-token")
    if not token:
        return None
    claim = services.users.read_user(token)
    if claim is None or not await services.users.is_live(claim):
        raise ApiError(401, USER_TOKEN)
    return claim


@router.post("/address_login")
async def address_login(body: AddressLoginBody, services: ServicesDep) -> dict[str, Any]:
    if not services.settings.ENABLE_ADDRESS_PASSWORD:
        raise ApiError(403, "Password login is disabled")
    if not body.email or not body.password:
        raise ApiError(400, "Email and password are required")
    row = await services.addresses.get_by_name(body.email.strip().lower())
    if row is None:
        raise ApiError(404, "Address not found")
    if not await verify_password(row.password, body.password):
        raise ApiError(401, "Invalid email or password")
    if needs_rehash(row.password):
        await services.addresses.set_password(row.id, await hash_password(body.password))
    return {"jwt": services.tokens.address_jwt(row.name, row.id), "address": row.name}


@router.post("/address_change_password")
async def address_change_password(
    body: ChangePasswordBody, claim: AddressDep, services: ServicesDep
) -> dict[str, Any]:
    if not services.settings.ENABLE_ADDRESS_PASSWORD:
        raise ApiError(403, "Password change is disabled")
    if not body.new_password:
        raise ApiError(400, "New password is required")
    await services.addresses.set_password(claim.address_id, await hash_password(body.new_password))
    return {"success": True}


@router.get("/settings")
async def settings(
    claim: Annotated[AddressClaim, Depends(signed_address)], request: Request, services: ServicesDep
) -> dict[str, Any]:
    if not await services.addresses.is_live(claim.address_id, claim.address):
        raise ApiError(400, "Invalid address")
    await services.addresses.touch(claim.address_id)
    balance = await services.sending.balance(claim.address, role_of(request, services))
    return {"address": claim.address, "send_balance": balance}


@router.get("/mails")
async def mails(claim: AddressDep, paging: PagingDep, services: ServicesDep) -> dict[str, Any]:
    if paging.offset == 0:
        await services.addresses.touch(claim.address_id)
    page = await services.mails.page(paging.limit, paging.offset, owner=claim.address)
    return page_json(page, mail_row)


@router.get("/mail/{mail_id}")
async def mail(mail_id: IdPath, claim: AddressDep, services: ServicesDep) -> dict[str, Any] | None:
    row = await services.mails.get(mail_id, owner=claim.address)
    return mail_row(row) if row is not None else None


@router.delete("/mails/{mail_id}")
async def delete_mail(mail_id: IdPath, claim: AddressDep, services: ServicesDep) -> dict[str, Any]:
    ensure_deletes_allowed(services)
    return {"success": await services.mails.delete(mail_id, owner=claim.address)}


@router.get("/parsed_mails")
async def parsed_mails(claim: AddressDep, paging: PagingDep, services: ServicesDep) -> dict[str, Any]:
    page = await services.mails.page(paging.limit, paging.offset, owner=claim.address)
    return {"results": await parsed_rows(page.results), "count": page.count}


@router.get("/parsed_mail/{mail_id}")
async def parsed_mail(mail_id: IdPath, claim: AddressDep, services: ServicesDep) -> dict[str, Any] | None:
    row = await services.mails.get(mail_id, owner=claim.address)
    return (await parsed_rows([row]))[0] if row is not None else None


@router.delete("/delete_address")
async def delete_address(claim: AddressDep, services: ServicesDep) -> dict[str, Any]:
    ensure_deletes_allowed(services)
    await services.addresses.delete_with_data(claim.address_id)
    return {"success": True}


@router.delete("/clear_inbox")
async def clear_inbox(claim: AddressDep, services: ServicesDep) -> dict[str, Any]:
    ensure_deletes_allowed(services)
    await services.mails.clear(claim.address)
    return {"success": True}


@router.delete("/clear_sent_items")
async def clear_sent_items(claim: AddressDep, services: ServicesDep) -> dict[str, Any]:
    ensure_deletes_allowed(services)
    await services.sendbox.clear(claim.address)
    return {"success": True}
