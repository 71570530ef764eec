"""The web UI's routes: page shells, and the HTML fragments of an address and of a user account.

Pages are shells (no data; open even behind a site password, see `tempmail.web.gate`). Their
content comes from `/ui/...` fragments that htmx loads with the credentials the browser keeps,
sent as the API's own headers and checked by the same dependencies and services as the JSON
routes; the buttons and forms of the UI call the JSON routes themselves.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from tempmail.config import Settings
from tempmail.errors import ApiError
from tempmail.http.auth import AddressDep, UserDep, role_of
from tempmail.http.common import MAX_ID, IdPath, PagingDep, ServicesDep
from tempmail.web import admin
from tempmail.web.fragments import ADDRESS, USER, add_reader_routes, mail_list, pager
from tempmail.web.gate import PAGES
from tempmail.web.mailview import mail_view, reply_draft, sent_item
from tempmail.web.render import render, services_of

router = APIRouter(include_in_schema=False)
address_ui = APIRouter(prefix="/ui")
user_ui = APIRouter(prefix="/ui/user")

ADMIN_TABS = ("addresses", "mails", "unknown", "users", "senders", "sendbox", "statistics", "settings")
AddressFilter = Annotated[str | None, Query(max_length=320)]
ReplyTo = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def domain_choices(settings: Settings) -> list[tuple[str, str]]:
    """(domain, label) of the domains anyone may create addresses on; DOMAIN_LABELS follow
    DOMAINS' order."""
    labels = dict(zip(settings.DOMAINS, settings.DOMAIN_LABELS, strict=False))
    return [(domain, labels.get(domain) or domain) for domain in settings.default_domains]


# --- pages -----------------------------------------------------------------------------------


def inbox_page(request: Request) -> HTMLResponse:
    """The inbox; `GET /` answers it to browsers (see `tempmail.api.open`)."""
    settings = services_of(request).settings
    return render(
        request,
        "inbox.html",
        page="inbox",
        domains=domain_choices(settings),
        can_create=settings.ENABLE_USER_CREATE_EMAIL,
        custom_names=not settings.DISABLE_CUSTOM_ADDRESS_NAME,
        password_login=settings.ENABLE_ADDRESS_PASSWORD,
        can_delete=settings.ENABLE_USER_DELETE_EMAIL,
        announcement=settings.ANNOUNCEMENT,
    )


@router.get(PAGES["compose"])
async def compose_page(request: Request, reply: ReplyTo = None) -> HTMLResponse:
    return render(request, "compose.html", page="compose", reply=reply)


@router.get(PAGES["address"])
async def address_page(request: Request, services: ServicesDep) -> HTMLResponse:
    settings = services.settings
    return render(
        request,
        "address.html",
        page="address",
        password_login=settings.ENABLE_ADDRESS_PASSWORD,
        can_delete=settings.ENABLE_USER_DELETE_EMAIL,
    )


@router.get(PAGES["user"])
async def user_page(request: Request, services: ServicesDep) -> HTMLResponse:
    """Registration rules are public (`/user_api/open_settings`), so the shell shows them."""
    return render(request, "user.html", page="user", rules=await services.users.rules())


@router.get(PAGES["admin"])
async def admin_page(request: Request, services: ServicesDep, tab: str = "addresses") -> HTMLResponse:
    settings = services.settings
    return render(
        request,
        "admin.html",
        page="admin",
        tab=tab if tab in ADMIN_TABS else ADMIN_TABS[0],
        tabs=ADMIN_TABS,
        domains=settings.DOMAINS,
        address=request.query_params.get("address", ""),
    )


# --- an address's fragments ----------------------------------------------------------------


@address_ui.get("/mails")
async def address_mails(
    request: Request, claim: AddressDep, paging: PagingDep, services: ServicesDep
) -> HTMLResponse:
    """Like `/api/mails`, reading the first page counts as activity of the address."""
    if paging.offset == 0:
        await services.addresses.touch(claim.address_id)
    page = await services.mails.page(paging.limit, paging.offset, owner=claim.address)
    return await mail_list(request, ADDRESS, page, paging)


