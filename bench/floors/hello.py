"""The floor of every HTTP figure: a raw ASGI callable that answers `OK` to any request.

Nothing runs between uvicorn's HTTP parser and the reply, so its req/s is what uvicorn itself
(with uvloop and httptools, one process) costs on this machine: no framework can go faster.

    uvicorn --app-dir bench/floors hello:app --loop uvloop --http httptools --no-access-log
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"2")],
}
_BODY = {"type": "http.response.body", "body": b"OK"}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """`OK` for every HTTP request; lifespan and other scopes are ignored (uvicorn copes)."""
    if scope["type"] != "http":
        return
    await send(_START)
    await send(_BODY)
