"""Every route of the app, fuzzed over real HTTP: odd text (NUL, lone surrogates, invalid UTF-8,
huge), numbers out of range and odd JSON in its path, query, headers and body, with admin,
address and user credentials so the requests get past the auth checks. No answer is a 5xx, a
dropped connection or a hang.

The routes come from the app's own routers (FastAPI's dependants give the path, query and body
fields each declares); many routes read their query and body themselves, so every request also
carries fields from a vocabulary of the names the app reads. Each route gets a few examples, on
a server of its own per back end (the fuzzer changes settings, deletes addresses, and may block
its own IP); the credentials are made afresh for every route.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, get_args
from urllib.parse import quote

import httpx
import pytest
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from tempmail.api import ROUTERS
from tempmail.web import ROUTER as WEB_ROUTER
from tests.support import ADMIN_PASSWORD, USERS_ENV, Server

# Field names the app reads from queries and bodies without declaring them to FastAPI.
QUERY_NAMES = ["limit", "offset", "address", "query", "keyword", "sort_by", "sort_order", "id", "tab"]
BODY_NAMES = [
    "name", "domain", "email", "password", "code", "address", "address_id", "user_id", "id",
    "role_text", "key", "value", "enabled", "enable", "type", "to", "from", "subject", "content",
    "html", "text", "message", "configs", "whitelist", "blacklist", "enableWhitelist",
    "dailyRequestLimit", "cleanType", "cleanDays", "blockList", "sendBlockList",
    "verifiedAddressList", "maxAddressCount", "enableSubdomainMatch", "url", "headers",
    "attachments", "filename", "credential", "token", "state", "clientID",
]  # fmt: skip
# Headers the app reads, for odd values; the credentials are sent as well (see `request`).
HEADER_NAMES = [
    "x-lang", "x-custom-auth", "x-fingerprint", "cf-connecting-ip", "x-forwarded-for",
    "x-user-access-token", "accept-language", "cookie", "content-type", "authorization",
    "x-admin-auth", "x-user-token",
]  # fmt: skip
# The IP rules' default (COMPAT §4.1), put back before every route.
IP_RULES_OFF = {
    "enabled": False, "blacklist": [], "asnBlacklist": [], "fingerprintBlacklist": [],
    "enableWhitelist": False, "whitelist": [], "enableDailyLimit": False, "dailyRequestLimit": 1000,
}  # fmt: skip
# A route gets this many examples per back end: about 150 routes, all under a minute.
EXAMPLES_PER_ROUTE = 8


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    path_params: tuple[str, ...]
    query_names: tuple[str, ...]
    body_names: tuple[str, ...]
    # An event stream (GET /api/events, ...): a 200 never ends, so only its head is read.
    streams: bool = False

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _flat(dependant: Any) -> Iterator[Any]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _flat(sub)


def _model_fields(annotation: Any) -> list[str]:
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return [field.alias or name for name, field in candidate.model_fields.items()]
    return []


def _route(method: str, path: str, dependant: Any, streams: bool) -> Route:
    parts = list(_flat(dependant))
    path_params = tuple(re.findall(r"\{(\w+)(?::\w+)?\}", path))
    query = {param.alias for part in parts for param in part.query_params}
    body = {
        name
        for part in parts
        for param in part.body_params
        for name in _model_fields(param.field_info.annotation)
    }
    return Route(method, path, path_params, tuple(sorted(query)), tuple(sorted(body)), streams)


def _routes() -> list[Route]:
    found: list[Route] = []
    for router in [*ROUTERS, WEB_ROUTER]:
        for route in router.routes:
            # FastAPI keeps an included router's routes behind the include (their contexts).
            contexts: list[Any] = (
                route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
            )
            for context in contexts:
                if isinstance(context, APIRoute) or hasattr(context, "dependant"):
                    for method in sorted(context.methods or ()):
                        answer = getattr(context, "response_class", None)
                        streams = getattr(answer, "media_type", None) == "text/event-stream"
                        found.append(_route(method, context.path, context.dependant, streams))
    return found


ROUTES = _routes()

# Odd text: what no back end stores, what parsers choke on, what is long, what looks like a number.
SPECIAL_TEXT = [
    "", " ", "\x00", "a\x00b", "\ud800", "x\udfffy", "\ud83d", "\ufffd", "\uffff", "😀",
    "%00", "%ff", "'; DROP TABLE users; --", "<script>", "../../etc/passwd", "\r\n", "\t",
    "null", "true", "-1", "0", "1e309", "NaN", "9223372036854775808", "-9223372036854775809",
    "@", "a@b", "x@test.example", "test.example", "http://127.0.0.1:1/", "*", "(a+)+$", "[",
    "a" * 20_000,
]  # fmt: skip
text = st.one_of(
    st.sampled_from(SPECIAL_TEXT),
    st.text(st.characters(exclude_categories=()), max_size=40),
    st.text(st.sampled_from("\x00\ud800\udc00é@.-_ a1%"), max_size=12),
)
numbers = st.one_of(
    st.sampled_from([0, -1, 1, 2**31, 2**53 + 1, 2**63, -(2**63) - 1, 10**30, -(10**30)]),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, text, st.just("b" * 300_000))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(BODY_NAMES), text), inner, max_size=4),
    ),
    max_leaves=10,
)
# Header values as bytes the HTTP parsers take (no control bytes), Latin-1 high bytes included.
header_values = st.one_of(
    st.sampled_from([b"", b"zh", b"en", b"\xff\xfe", b"\xed\xa0\x80", b"Bearer \xc3(", b"a" * 8000]),
    # Without control bytes and surrounding blanks, which the client itself refuses to send.
    st.binary(max_size=40).map(lambda raw: bytes(b for b in raw if b >= 0x20 and b != 0x7F).strip(b" ")),
)


def _encoded(value: Any) -> str:
    """A value as it goes into a URL: text percent-encoded as UTF-8, lone surrogates encoded as
    the invalid UTF-8 they become."""
    return quote(str(value).encode("utf-8", "surrogatepass"), safe="")


@st.composite
def requests(draw: st.DrawFn, route: Route) -> dict[str, Any]:
    """One request for `route`: its path filled in, a query, some odd headers, a body."""
    path = route.path
    for name in route.path_params:
        value = draw(st.one_of(numbers, text, st.integers(0, 5)))
        path = re.sub(r"\{" + name + r"(?::\w+)?\}", _encoded(value) or "0", path)
    names = st.sampled_from([*route.query_names, *QUERY_NAMES])
    query = draw(st.lists(st.tuples(names, st.one_of(numbers, text)), max_size=4))
    if draw(st.booleans()):
        query = [("limit", 10), ("offset", 0), *query]
    url = path + ("?" + "&".join(f"{_encoded(k)}={_encoded(v)}" for k, v in query) if query else "")
    headers = dict(draw(st.lists(st.tuples(st.sampled_from(HEADER_NAMES), header_values), max_size=2)))
    body: bytes | None = None
    if route.method in ("POST", "PUT", "PATCH", "DELETE"):
        kind = draw(st.sampled_from(["fields", "fields", "fields", "any", "raw"]))
        if kind == "fields":
            keys = (
                st.sampled_from([*route.body_names, *BODY_NAMES])
                if route.body_names
                else st.sampled_from(BODY_NAMES)
            )
            document: Any = draw(st.dictionaries(keys, json_values, max_size=6))
        elif kind == "any":
            document = draw(json_values)
        if kind == "raw":
            body = draw(
                st.sampled_from([b"", b"{", b'{"a": "\xff"}', b"\xff\xfe", b"[" * 5000, b'{"a": 1e99999}'])
            )
        else:
            body = json.dumps(document).encode()
    return {"url": url, "headers": headers, "body": body}


@dataclass
class Credentials:
    address_jwt: str
    user_token: str

    def headers(self) -> dict[str, str]:
        return {
            "x-admin-auth": ADMIN_PASSWORD,
            "authorization": f"Bearer {self.address_jwt}",
            "x-user-token": self.user_token,
        }


@pytest.fixture(scope="module")
def fuzzed(backend: str) -> Iterator[Server]:
    """A server of its own: the fuzzer changes its settings and deletes what it finds."""
    server = Server(backend, USERS_ENV).start()
    yield server
    server.close()


_made: dict[str, Credentials] = {}


def credentials(server: Server) -> Credentials:
    """An address and a user for the fuzzer, made again when a fuzzed route deleted them; and
    the IP rules put back to their default (a fuzzed route may have blocked the fuzzer)."""
    reset = server.admin("POST", "/admin/ip_blacklist/settings", json=IP_RULES_OFF)
    assert reset.status_code == 200, reset.text
    made = _made.get(server.base_url)
    if made is not None:
        address = server.with_jwt("GET", "/api/settings", made.address_jwt)
        user = server.user("GET", "/user_api/settings", made.user_token)
        if address.status_code == user.status_code == 200:
            return made
    name = f"fz{uuid.uuid4().hex[:12]}"
    created = server.admin("POST", "/admin/new_address", json={"name": name, "domain": "test.example"})
    assert created.status_code == 200, created.text
    email = f"{name}@people.example"
    password = hashlib.sha256(b"fuzz").hexdigest()
    registered = server.admin("POST", "/admin/users", json={"email": email, "password": password})
    assert registered.status_code == 200, registered.text
    login = server.client.post("/user_api/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    _made[server.base_url] = Credentials(created.json()["jwt"], login.json()["jwt"])
    return _made[server.base_url]


def allowed(route: Route, response: httpx.Response) -> bool:
    """Below 500, or the one 500 the contract fixes: every error of `POST /admin/cleanup` is
    `500 Operation failed: <inner>` (COMPAT §9)."""
    if response.status_code < 500:
        return True
    return (
        str(route) == "POST /admin/cleanup"
        and response.status_code == 500
        and response.text.startswith(("Operation failed: ", "操作失败: "))
    )


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_no_route_answers_5xx(fuzzed: Server, route: Route) -> None:
    creds = credentials(fuzzed)
    with httpx.Client(base_url=fuzzed.base_url, timeout=20) as client:

        @settings(
            max_examples=EXAMPLES_PER_ROUTE,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(requests(route))
        def fuzz(request: dict[str, Any]) -> None:
            headers = {**creds.headers(), **request["headers"]}
            if request["body"] is not None:
                headers.setdefault("content-type", "application/json")
            try:
                with client.stream(
                    route.method, request["url"], headers=headers, content=request["body"]
                ) as response:
                    if not (route.streams and response.status_code == 200):
                        response.read()
            except httpx.TransportError as exc:
                pytest.fail(f"{route}: {type(exc).__name__} {exc} for {request!r}")
            assert allowed(route, response), (
                f"{route}: {response.status_code} {response.text[:300]!r} for {request!r}"
            )

        fuzz()


@pytest.mark.parametrize("offset", [2**31 - 1, 2**31, 2**63 - 1])
def test_the_largest_offsets_page_nothing(fuzzed: Server, offset: int) -> None:
    """Found by the fuzzer: on PostgreSQL a user's inbox took limit + offset as a 32-bit integer."""
    creds = credentials(fuzzed)
    query = f"?limit=10&offset={offset}"
    answers = [
        fuzzed.user("GET", "/user_api/mails" + query, creds.user_token),
        fuzzed.with_jwt("GET", "/api/mails" + query, creds.address_jwt),
        fuzzed.admin("GET", "/admin/mails" + query),
        fuzzed.admin("GET", "/admin/address" + query),
        fuzzed.admin("GET", "/admin/users" + query),
    ]
    for answer in answers:
        assert (answer.status_code, answer.json()["results"]) == (200, []), answer.request.url


@pytest.mark.parametrize(
    "body", [b"[" * 5000, b"[" * 5000 + b'"\\u0000"', b'{"a":' * 3000 + b"1" + b"}" * 3000]
)
def test_json_nested_deeper_than_the_parser_goes_is_4xx(fuzzed: Server, body: bytes) -> None:
    """Found by the fuzzer: the parser's RecursionError on `[[[[...` was a 500."""
    for path in ("/open_api/site_login", "/api/new_address", "/admin/ip_blacklist/settings"):
        answer = fuzzed.admin("POST", path, content=body, headers={"content-type": "application/json"})
        assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.text[:200])
