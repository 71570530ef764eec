"""Text that cannot be stored or hashed is refused at the door: a NUL character, invalid UTF-8 or
a lone surrogate anywhere in a request's path, query or JSON body is a 400 naming the field.

Why here, once: such text passes FastAPI's validation (a `str` is a `str`) and then fails deep
down, each back end its own way: PostgreSQL refuses NUL in text (even as a query parameter to a
`LIKE`), SQLite and the password hashing cannot encode a lone surrogate, orjson cannot write one
back. Each was a 500 (and uvicorn dropping the connection). One check in front of the routes, the
fast lane's included, covers every field the app will ever read.

Where each can come from:
- the path and the query: only percent-encoded (`%00`, `%ff`, `%ed%a0%80`, which is a surrogate
  encoded in UTF-8, as invalid as any other invalid UTF-8). uvicorn decodes the path with
  replacement characters and Starlette the query likewise, so the raw bytes are what is checked.
- a JSON body: only as `\\u0000` and `\\udXXX` escapes (raw NUL and raw surrogates are not valid
  JSON or not valid UTF-8, which the routes already refuse their own way).
- headers: not at all. The HTTP parsers refuse NUL and other control bytes in a header (a 400
  before the app is called), and Starlette decodes header values as Latin-1, which every byte is.

The checks cost a substring search on the hot paths (no `%` in a query, no `\\u` in a body:
nothing else is done). A body is read whole before the app sees it (POST, PUT, PATCH, DELETE
only), which the routes do anyway, and handed on unchanged.

The answer follows the shape of the other malformed-input answers (tempmail.http.errors):
`Invalid input: query.address: NUL character not allowed`, `Invalid input: email: ...` for a body
field (nested ones dotted, list items by index), `Invalid input: body: ...` for a body that is
one bad string.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tempmail.errors import ApiError, language

NUL = "NUL character not allowed"
NOT_UTF8 = "invalid UTF-8"
SURROGATE = "lone surrogate not allowed"
TOO_DEEP = "nested too deeply"

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")


# A field's name is shown up to this length (a fuzzed key can be as long as the body).
MAX_SHOWN_NAME = 100


def _named(place: str, problem: str) -> str:
    if len(place) > MAX_SHOWN_NAME:
        place = place[:MAX_SHOWN_NAME] + "..."
    return f"{place}: {problem}"


def _bytes_problem(raw: bytes) -> str | None:
    """What is wrong with a percent-decoded URL part as text, if anything."""
    if b"\x00" in raw:
        return NUL
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_UTF8
    return None


def url_problem(path: bytes, query: bytes) -> str | None:
    """The path's or the first bad query parameter's problem, named (`path`, `query.<name>`)."""
    if b"%" in path:
        problem = _bytes_problem(unquote_to_bytes(path))
        if problem is not None:
            return f"path: {problem}"
    if b"%" not in query:
        return None
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        raw_name = unquote_to_bytes(name.replace(b"+", b" "))
        problem = _bytes_problem(raw_name) or _bytes_problem(unquote_to_bytes(value.replace(b"+", b" ")))
        if problem is not None:
            shown = raw_name.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")
            return _named(f"query.{shown}", problem)
    return None


def _shown(text: str) -> str:
    """A name fit to appear in the answer (a bad key is itself the problem)."""
    return _BAD_CHARACTER.sub(lambda bad: f"\\u{ord(bad.group()):04x}", text)


def _string_problem(text: str) -> str | None:
    bad = _BAD_CHARACTER.search(text)
    if bad is None:
        return None
    return NUL if bad.group() == "\x00" else SURROGATE


def json_problem(value: Any, where: str = "") -> str | None:
    """The first string (key or value) of a parsed JSON document that no back end can store,
    named by its place: `email`, `settings.name`, `list.0`, or `body` for the document itself."""
    if isinstance(value, str):
        problem = _string_problem(value)
        return None if problem is None else _named(where or "body", problem)
    if isinstance(value, dict):
        for key, item in value.items():
            place = f"{where}.{_shown(key)}" if where else _shown(key)
            problem = _string_problem(key)
            if problem is not None:
                return _named(place, problem)
            found = json_problem(item, place)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = json_problem(item, f"{where}.{index}" if where else str(index))
            if found is not None:
                return found
    return None


def body_problem(body: bytes) -> str | None:
    """A JSON body's bad string, named; None for any other body (a body that is not JSON is the
    route's to refuse, with its own text)."""
    if b"\\u" not in body:
        return None
    try:
        document = json.loads(body)  # the routes' own parser (Starlette's `Request.json`)
    except (ValueError, RecursionError):
        return None
    try:
        return json_problem(document)
    except RecursionError:  # parsed, yet too deep to walk: no route reads such a document
        return f"body: {TOO_DEEP}"


class InputGuard:
    """The pure-ASGI check of this module's docstring, in front of the fast lane and the app."""

    def __init__(self, app: ASGIApp, default_lang: str | None) -> None:
        self.app = app
        self.default_lang = default_lang

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = url_problem(scope.get("raw_path") or scope["path"].encode(), scope["query_string"])
        if problem is not None:
            await self._refuse(problem, scope, receive, send)
            return
        if scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        message: Message = {"type": "http.request", "more_body": True}
        while message["type"] == "http.request" and message.get("more_body", False):
            message = await receive()
            chunks.append(message.get("body", b""))
        body = b"".join(chunks)
        problem = body_problem(body)
        if problem is not None:
            await self._refuse(problem, scope, receive, send)
            return
        first: Message | None = (
            {"type": "http.request", "body": body, "more_body": False}
            if message["type"] == "http.request"
            else message
        )

        async def replay() -> Message:
            nonlocal first
            if first is None:
                return await receive()
            message, first = first, None
            return message

        await self.app(scope, replay, send)

    async def _refuse(self, problem: str, scope: Scope, receive: Receive, send: Send) -> None:
        lang = language(Headers(scope=scope).get("x-lang"), self.default_lang)
        text = ApiError(400, "Invalid input: {detail}", detail=problem).text(lang)
        await PlainTextResponse(text, status_code=400)(scope, receive, send)
