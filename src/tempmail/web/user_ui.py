"""A user account's fragments (`/ui/user/...`): the account panel, the mail of its addresses and
the reader, behind `x-user-token` like `/user_api`."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from tempmail.errors import ApiError
from tempmail.http.auth import UserDep
from tempmail.http.context import ServicesDep
from tempmail.http.paging import IdPath, PagingDep
from tempmail.web.fragments import USER, add_reader_routes, mail_list
from tempmail.web.pages import domain_choices
from tempmail.web.render import render

router = APIRouter(prefix="/ui/user", include_in_schema=False)

AddressFilter = Annotated[str | None, Query(max_length=320)]


@router.get("/panel")
async def user_panel(request: Request, user: UserDep, services: ServicesDep) -> HTMLResponse:
    """The account, its addresses, and a creation form offering the domains of the user's role."""
    account = await services.users.settings_of(user)
    role_domains = (account["user_role"] or {}).get("domains") or []
    return render(
        request,
        "fragments/user_panel.html",
        account=account,
        addresses=await services.users.bound_all(user.user_id),
        passkeys=await services.passkeys.list(user),
        domains=[(domain, domain) for domain in role_domains] or domain_choices(services.settings),
    )


@router.get("/mails")
async def user_mails(
    request: Request,
    user: UserDep,
    paging: PagingDep,
    services: ServicesDep,
    address: AddressFilter = None,
) -> HTMLResponse:
    page = await services.users.mail_page(user, paging.limit, paging.offset, address)
    count_of = partial(services.users.mail_page, user, 1, 0, address)
    return await mail_list(request, USER, page, paging, count_of)


async def _user_mail(mail_id: IdPath, user: UserDep, services: ServicesDep) -> Any:
    """A mail of one of the user's addresses: the ownership rule of `/user_api/mails`."""
    row = await services.mailbox.get(mail_id)
    if row is None or not (await services.users.mail_page(user, 1, 0, row.address)).results:
        raise ApiError(404, "Not Found")
    return row


add_reader_routes(router, USER, _user_mail)
