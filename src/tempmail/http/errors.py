"""The error shapes of the contract: every failure is a status code and a plain-text body.

An `ApiError` keeps its status and (translated) text; malformed input is a 400 naming the field,
never FastAPI's 422; anything unexpected is logged and answered with a bare 500.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Match, Route

from tempmail.errors import ApiError, language
from tempmail.http.context import services_of

log = logging.getLogger(__name__)


def request_language(request: Request) -> str:
    """The language of an answer to `request`: `x-lang`, else DEFAULT_LANG (the one rule,
    `tempmail.errors.language`)."""
    return language(request.headers.get("x-lang"), services_of(request).settings.DEFAULT_LANG)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return PlainTextResponse(exc.text(request_language(request)), status_code=exc.status)


async def _invalid_request(request: Request, exc: Exception) -> Response:
    """Malformed JSON, wrong types, bad path ids: 400 naming the field, never 422 or 500."""
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    detail = "; ".join(problems) or "malformed request"
    return PlainTextResponse(
        ApiError(400, "Invalid input: {detail}", detail=detail).text(request_language(request)),
        status_code=400,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    text = ApiError(exc.status_code, str(exc.detail)).text(request_language(request))
    return PlainTextResponse(text, status_code=exc.status_code, headers=exc.headers)


class _MethodNotAllowed:
    """A 405 naming every method some route takes at the path. Starlette names only those of
    the first route at it, and a path often has one route per method (`GET` and `POST` of a
    setting). A fixed path is answered for itself, as OpenAPI matches paths: the methods of
    `/user_api/passkey/rename`, not also the DELETE of `/user_api/passkey/{passkey_id}`."""

    def __init__(self, routers: Sequence[APIRouter]) -> None:
        self.routes = [route for router in routers for route in router.routes if isinstance(route, Route)]

    def _allowed(self, request: Request) -> str:
        matching = [
            route for route in self.routes if route.methods and route.matches(request.scope)[0] != Match.NONE
        ]
        fixed = [route for route in matching if not route.param_convertors]
        return ", ".join(sorted({method for route in fixed or matching for method in route.methods or ()}))

    async def __call__(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        response = await _http_error(request, exc)
        response.headers["Allow"] = self._allowed(request)
        return response


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return PlainTextResponse("Internal Server Error", status_code=500)


def install_error_handlers(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """The handlers, for the routes of `routers` (the app's)."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(405, _MethodNotAllowed(routers))
    app.add_exception_handler(Exception, _unexpected)