async def _address_mail(mail_id: IdPath, claim: AddressDep, services: ServicesDep) -> Any:
    row = await services.mails.get(mail_id, owner=claim.address)
    if row is None:
        raise ApiError(404, "Not Found")
    return row


add_reader_routes(address_ui, ADDRESS, _address_mail)


@address_ui.get("/compose")
async def compose_form(
    request: Request, claim: AddressDep, services: ServicesDep, reply: ReplyTo = None
) -> HTMLResponse:
    """The send form, filled in to answer the inbox mail `reply` when given; a note instead when
    no relay serves this address's domain."""
    original = await _address_mail(reply, claim, services) if reply is not None else None
    view = await mail_view(original, remote_images=False) if original is not None else None
    return render(
        request,
        "fragments/compose_form.html",
        address=claim.address,
        can_send=services.sender.can_send_from(claim.address),
        reply=view,
        draft=reply_draft(view),
    )


@address_ui.get("/sendbox")
async def address_sendbox(
    request: Request, claim: AddressDep, paging: PagingDep, services: ServicesDep
) -> HTMLResponse:
    page = await services.sendbox.page(paging.limit, paging.offset, owner=claim.address)
    return render(
        request,
        "fragments/sendbox.html",
        items=[sent_item(row) for row in page.results],
        delete_prefix="/api/sendbox/",
        pager=pager(request, page, paging),
    )


async def _optional_feature(request: Request, load: Any) -> tuple[Any, str]:
    """(settings, "") or (None, why not): a feature the operator switched off answers 403,
    and the form says so instead of failing the whole page."""
    try:
        return await load, ""
    except ApiError as exc:
        return None, exc.text(request.headers.get("x-lang"))


@address_ui.get("/settings")
async def address_settings(request: Request, claim: AddressDep, services: ServicesDep) -> HTMLResponse:
    auto_reply, auto_reply_off = await _optional_feature(request, services.auto_reply.get(claim.address))
    webhook, webhook_off = await _optional_feature(request, services.webhooks.address_setting(claim.address))
    return render(
        request,
        "fragments/address_settings.html",
        address=claim.address,
        balance=await services.sending.balance(claim.address, role_of(request, services)),
        auto_reply=auto_reply,
        auto_reply_off=auto_reply_off,
        webhook=webhook.model_dump() if webhook is not None else None,
        webhook_off=webhook_off,
    )


# --- a user account's fragments -------------------------------------------------------------


@user_ui.get("/panel")
async def user_panel(request: Request, user: UserDep, services: ServicesDep) -> HTMLResponse:
    """The account, its addresses, and a creation form offering the domains of the user's role."""
    account = await services.users.settings_of(user)
    role_domains = (account["user_role"] or {}).get("domains") or []
    return render(
        request,
        "fragments/user_panel.html",
        account=account,
        addresses=await services.user_store.bound_all(user.user_id),
        domains=[(domain, domain) for domain in role_domains] or domain_choices(services.settings),
    )


@user_ui.get("/mails")
async def user_mails(
    request: Request,
    user: UserDep,
    paging: PagingDep,
    services: ServicesDep,
    address: AddressFilter = None,
) -> HTMLResponse:
    page = await services.users.mail_page(user.user_id, paging.limit, paging.offset, address)
    return await mail_list(request, USER, page, paging)


async def _user_mail(mail_id: IdPath, user: UserDep, services: ServicesDep) -> Any:
    """A mail of one of the user's addresses: the ownership rule of `/user_api/mails`."""
    row = await services.mails.get(mail_id)
    if row is None or not (await services.users.mail_page(user.user_id, 1, 0, row.address)).results:
        raise ApiError(404, "Not Found")
    return row


add_reader_routes(user_ui, USER, _user_mail)

router.include_router(address_ui)
router.include_router(user_ui)
router.include_router(admin.router)
