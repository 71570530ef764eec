"""`/admin`: the operator's routes (API.md §4, Admin and Database)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from tempmail.accounts.addresses import (
    ADDRESS_EXISTS,
    ADMIN_SORT_KEYS,
    CHANGE_DISABLED,
    DOMAINS_NOT_SET,
    FAILED,
    INVALID_DOMAIN,
    NAME_REQUIRED,
    NAME_TOO_LONG,
    NAME_TOO_SHORT,
    NO_RANDOM_SUBDOMAIN,
)
from tempmail.accounts.users import ADDRESS_NOT_FOUND, NEW_PASSWORD_REQUIRED
from tempmail.api.examples import ADDRESS_ROW, MAIL_EXAMPLE
from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep, services_of
from tempmail.http.fast_lane import JsonBody
from tempmail.http.lax import LaxBool
from tempmail.http.openapi import answers
from tempmail.http.paging import IdPath, PagingDep, page_json, paging
from tempmail.inbound.views import mail_row

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])


def _failed(inner: str) -> str:
    return FAILED.format(inner=inner)


NOT_FOUND = answers({404: ADDRESS_NOT_FOUND}, ok={"success": True})
# `address` of /admin/mails, /admin/sendbox and /admin/address_sender.
AddressFilter = Annotated[
    str, Query(description="Only the rows of this address (trimmed, case-folded); all when empty.")
]


class AdminNewAddressBody(BaseModel):
    name: str | None = None
    domain: str | None = None
    # The reference applies PREFIX only when the body asks for it.
    enablePrefix: LaxBool = False
    enableRandomSubdomain: LaxBool = False


class ResetPasswordBody(BaseModel):
    password: str | None = None


NEW_ADDRESS_REFUSED = {
    400: [
        NAME_REQUIRED,
        _failed(NAME_TOO_SHORT),
        _failed(NAME_TOO_LONG),
        DOMAINS_NOT_SET,
        _failed(INVALID_DOMAIN),
        _failed(NO_RANDOM_SUBDOMAIN),
        _failed(ADDRESS_EXISTS),
    ]
}


@router.get("/address", responses=answers(ok={"results": [ADDRESS_ROW], "count": 1}))
async def list_addresses(
    paging: PagingDep,
    services: ServicesDep,
    query: Annotated[str, Query(description="Only names containing this (case-folded).")] = "",
    sort_by: Annotated[
        str, Query(description=f"One of {', '.join(ADMIN_SORT_KEYS)}; any other value sorts by id.")
    ] = "id",
    sort_order: Annotated[
        str, Query(description="`ascend` for ascending; anything else is descending.")
    ] = "descend",
) -> dict[str, Any]:
    page = await services.addresses.page(
        paging.limit,
        paging.offset,
        query=query,
        sort_by=sort_by or "id",
        ascending=sort_order == "ascend",
    )
    return page_json(page)


@router.post(
    "/new_address",
    responses=answers(
        NEW_ADDRESS_REFUSED,
        ok={
            "jwt": "eyJhbGciOiJIUzI1NiJ9...",
            "address": "box@example.com",
            "password": None,
            "address_id": 1,
        },
    ),
)
async def new_address(body: AdminNewAddressBody, services: ServicesDep) -> dict[str, Any]:
    created = await services.addresses.create_admin(
        name=body.name or "",
        domain=body.domain,
        enable_prefix=body.enablePrefix,
        random_subdomain=body.enableRandomSubdomain,
    )
    return created.as_json()


@router.delete("/delete_address/{address_id}", responses=answers(ok={"success": True}))
async def delete_address(address_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    return {"success": await services.addresses.delete(address_id)}


@router.delete("/clear_inbox/{address_id}", responses=NOT_FOUND)
async def clear_inbox(address_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    await services.mailbox.clear(await services.addresses.name_of(address_id))
    return {"success": True}


@router.delete("/clear_sent_items/{address_id}", responses=NOT_FOUND)
async def clear_sent_items(address_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    await services.sending.clear_sent(await services.addresses.name_of(address_id))
    return {"success": True}


@router.get(
    "/show_password/{address_id}",
    responses=answers({404: ADDRESS_NOT_FOUND}, ok={"jwt": "eyJhbGciOiJIUzI1NiJ9..."}),
)
async def show_password(address_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    name = await services.addresses.name_of(address_id)
    return {"jwt": services.tokens.address_jwt(name, address_id)}


@router.post(
    "/address/{address_id}/reset_password",
    responses=answers(
        {403: CHANGE_DISABLED, 400: NEW_PASSWORD_REQUIRED, 404: ADDRESS_NOT_FOUND}, ok={"success": True}
    ),
)
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
    page = await paging(request)
    return JsonBody(await mails(page, services, request.query_params.get("address", "")))


@router.get("/mails", responses=answers(ok={"results": [MAIL_EXAMPLE], "count": 1}))
async def mails(paging: PagingDep, services: ServicesDep, address: AddressFilter = "") -> dict[str, Any]:
    page = await services.mailbox.page(paging.limit, paging.offset, owner=address.strip().lower() or None)
    return page_json(page, mail_row)


@router.get("/mails_unknow", responses=answers(ok={"results": [MAIL_EXAMPLE], "count": 1}))
async def mails_unknown(paging: PagingDep, services: ServicesDep) -> dict[str, Any]:
    return page_json(await services.mailbox.unknown(paging.limit, paging.offset), mail_row)


@router.get("/mails/{mail_id}", responses=answers(ok=MAIL_EXAMPLE))
async def mail(mail_id: IdPath, services: ServicesDep) -> dict[str, Any] | None:
    """`null` for an unknown id, as in the reference."""
    row = await services.mailbox.get(mail_id)
    return mail_row(row) if row is not None else None


@router.delete("/mails/{mail_id}", responses=answers(ok={"success": True}))
async def delete_mail(mail_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    await services.mailbox.delete(mail_id)
    return {"success": True}


@router.get(
    "/statistics",
    responses=answers(
        ok={
            "mailCount": 10,
            "addressCount": 3,
            "activeAddressCount7days": 2,
            "activeAddressCount30days": 3,
            "userCount": 1,
            "sendMailCount": 0,
        }
    ),
)
async def stats(services: ServicesDep) -> dict[str, int]:
    return await services.database.statistics()


@router.post("/db_initialize", responses=answers(ok={"message": "Database already initialized"}))
async def db_initialize(services: ServicesDep) -> dict[str, str]:
    return {"message": await services.database.initialize()}


@router.post(
    "/db_migration", responses=answers(ok={"success": True, "message": "Database does not need migration"})
)
async def db_migration(services: ServicesDep) -> dict[str, Any]:
    return {"success": True, "message": await services.database.migrate()}


@router.get(
    "/db_version",
    responses=answers(
        ok={
            "need_initialization": False,
            "need_migration": False,
            "current_db_version": "v0.0.7",
            "code_db_version": "v0.0.7",
            "database_size": 143360,
        }
    ),
)
async def db_version(services: ServicesDep) -> dict[str, Any]:
    return await services.database.version()
