"""/openapi.json describes what the routes take beyond their signatures (issue 16, OpenAPI):
credentials, the site password, `x-lang`, the paging parameters, and 400 (never 422)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.support import Server


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }


def parameter_names(operation: dict[str, Any], where: str) -> list[str]:
    return [p["name"] for p in operation.get("parameters", []) if p["in"] == where]


@pytest.fixture
def document(server: Server) -> dict[str, Any]:
    response = server.client.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def test_every_list_documents_limit_and_offset(document: dict[str, Any]) -> None:
    ops = operations(document)
    for key in [
        ("GET", "/api/mails"),
        ("GET", "/admin/mails"),
        ("GET", "/user_api/mails"),
        ("GET", "/admin/users"),
    ]:
        limit = next(p for p in ops[key]["parameters"] if p["name"] == "limit")
        assert limit["required"] is True and limit["schema"]["maximum"] == 100, key
        assert "offset" in parameter_names(ops[key], "query"), key
        assert "400" in ops[key]["responses"], key


def test_credentials_are_security_requirements(document: dict[str, Any]) -> None:
    ops = operations(document)
    assert ops["GET", "/api/mails"]["security"] == [{"addressJwt": []}]
    assert ops["GET", "/user_api/mails"]["security"] == [{"userToken": []}]
    assert ops["GET", "/admin/mails"]["security"] == [{"adminPassword": []}, {"roleToken": []}]
    for key in [("GET", "/api/mails"), ("GET", "/user_api/mails"), ("GET", "/admin/mails")]:
        assert ops[key]["responses"]["401"]["content"] == {"text/plain": {"schema": {"type": "string"}}}
    assert "security" not in ops["GET", "/open_api/settings"]
    schemes = document["components"]["securitySchemes"]
    assert schemes["adminPassword"] == {**schemes["adminPassword"], "in": "header", "name": "x-admin-auth"}
    assert schemes["userToken"]["name"] == "x-user-token"


def test_every_operation_takes_x_lang_and_none_answers_422(document: dict[str, Any]) -> None:
    for key, operation in operations(document).items():
        assert "x-lang" in parameter_names(operation, "header"), key
        assert "422" not in operation["responses"], key
        if operation.get("requestBody") or parameter_names(operation, "path"):
            assert "400" in operation["responses"], key


def test_the_site_password_when_one_is_set(make_server: ServerFactory) -> None:
    private = make_server(PASSWORDS='["site-pw"]')
    ops = operations(private.client.get("/openapi.json", headers={"x-custom-auth": "site-pw"}).json())
    assert ops["GET", "/api/mails"]["security"] == [{"addressJwt": [], "sitePassword": []}]
    assert ops["GET", "/health_check"]["security"] == [{"sitePassword": []}]
    assert "security" not in ops["GET", "/open_api/settings"]
