"""`/admin`: the operator's routes (API.md §4, Admin and Database)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from tempmail.db.addresses import ADMIN_SORT_KEYS, statistics
from tempmail.db.mails import mail_row
from tempmail.errors import ApiError
from tempmail.http.auth import require_admin
from tempmail.http.common import IdPath, PagingDep, ServicesDep, page_json
from tempmail.security.passwords import hash_password

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])


class AdminNewAddressBody(BaseModel):
    name: str | None = None
    domain: str | None = None
    enablePrefix: bool = True
    enableRandomSubdomain: bool = False


class ResetPasswordBody(BaseModel):
    password: str | None = None


@router.get("/address")
async def list_addresses(request: Request, paging: PagingDep, services: ServicesDep) -> dict[str, Any]:
    params = request.query_params
    sort_by = params.get("sort_by") or "id"
    page = await services.addresses.page(
        paging.limit,
        paging.offset,
        query=(params.get("query") or "").strip().lower(),
        sort_by=sort_by if sort_by in ADMIN_SORT_KEYS else "id",
        ascending=params.get("sort_order") == "ascend",
    )
    return page_json(page)


@router.post("/new_address")
async def new_address(body: AdminNewAddressBody, services: ServicesDep) -> dict[str, Any]:
    created = await services.address_service.create_admin(
        name=body.name or "",
        domain=body.domain,
        enable_prefix=body.enablePrefix,
        random_subdomain=body.enableRandomSubdomain,
    )
    return created.as_json()


@router.delete("/delete_address/{address_id}")
async def delete_address(address_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    return {"success": await services.addresses.delete_with_data(address_id)}


async def _address_name(services: ServicesDep, address_id: int) -> str:
    row = await services.addresses.get(address_id)
    if row is None:
        raise ApiError(404, "Address not found")
    return str(row.name)


@router.delete("/clear_inbox/{address_id}")
async def clear_inbox(address_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    await services.mails.clear(await _address_name(services, address_id))
    return {"success": True}


@router.delete("/clear_sent_items/{address_id}")
async def clear_sent_items(address_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    await services.sendbox.clear(await _address_name(services, address_id))
    return {"success": True}


@router.get("/show_password/{address_id}")
async def show_password(address_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    name = await _address_name(services, address_id)
    return {"jwt": services.tokens.address_jwt(name, address_id)}


@router.post("/address/{address_id}/reset_password")
async def reset_password(
    address_id: IdPath, body: ResetPasswordBody, services: ServicesDep
) -> dict[str, Any]:
    if not body.password:
        raise ApiError(400, "New password is required")
    if not await services.addresses.set_password(address_id, await hash_password(body.password)):
        raise ApiError(404, "Address not found")
    return {"success": True}


@router.get("/mails")
async def mails(request: Request, paging: PagingDep, services: ServicesDep) -> dict[str, Any]:
    address = (request.query_params.get("address") or "").strip().lower() or None
    page = await services.mails.page(paging.limit, paging.offset, owner=address)
    return page_json(page, mail_row)


@router.get("/mails_unknow")
async def mails_unknown(paging: PagingDep, services: ServicesDep) -> dict[str, Any]:
    return page_json(await services.mails.page_unknown(paging.limit, paging.offset), mail_row)


@router.get("/mails/{mail_id}")
async def mail(mail_id: IdPath, services: ServicesDep) -> dict[str, Any] | None:
    row = await services.mails.get(mail_id)
    return mail_row(row) if row is not None else None


@router.delete("/mails/{mail_id}")
async def delete_mail(mail_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    return {"success": await services.mails.delete(mail_id)}


@router.get("/statistics")
async def stats(services: ServicesDep) -> dict[str, int]:
    return await statistics(services.db.engine)


@router.post("/db_initialize")
async def db_initialize(services: ServicesDep) -> dict[str, str]:
    current, _ = await services.db.version()
    if current is not None:
        return {"message": "Database already initialized"}
    await services.db.upgrade()
    return {"message": "Database initialized"}


@router.post("/db_migration")
async def db_migration(services: ServicesDep) -> dict[str, Any]:
    current, head = await services.db.version()
    if current == head:
        return {"success": True, "message": "Database does not need migration"}
    await services.db.upgrade()
    return {"success": True, "message": "Database migrated"}


@router.get("/db_version")
async def db_version(services: ServicesDep) -> dict[str, Any]:
    current, head = await services.db.version()
    return {
        "need_initialization": current is None,
        "need_migration": current != head,
        "current_db_version": current,
        "code_db_version": head,
        "database_size": await services.db.size_bytes(),
    }
