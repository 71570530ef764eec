"""The OpenAPI document, completed with what the routes take outside their signatures.

FastAPI describes a route by its parameters and body model. Several things every client must
send are read by shared dependencies instead, so FastAPI never sees them: the credentials
(`Authorization`, `x-user-token`, `x-admin-auth`, `x-user-access-token`), the site password
(`x-custom-auth`), the language of error texts (`x-lang`) and `limit`/`offset` of every list
(read by `paging`, whose own error texts the reference fixes). And every error here is a 400 or
another status with a plain-text body, never FastAPI's 422 with JSON. This module adds each of
those to the operations whose dependencies read them, from one table of what each shared
dependency takes and answers, so the document follows the code rather than a copy of it.

What a route answers beyond those it declares itself, next to its code: `answers` for the
refusals of its own checks (each with its exact English text, which clients match on), and
`json_body` for a body it reads and checks itself (the reference's own checks and texts, which a
coercing model would change) rather than through a model in its signature.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

from tempmail.config import Settings
from tempmail.errors import (
    ACCESS_TOKEN_EXPIRED,
    ADDRESS_CREDENTIAL,
    ADMIN_PASSWORD,
    NOT_ADMIN_ROLE,
    SITE_PASSWORD,
    USER_TOKEN,
)
from tempmail.http import auth, ip_access, rate_limit
from tempmail.http.paging import (
    DEFAULT_LIMIT,
    INVALID_LIMIT,
    INVALID_OFFSET,
    MAX_ID,
    MAX_LIMIT,
    paging,
    paging_or_first_page,
)
from tempmail.maintenance.ip_settings import ACCESS_REFUSALS

PAGING_ERRORS = [INVALID_LIMIT, INVALID_OFFSET]
# What the input guard and FastAPI's validation answer (tempmail.http.input_guard, .errors).
INVALID_INPUT = "Invalid input: {field}: {what is wrong}"

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "addressJwt": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An address credential: the `jwt` of /api/new_address or /api/address_login.",
    },
    "userToken": {
        "type": "apiKey",
        "in": "header",
        "name": "x-user-token",
        "description": "A user's JWT, from /user_api/login.",
    },
    "adminPassword": {
        "type": "apiKey",
        "in": "header",
        "name": "x-admin-auth",
        "description": "One of ADMIN_PASSWORDS.",
    },
    "roleToken": {
        "type": "apiKey",
        "in": "header",
        "name": "x-user-access-token",
        "description": "A user access token of ADMIN_USER_ROLE, accepted on admin routes in its place.",
    },
    "sitePassword": {
        "type": "apiKey",
        "in": "header",
        "name": "x-custom-auth",
        "description": "One of PASSWORDS, asked for on every route but /open_api when PASSWORDS is set.",
    },
}

LANGUAGE_HEADER: dict[str, Any] = {
    "name": "x-lang",
    "in": "header",
    "required": False,
    "description": "Language of error texts: exactly `zh` for Chinese (the reference's texts), "
    "`es`, `pt-BR` (or `pt-br`, `pt`), `ja`, `de`; anything else for English (DEFAULT_LANG when absent).",
    "schema": {"type": "string", "examples": ["en", "zh", "es", "pt-BR", "ja", "de"]},
}


def _paging_parameters(required: bool) -> list[dict[str, Any]]:
    absent = "required" if required else f"{DEFAULT_LIMIT} when absent"
    return [
        {
            "name": "limit",
            "in": "query",
            "required": required,
            "description": f"Rows per page, 1 to {MAX_LIMIT} ({absent}); else `400 Invalid limit`.",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "examples": [20]},
        },
        {
            "name": "offset",
            "in": "query",
            "required": required,
            "description": f"Rows to skip, 0 or more ({'required' if required else '0 when absent'}); "
            "else `400 Invalid offset`.",
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID, "examples": [0]},
        },
    ]


def _texts_response(texts: Sequence[str]) -> dict[str, Any]:
    """A plain-text answer that is one of `texts`, each an example (`{name}` marks where a
    value of the request goes)."""
    return {
        "description": " or ".join(f"`{text}`" for text in texts),
        "content": {
            "text/plain": {
                "schema": {"type": "string"},
                "examples": {f"text{index}": {"value": text} for index, text in enumerate(texts, 1)},
            }
        },
    }


def answers(
    refusals: Mapping[int, str | Sequence[str]] | None = None, ok: Any = None
) -> dict[int | str, dict[str, Any]]:
    """A route's `responses=`: each status it refuses with and the texts it says then, and an
    example of its JSON answer when all is well (`ok`).

    The credentials, the paging and malformed input are documented from the dependencies (see
    the module docstring); these are the refusals of the route's own checks and of the service
    it calls."""
    responses: dict[int | str, dict[str, Any]] = {
        status: _texts_response([texts] if isinstance(texts, str) else list(texts))
        for status, texts in (refusals or {}).items()
    }
    if ok is not None:
        responses[200] = {"content": {"application/json": {"example": ok}}}
    return responses


def _inlined(schema: Any, definitions: dict[str, Any]) -> Any:
    """`schema` with every `#/$defs/...` reference replaced by what it names (a body's schema
    sits inside an operation, where pydantic's `$defs` are not resolvable)."""
    if isinstance(schema, dict):
        reference = schema.get("$ref", "")
        if reference.startswith("#/$defs/"):
            return _inlined(definitions[reference.removeprefix("#/$defs/")], definitions)
        return {key: _inlined(value, definitions) for key, value in schema.items() if key != "$defs"}
    if isinstance(schema, list):
        return [_inlined(item, definitions) for item in schema]
    return schema


def json_body(model: type[BaseModel], required: bool = True) -> dict[str, Any]:
    """A route's `openapi_extra=` for a JSON body it reads itself, described by `model` (the
    fields it reads, with the types it takes; the route, not the model, checks them)."""
    schema = model.model_json_schema()
    return {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": _inlined(schema, schema.get("$defs", {}))}},
        }
    }


