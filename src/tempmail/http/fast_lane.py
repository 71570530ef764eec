"""GETs of the hottest paths answered before the framework's routing.

`/api/mails` is what every client polls all day (a bot waiting for a code, every second or
two), `/user_api/mails` and `/admin/mails` what the UI polls, `/health_check` what monitors and
load balancers poll. Through FastAPI, routing,
dependency solving and response validation cost more than the request's own work; here a GET
of such a path costs a few function calls. Each answer calls the very functions its FastAPI
route is made of (the dependencies, then the route itself), so the route stays the one
definition, and the one in the OpenAPI document; other methods still reach it.

The lane sits inside every other layer of `tempmail.app` (CORS, the site password, the rate
limits, the IP rules, the input guard), so they all still apply, and answers an `ApiError`
with the contract's text and status, as the error handlers would.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from tempmail.errors import ApiError, language

# The response, or None to leave the request to the framework (what the answer does not handle
# the way the route would).
Answer = Callable[[Request], Awaitable[Response | None]]


class JsonBody(Response):
    """JSON as FastAPI writes it (compact, UTF-8), by orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class FastLane:
    def __init__(self, app: ASGIApp, answers: Mapping[str, Answer], default_lang: str | None) -> None:
        self.app = app
        self.answers = answers
        self.default_lang = default_lang

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = None
        if scope["type"] == "http" and scope["method"] == "GET":
            answer = self.answers.get(scope["path"])
        response = None
        if answer is not None:
            request = Request(scope, receive)
            try:
                response = await answer(request)
            except ApiError as refused:
                text = refused.text(language(request.headers.get("x-lang"), self.default_lang))
                response = PlainTextResponse(text, status_code=refused.status)
        if response is None:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)
