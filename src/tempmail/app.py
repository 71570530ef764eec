"""The HTTP application: routers, the error shapes of the contract, CORS, the site password."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response
from starlette.staticfiles import StaticFiles

from tempmail import __version__
from tempmail.api import (
    address,
    address_extras,
    admin,
    admin_cleanup,
    admin_send,
    admin_users,
    admin_webhooks,
    oauth2,
    open,
    passkey,
    send,
    test_mode,
    user,
)
from tempmail.errors import ApiError
from tempmail.services import Services
from tempmail.web import pages
from tempmail.web.gate import STATIC_PREFIX, SitePasswordExceptPages
from tempmail.web.render import STATIC_DIR

log = logging.getLogger(__name__)


def _lang(request: Request) -> str | None:
    return request.headers.get("x-lang")


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return PlainTextResponse(exc.text(_lang(request)), status_code=exc.status)


async def _invalid_request(request: Request, exc: Exception) -> Response:
    """Malformed JSON, wrong types, bad path ids: 400 naming the field, never 422 or 500."""
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    detail = "; ".join(problems) or "malformed request"
    return PlainTextResponse(
        ApiError(400, "Invalid input: {detail}", detail=detail).text(_lang(request)),
        status_code=400,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    text = ApiError(exc.status_code, str(exc.detail)).text(_lang(request))
    return PlainTextResponse(text, status_code=exc.status_code, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return PlainTextResponse("Internal Server Error", status_code=500)


def create_app(services: Services) -> FastAPI:
    app = FastAPI(
        title="tempmail",
        version=__version__,
        description="Disposable email API, compatible with cloudflare_temp_email.",
    )
    app.state.services = services
    routers = (
        open.router,
        address.router,
        address_extras.router,
        send.router,
        user.router,
        passkey.router,
        oauth2.router,
        test_mode.router,
        admin.router,
        admin_users.router,
        admin_webhooks.router,
        admin_send.router,
        admin_cleanup.router,
        pages.router,
    )
    for router in routers:
        app.include_router(router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    # Added last = outermost: CORS answers preflights before the site password is asked for.
    # The web UI's page shells pass the gate: they hold no data and prompt for the password.
    app.add_middleware(SitePasswordExceptPages, passwords=services.settings.PASSWORDS)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["*"],
        allow_headers=["*"],
        max_age=86400,
    )
    return app
