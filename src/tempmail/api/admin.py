"""`/admin`: the operator's routes (API.md §4, Admin and Database)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep, services_of
from tempmail.http.fast_lane import JsonBody
from tempmail.http.paging import IdPath, PagingDep, page_json, paging
from tempmail.inbound.views import mail_row

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])


class AdminNewAddressBody(BaseModel):
    name: str | None = None
    domain: str | None = None
    # The reference applies PREFIX only when the body asks for it.
    enablePrefix: bool = False
    enableRandomSubdomain: bool = False


class ResetPasswordBody(BaseModel):
    password: str | None = None


@router.get("/address")
async def list_addresses(request: Request, paging: PagingDep, services: ServicesDep) -> dict[str, Any]:
    params = request.query_params
    page = await services.addresses.page(
        paging.limit,
        paging.offset,
        query=params.get("query") or "",
        sort_by=params.get("sort_by") or "id",
        ascending=params.get("sort_order") == "ascend",
    )
    return page_json(page)


@router.post("/new_address")
async def new_address(body: AdminNewAddressBody, services: ServicesDep) -> dict[str, Any]:
    created = await services.addresses.create_admin(
        name=body.name or "",
        domain=body.domain,
        enable_prefix=body.enablePrefix,
        random_subdomain=body.enableRandomSubdomain,
    )
    return created.as_json()


@router.delete("/delete_address/{address_id}")
async def delete_address(address_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    return {"success": await services.addresses.delete(address_id)}


@router.delete("/clear_inbox/{address_id}")
async def clear_inbox(address_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    await services.mailbox.clear(await services.addresses.name_of(address_id))
    return {"success": True}


@router.delete("/clear_sent_items/{address_id}")
async def clear_sent_items(address_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    await services.sending.clear_sent(await services.addresses.name_of(address_id))
    return {"success": True}


@router.get("/show_password/{address_id}")
async def show_password(address_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    name = await services.addresses.name_of(address_id)
    return {"jwt": services.tokens.address_jwt(name, address_id)}


@router.post("/address/{address_id}/reset_password")
async def reset_password(
    address_id: IdPath, body: ResetPasswordBody, services: ServicesDep
) -> dict[str, Any]:
    await services.addresses.change_password(address_id, body.password)
    return {"success": True}


MAILS_PATH = "/admin/mails"


async def mails_answer(request: Request) -> Response:
    """`mails` after the router's admin check, then its paging (see `tempmail.http.fast_lane`)."""
    services = services_of(request)
    await require_admin(request, services)
    return JsonBody(await mails(request, await paging(request), services))


@router.get("/mails")
async def mails(request: Request, paging: PagingDep, services: ServicesDep) -> dict[str, Any]:
    address = (request.query_params.get("address") or "").strip().lower() or None
    page = await services.mailbox.page(paging.limit, paging.offset, owner=address)
    return page_json(page, mail_row)


@router.get("/mails_unknow")
async def mails_unknown(paging: PagingDep, services: ServicesDep) -> dict[str, Any]:
    return page_json(await services.mailbox.unknown(paging.limit, paging.offset), mail_row)


@router.get("/mails/{mail_id}")
async def mail(mail_id: IdPath, services: ServicesDep) -> dict[str, Any] | None:
    row = await services.mailbox.get(mail_id)
    return mail_row(row) if row is not None else None


@router.delete("/mails/{mail_id}")
async def delete_mail(mail_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    await services.mailbox.delete(mail_id)
    return {"success": True}


@router.get("/statistics")
async def stats(services: ServicesDep) -> dict[str, int]:
    return await services.database.statistics()


@router.post("/db_initialize")
async def db_initialize(services: ServicesDep) -> dict[str, str]:
    return {"message": await services.database.initialize()}


@router.post("/db_migration")
async def db_migration(services: ServicesDep) -> dict[str, Any]:
    return {"success": True, "message": await services.database.migrate()}


@router.get("/db_version")
async def db_version(services: ServicesDep) -> dict[str, Any]:
    return await services.database.version()
