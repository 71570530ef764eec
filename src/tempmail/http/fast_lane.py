"""A plain-text GET answered before the framework: for paths polled as often as anything is
(the health check of monitors and load balancers), which need no dependency, no body and no
routing.

Placed inside CORS and the site password (so both still apply), outside the routing and the
error handling of FastAPI: a GET here costs a few function calls instead of the whole stack.
Its `ApiError`s get the contract's text and status, as everywhere else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from tempmail.errors import ApiError, language


class PlainTextLane:
    def __init__(
        self, app: ASGIApp, path: str, answer: Callable[[], Awaitable[str]], default_lang: str | None
    ) -> None:
        self.app = app
        self.path = path
        self.answer = answer
        self.default_lang = default_lang

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        try:
            response = PlainTextResponse(await self.answer())
        except ApiError as refused:
            text = refused.text(language(Headers(scope=scope).get("x-lang"), self.default_lang))
            response = PlainTextResponse(text, status_code=refused.status)
        await response(scope, receive, send)
