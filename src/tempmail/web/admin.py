"""The admin console's fragments (`/ui/admin/...`): what `/admin` shows, one group per tab.

Guarded by the admin dependency of the JSON `/admin` routes; the console's buttons and forms call
those JSON routes directly.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse

from tempmail.db.addresses import ADMIN_SORT_KEYS, statistics
from tempmail.errors import ApiError
from tempmail.http.auth import require_admin
from tempmail.http.common import IdPath, PagingDep, ServicesDep
from tempmail.web.fragments import ADMIN, add_reader_routes, mail_list, pager
from tempmail.web.mailview import sent_item
from tempmail.web.render import render

router = APIRouter(prefix="/ui/admin", dependencies=[Depends(require_admin)])

Search = Annotated[str, Query(max_length=320)]
CLEAN_TYPES = (
    "mails",
    "mails_unknow",
    "sendbox",
    "addressCreated",
    "inactiveAddress",
    "unboundAddress",
    "emptyAddress",
)


def _filter(value: str) -> str:
    return value.strip().lower()


@router.get("/addresses")
async def addresses(
    request: Request,
    paging: PagingDep,
    services: ServicesDep,
    query: Search = "",
    sort_by: Search = "id",
    sort_order: Search = "",
) -> HTMLResponse:
    page = await services.addresses.page(
        paging.limit,
        paging.offset,
        query=_filter(query),
        sort_by=sort_by if sort_by in ADMIN_SORT_KEYS else "id",
        ascending=sort_order == "ascend",
    )
    return render(
        request, "admin/addresses_table.html", rows=page.results, pager=pager(request, page, paging)
    )


@router.get("/mails")
async def mails(
    request: Request, paging: PagingDep, services: ServicesDep, address: Search = ""
) -> HTMLResponse:
    page = await services.mails.page(paging.limit, paging.offset, owner=_filter(address) or None)
    return await mail_list(request, ADMIN, page, paging)


@router.get("/mails_unknown")
async def mails_unknown(request: Request, paging: PagingDep, services: ServicesDep) -> HTMLResponse:
    return await mail_list(
        request, ADMIN, await services.mails.page_unknown(paging.limit, paging.offset), paging
    )


async def _any_mail(mail_id: IdPath, services: ServicesDep) -> Any:
    row = await services.mails.get(mail_id)
    if row is None:
        raise ApiError(404, "Not Found")
    return row


add_reader_routes(router, ADMIN, _any_mail)


@router.get("/users")
async def users(
    request: Request, paging: PagingDep, services: ServicesDep, query: Search = ""
) -> HTMLResponse:
    page = await services.user_store.page(paging.limit, paging.offset, _filter(query))
    return render(
        request,
        "admin/users_table.html",
        rows=page.results,
        pager=pager(request, page, paging),
        roles=[role.role for role in services.settings.USER_ROLES],
    )


@router.get("/senders")
async def senders(
    request: Request, paging: PagingDep, services: ServicesDep, address: Search = ""
) -> HTMLResponse:
    page = await services.senders.page(paging.limit, paging.offset, _filter(address))
    return render(request, "admin/senders_table.html", rows=page.results, pager=pager(request, page, paging))


@router.get("/sendbox")
async def sendbox(
    request: Request, paging: PagingDep, services: ServicesDep, address: Search = ""
) -> HTMLResponse:
    page = await services.sendbox.page(paging.limit, paging.offset, _filter(address))
    return render(
        request,
        "fragments/sendbox.html",
        items=[sent_item(row) for row in page.results],
        delete_prefix="/admin/sendbox/",
        pager=pager(request, page, paging),
    )


@router.get("/statistics")
async def stats(request: Request, services: ServicesDep) -> HTMLResponse:
    return render(request, "admin/statistics.html", stats=await statistics(services.db.engine))


@router.get("/settings")
async def settings(request: Request, services: ServicesDep) -> HTMLResponse:
    """Every settings form of the console, filled in with what is stored now."""
    return render(
        request,
        "admin/settings_forms.html",
        user_rules=(await services.users.rules()).model_dump(),
        account=(await services.accounts.get()).model_dump(),
        auto_cleanup=(await services.cleanup.settings()).model_dump(),
        allow_list=(await services.webhooks.allow_list()).model_dump(),
        mail_webhook=(await services.webhooks.mail_setting()).model_dump(),
        clean_types=CLEAN_TYPES,
    )
