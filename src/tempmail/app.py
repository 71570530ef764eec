"""The HTTP application: the JSON API's and the web UI's routers, the error shapes, CORS and
the site password, put together."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.staticfiles import StaticFiles

from tempmail import __version__
from tempmail.api import FAST_ANSWERS
from tempmail.api import ROUTERS as API_ROUTERS
from tempmail.http.errors import install_error_handlers
from tempmail.http.fast_lane import FastLane
from tempmail.http.ip_access import IpAccessMiddleware
from tempmail.services import Services
from tempmail.web import ROUTER as WEB_ROUTER
from tempmail.web.gate import STATIC_PREFIX, SitePasswordExceptPages
from tempmail.web.render import STATIC_DIR


def create_app(services: Services) -> FastAPI:
    app = FastAPI(
        title="tempmail",
        version=__version__,
        description="Disposable email API, compatible with cloudflare_temp_email.",
    )
    app.state.services = services
    for router in API_ROUTERS:
        app.include_router(router)
    app.include_router(WEB_ROUTER)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
    install_error_handlers(app)
    # Added last = outermost: CORS answers preflights before the site password is asked for,
    # and the IP rules (COMPAT §4.2) come after the site password, before any credential check.
    # The web UI's page shells pass the gate: they hold no data and prompt for the password.
    # The hottest GETs (the inbox poll, the health check) are answered inside all three, ahead
    # of the routing (see tempmail.http.fast_lane).
    app.add_middleware(FastLane, answers=FAST_ANSWERS, default_lang=services.settings.DEFAULT_LANG)
    app.add_middleware(IpAccessMiddleware, services=services)
    app.add_middleware(
        SitePasswordExceptPages,
        passwords=services.settings.PASSWORDS,
        default_lang=services.settings.DEFAULT_LANG,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["*"],
        allow_headers=["*"],
        max_age=86400,
    )
    return app
