"""/openapi.json describes what the routes take beyond their signatures (issue 16, OpenAPI):
credentials, the site password, `x-lang`, the paging parameters, 400 (never 422), the guards'
refusals, each refusal with its exact texts as examples; a 405 names every method of the path.
(Whether the document matches what the routes do is schemathesis's to judge:
tests/http/test_openapi_conformance.py.)"""

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


def example_texts(operation: dict[str, Any], status: str) -> list[str]:
    content = operation["responses"][status]["content"]["text/plain"]
    assert content["schema"] == {"type": "string"}
    return [example["value"] for example in content["examples"].values()]


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
    texts = {
        ("GET", "/api/mails"): ["Invalid address credential"],
        ("GET", "/user_api/mails"): ["Your token has expired, please login again"],
        ("GET", "/admin/mails"): [
            "You need to provide the admin password to access this page",
            "Your access token has expired, please refresh the page",
            "Your user role is not admin, no access to visit this page",
        ],
    }
    for key, expected in texts.items():
        assert example_texts(ops[key], "401") == expected, key
    assert "security" not in ops["GET", "/open_api/settings"]
    schemes = document["components"]["securitySchemes"]
    assert schemes["adminPassword"] == {**schemes["adminPassword"], "in": "header", "name": "x-admin-auth"}
    assert schemes["userToken"]["name"] == "x-user-token"


def test_every_operation_takes_x_lang_and_none_answers_422(document: dict[str, Any]) -> None:
    for key, operation in operations(document).items():
        assert "x-lang" in parameter_names(operation, "header"), key
        assert "422" not in operation["responses"], key
        assert "Invalid input: {field}: {what is wrong}" in example_texts(operation, "400"), key


def test_refusals_of_the_guards_in_front_of_the_routes(document: dict[str, Any]) -> None:
    ops = operations(document)
    new_address = ops["POST", "/api/new_address"]
    assert "Access denied: IP {ip} is blacklisted" in example_texts(new_address, "403")
    assert example_texts(new_address, "429") == [
        "IP={ip} Exceeded daily limit of {limit} requests",
        "Too many requests, retry after {seconds} seconds",
    ]
    assert example_texts(ops["POST", "/user_api/login"], "429") == [
        "Too many requests, retry after {seconds} seconds"
    ]
    assert "429" in ops["GET", "/admin/mails"]["responses"]
    assert "429" not in ops["GET", "/api/mails"]["responses"]
    assert "403" not in ops["GET", "/api/mails"]["responses"]


def test_a_route_documents_its_own_refusals_and_an_example_answer(document: dict[str, Any]) -> None:
    operation = operations(document)["POST", "/api/webhook/test"]
    assert example_texts(operation, "403") == [
        "Webhook is not enabled, please contact the administrator",
        "Webhook settings is not allowed for this user",
    ]
    assert example_texts(operation, "400")[0] == "send webhook error: {reason}"
    settings = operations(document)["GET", "/api/webhook/settings"]["responses"]["200"]
    assert settings["content"]["application/json"]["example"]["url"] == "https://hooks.example/mail"


def test_a_405_names_every_method_the_path_takes(server: Server) -> None:
    """Starlette names only the methods of the first route at a path; GET and POST of a setting
    are two routes."""
    response = server.client.request("PUT", "/admin/webhook/settings")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


def test_the_site_password_when_one_is_set(make_server: ServerFactory) -> None:
    private = make_server(PASSWORDS='["site-pw"]')
    ops = operations(private.client.get("/openapi.json", headers={"x-custom-auth": "site-pw"}).json())
    assert ops["GET", "/api/mails"]["security"] == [{"addressJwt": [], "sitePassword": []}]
    assert ops["GET", "/health_check"]["security"] == [{"sitePassword": []}]
    assert "security" not in ops["GET", "/open_api/settings"]
    assert example_texts(ops["GET", "/api/mails"], "401") == [
        "Invalid address credential",
        "You have enabled the private site password, please provide the password",
    ]
    assert example_texts(ops["GET", "/api/mails"], "401") == [
        "Invalid address credential",
        "You have enabled the private site password, please provide the password",
    ]


def test_a_fixed_path_is_answered_for_itself(server: Server) -> None:
    """As OpenAPI matches paths: `/user_api/passkey/rename` takes POST, even though the DELETE
    of `/user_api/passkey/{passkey_id}` also matches it."""
    response = server.client.request("PUT", "/user_api/passkey/rename")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    templated = server.client.request("PUT", "/user_api/passkey/abc")
    assert templated.headers["allow"] == "DELETE"