@dataclass(frozen=True)
class Described:
    """What a shared dependency adds to the operations that use it."""

    parameters: list[dict[str, Any]] = field(default_factory=list)
    # Alternatives, as OpenAPI's `security` lists them: any one of them is enough.
    security: list[dict[str, list[str]]] = field(default_factory=list)
    statuses: dict[str, list[str]] = field(default_factory=dict)


DESCRIBED: dict[Callable[..., Any], Described] = {
    paging: Described(_paging_parameters(True), statuses={"400": PAGING_ERRORS}),
    paging_or_first_page: Described(_paging_parameters(False), statuses={"400": PAGING_ERRORS}),
    auth.signed_address: Described(security=[{"addressJwt": []}], statuses={"401": [ADDRESS_CREDENTIAL]}),
    auth.signed_user: Described(
        security=[{"userToken": []}],
        statuses={"401": [USER_TOKEN]},
    ),
    # Not a credential check: a role that changes what the route allows (address-count limits,
    # unlimited sending).
    auth.role_of: Described(
        [
            {
                "name": "x-user-access-token",
                "in": "header",
                "required": False,
                "description": "A user access token (the `access_token` of /user_api/settings): its "
                "role sets the address-count limit and whether sending is unlimited (NO_LIMIT_SEND_ROLE).",
                "schema": {"type": "string"},
            }
        ]
    ),
    auth.require_admin: Described(
        security=[{"adminPassword": []}, {"roleToken": []}],
        statuses={"401": [ADMIN_PASSWORD, ACCESS_TOKEN_EXPIRED, NOT_ADMIN_ROLE]},
    ),
}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _add_response(responses: dict[str, Any], status: str, response: dict[str, Any]) -> None:
    """`status` answered as `response` says as well as for what the route already says of it."""
    known = responses.get(status)
    if known is None:
        responses[status] = response
        return
    if response["description"] not in known["description"]:
        known["description"] = f"{known['description']}; or {response['description']}"
    examples = response["content"]["text/plain"].get("examples")
    if examples:
        content = known.setdefault("content", {}).setdefault("text/plain", {"schema": {"type": "string"}})
        known_examples = content.setdefault("examples", {})
        for example in examples.values():
            if example not in known_examples.values():
                known_examples[f"text{len(known_examples) + 1}"] = example


def _guarded_refusals(path: str, method: str) -> dict[int, list[str]]:
    """What the guards in front of the routes answer at `path`: the admin's IP rules on the
    paths the reference guards, and the rate limits (tempmail.http.ip_access, .rate_limit)."""
    refusals: dict[int, list[str]] = {}
    if path.startswith(ip_access.GUARDED_PREFIXES):
        refusals.update({status: list(texts) for status, texts in ACCESS_REFUSALS.items()})
    limited = path.startswith(rate_limit.ADMIN_PREFIX) or (
        method == "post" and path in (*rate_limit.CREATION_PATHS, *rate_limit.LOGIN_PATHS)
    )
    if limited:
        refusals.setdefault(429, []).append(rate_limit.TOO_MANY)
    return refusals


def _complete(operation: dict[str, Any], route: APIRoute, method: str, settings: Settings) -> None:
    parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)
    # Every request's path, query, headers and body pass the input guard (tempmail.http.input_guard).
    _add_response(responses, "400", _texts_response([INVALID_INPUT]))
    for status, texts in _guarded_refusals(route.path, method).items():
        _add_response(responses, str(status), _texts_response(texts))
    security: list[dict[str, list[str]]] = []
    for call in _calls(route.dependant):
        described = DESCRIBED.get(call)
        if described is None:
            continue
        known = {(p["name"], p["in"]) for p in parameters}
        parameters.extend(p for p in described.parameters if (p["name"], p["in"]) not in known)
        security = security or described.security
        for code, texts in described.statuses.items():
            _add_response(responses, code, _texts_response(texts))
    if settings.PASSWORDS and not route.path.startswith("/open_api"):
        security = [{**option, "sitePassword": []} for option in security] or [{"sitePassword": []}]
        _add_response(responses, "401", _texts_response([SITE_PASSWORD]))
    if security:
        operation["security"] = security
    parameters.append(LANGUAGE_HEADER)


def openapi_document(app: FastAPI, routers: Sequence[APIRouter], settings: Settings) -> dict[str, Any]:
    """The document FastAPI makes, completed as the module docstring says; `routers` are the
    ones the app includes (their routes carry the dependencies, the router's own included)."""
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    document.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    routes = {
        (route.path, method.lower()): route
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            route = routes.get((path, method))
            if route is not None:
                _complete(operation, route, method, settings)
    return document


def install_openapi(app: FastAPI, routers: Sequence[APIRouter], settings: Settings) -> None:
    """Serve the completed document at /openapi.json, made once on first request."""
    document: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not document:
            document.update(openapi_document(app, routers, settings))
        return document

    app.openapi = openapi  # type: ignore[method-assign]
