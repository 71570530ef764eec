"""The HTTP application: the JSON API's and the web UI's routers and the error shapes in the
FastAPI app, and in front of it CORS, the site password, the IP rules and the fast lane, put
together."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from tempmail import __version__
from tempmail.api import FAST_ANSWERS
from tempmail.api import ROUTERS as API_ROUTERS
from tempmail.config import Settings
from tempmail.http.errors import install_error_handlers
from tempmail.http.fast_lane import FastLane
from tempmail.http.input_guard import InputGuard
from tempmail.http.ip_access import IpAccessMiddleware
from tempmail.http.openapi import install_openapi
from tempmail.http.rate_limit import RateLimitMiddleware
from tempmail.services import Services
from tempmail.web import ROUTER as WEB_ROUTER
from tempmail.web.gate import STATIC_PREFIX, SitePasswordExceptPages
from tempmail.web.render import STATIC_DIR


class _Entry:
    """The outermost layer: puts the FastAPI app on the scope (as Starlette does on entering
    it) before the pure-ASGI layers in front of it, which read the services from it."""

    def __init__(self, stack: ASGIApp, app: FastAPI) -> None:
        self.stack = stack
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self.app
        await self.stack(scope, receive, send)


def routes_app(settings: Settings) -> FastAPI:
    """The FastAPI app of every route, without services or the layers in front of it: what
    `/openapi.json` documents, and what `python -m tempmail.docs` renders into docs/."""
    app = FastAPI(
        title="tempmail",
        version=__version__,
        description="Disposable email API, compatible with cloudflare_temp_email.",
    )
    for router in API_ROUTERS:
        app.include_router(router)
    app.include_router(WEB_ROUTER)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
    install_error_handlers(app, [*API_ROUTERS, WEB_ROUTER])
    install_openapi(app, API_ROUTERS, settings)
    return app


def create_app(services: Services) -> ASGIApp:
    app = routes_app(services.settings)
    app.state.services = services
    # In front of the app, outermost last: CORS answers preflights before the site password is
    # asked for, the rate limits and then the IP rules (COMPAT §4.2) come after the site
    # password, before any credential check. The web UI's page shells pass the gate: they hold
    # no data and prompt for the password. The hottest GETs (the inbox polls, the health check)
    # are answered inside them all, ahead of FastAPI's own layers and routing (see
    # tempmail.http.fast_lane).
    stack: ASGIApp = FastLane(app, answers=FAST_ANSWERS, default_lang=services.settings.DEFAULT_LANG)
    # Text no back end can store (NUL, invalid UTF-8, lone surrogates) is refused before the
    # fast lane and the routes, after the site password and the IP rules (see its module).
    stack = InputGuard(stack, default_lang=services.settings.DEFAULT_LANG)
    stack = IpAccessMiddleware(stack, services=services)
    stack = RateLimitMiddleware(stack, settings=services.settings)
    stack = SitePasswordExceptPages(
        stack, passwords=services.settings.PASSWORDS, default_lang=services.settings.DEFAULT_LANG
    )
    stack = CORSMiddleware(
        stack, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"], max_age=86400
    )
    return _Entry(stack, app)
