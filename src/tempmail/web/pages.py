"""The web UI's page shells, and `/`: the inbox for browsers, the health check for the rest.

Pages are shells (no data; open even behind a site password, see `tempmail.web.gate`). Their
content comes from `/ui/...` fragments that htmx loads with the credentials the browser keeps,
sent as the API's own headers and checked by the same dependencies and services as the JSON
routes; the buttons and forms of the UI call the JSON routes themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from starlette.responses import HTMLResponse, Response

from tempmail.config import Settings
from tempmail.http.context import ServicesDep
from tempmail.http.paging import MAX_ID
from tempmail.web.gate import PAGES
from tempmail.web.render import prefers_html, render

router = APIRouter(include_in_schema=False)

ADMIN_TABS = (
    "addresses",
    "mails",
    "unknown",
    "users",
    "senders",
    "sendbox",
    "send",
    "statistics",
    "settings",
    "oauth2",
    "ip_access",
    "telegram",
    "database",
    "worker",
)
ReplyTo = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def domain_choices(settings: Settings, domains: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """(domain, label) of `domains`, by default those anyone may create addresses on;
    DOMAIN_LABELS follow DOMAINS' order."""
    labels = dict(zip(settings.DOMAINS, settings.DOMAIN_LABELS, strict=False))
    return [(domain, labels.get(domain) or domain) for domain in domains or settings.default_domains]


@router.get("/", response_class=PlainTextResponse, include_in_schema=True, tags=["open"])
async def root(request: Request, services: ServicesDep) -> Response:
    """Browsers (Accept prefers HTML) get the web UI's inbox; everyone else the health check."""
    if prefers_html(request.headers.get("accept", "")):
        return inbox_page(request, services)
    return PlainTextResponse(await services.database.health(), headers={"Vary": "Accept"})


def inbox_page(request: Request, services: ServicesDep) -> HTMLResponse:
    settings = services.settings
    return render(
        request,
        "inbox.html",
        page="inbox",
        domains=domain_choices(settings),
        # Without public creation, the admin creates addresses from this page (first run).
        admin_domains=domain_choices(settings, settings.DOMAINS),
        can_create=settings.ENABLE_USER_CREATE_EMAIL,
        custom_names=not settings.DISABLE_CUSTOM_ADDRESS_NAME,
        password_login=settings.ENABLE_ADDRESS_PASSWORD,
        can_delete=settings.ENABLE_USER_DELETE_EMAIL,
        announcement=settings.ANNOUNCEMENT,
    )


@router.get(PAGES["compose"])
async def compose_page(request: Request, reply: ReplyTo = None, forward: ReplyTo = None) -> HTMLResponse:
    return render(request, "compose.html", page="compose", reply=reply, forward=forward)


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
@router.get(PAGES["oauth2_callback"])
async def user_page(request: Request, services: ServicesDep) -> HTMLResponse:
    """Registration rules and the OAuth2 providers' names are public
    (`/user_api/open_settings`), so the shell shows them."""
    return render(
        request,
        "user.html",
        page="user",
        rules=await services.users.rules(),
        oauth2=[(provider.clientID, provider.name) for provider in await services.oauth2.providers()],
    )


@router.get(PAGES["admin"])
async def admin_page(request: Request, services: ServicesDep, tab: str = "addresses") -> HTMLResponse:
    return render(
        request,
        "admin.html",
        page="admin",
        tab=tab if tab in ADMIN_TABS else ADMIN_TABS[0],
        tabs=ADMIN_TABS,
        domains=services.settings.DOMAINS,
        address=request.query_params.get("address", ""),
    )
