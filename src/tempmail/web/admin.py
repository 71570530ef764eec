"""The admin console's fragments (`/ui/admin/...`): what `/admin` shows, one group per tab.

Guarded by the admin dependency of the JSON `/admin` routes; the console's buttons and forms call
those JSON routes directly.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse

from tempmail.errors import ApiError
from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep
from tempmail.http.paging import IdPath, PagingDep
from tempmail.web.fragments import ADMIN, add_reader_routes, mail_list, pager
from tempmail.web.mailview import sent_item
from tempmail.web.render import render

router = APIRouter(prefix="/ui/admin", include_in_schema=False, dependencies=[Depends(require_admin)])

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
        paging.limit, paging.offset, query=query, sort_by=sort_by, ascending=sort_order == "ascend"
    )
    return render(
        request,
        "admin/addresses_table.html",
        rows=page.results,
        pager=pager(request, page, paging),
        password_reset=services.settings.ENABLE_ADDRESS_PASSWORD,
    )


@router.get("/mails")
async def mails(
    request: Request, paging: PagingDep, services: ServicesDep, address: Search = ""
) -> HTMLResponse:
    owner = address.strip().lower() or None
    page = await services.mailbox.page(paging.limit, paging.offset, owner=owner)
    return await mail_list(request, ADMIN, page, paging, partial(services.mailbox.page, 1, 0, owner=owner))


@router.get("/mails_unknown")
async def mails_unknown(request: Request, paging: PagingDep, services: ServicesDep) -> HTMLResponse:
    page = await services.mailbox.unknown(paging.limit, paging.offset)
    return await mail_list(request, ADMIN, page, paging, partial(services.mailbox.unknown, 1, 0))


async def _any_mail(mail_id: IdPath, services: ServicesDep) -> Any:
    row = await services.mailbox.get(mail_id)
    if row is None:
        raise ApiError(404, "Not Found")
    return row


add_reader_routes(router, ADMIN, _any_mail)


@router.get("/users")
async def users(
    request: Request, paging: PagingDep, services: ServicesDep, query: Search = ""
) -> HTMLResponse:
    page = await services.users.page(paging.limit, paging.offset, query)
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
    page = await services.sending.senders_page(paging.limit, paging.offset, address)
    return render(request, "admin/senders_table.html", rows=page.results, pager=pager(request, page, paging))


@router.get("/sendbox")
async def sendbox(
    request: Request, paging: PagingDep, services: ServicesDep, address: Search = ""
) -> HTMLResponse:
    page = await services.sending.sent_page(paging.limit, paging.offset, address)
    return render(
        request,
        "fragments/sendbox.html",
        items=[sent_item(row) for row in page.results],
        delete_prefix="/admin/sendbox/",
        pager=pager(request, page, paging),
    )


@router.get("/statistics")
async def stats(request: Request, services: ServicesDep) -> HTMLResponse:
    return render(request, "admin/statistics.html", stats=await services.database.statistics())


@router.get("/settings")
async def settings(request: Request, services: ServicesDep) -> HTMLResponse:
    """Every settings form of the console, filled in with what is stored now."""
    return render(
        request,
        "admin/settings_forms.html",
        user_rules=(await services.users.rules()).model_dump(),
        account=(await services.account_settings.get()).model_dump(),
        auto_cleanup=await services.cleanup.form_settings(),
        allow_list=(await services.webhooks.allow_list()).model_dump(),
        mail_webhook=(await services.webhooks.mail_setting()).model_dump(),
        clean_types=CLEAN_TYPES,
    )
