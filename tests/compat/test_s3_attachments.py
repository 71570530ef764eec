"""COMPAT §17 S3 attachments: `/api/attachment/*` need an address credential; without an object
store configured they answer `400 S3 is not configured`, and with S3_* set (tempmail has no S3
client yet) a 501 saying so; `/open_api/settings` keeps `isS3Enabled: false`. On both backends."""

from __future__ import annotations

import pytest

from tests.conftest import ServerFactory
from tests.support import Server

ROUTES = [
    ("GET", "/api/attachment/list"),
    ("POST", "/api/attachment/delete"),
    ("POST", "/api/attachment/put_url"),
    ("POST", "/api/attachment/get_url"),
]
S3_ENV = {
    "S3_ENDPOINT": "https://s3.test.example",
    "S3_ACCESS_KEY_ID": "key-id",
    "S3_SECRET_ACCESS_KEY": "secret",
    "S3_BUCKET": "bucket",
}


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_attachment_routes_need_an_address_then_s3(server: Server, method: str, path: str) -> None:
    response = server.client.request(method, path, json={"key": "a.txt"})
    assert (response.status_code, response.text) == (401, "Invalid address credential")
    jwt = server.new_address()["jwt"]
    response = server.with_jwt(method, path, jwt, json={"key": "a.txt"})
    assert (response.status_code, response.text) == (400, "S3 is not configured")


def test_s3_stays_off_in_the_settings(server: Server) -> None:
    assert server.client.get("/open_api/settings").json()["isS3Enabled"] is False


def test_a_partial_s3_configuration_is_not_a_configuration(make_server: ServerFactory) -> None:
    server = make_server(**{**S3_ENV, "S3_BUCKET": ""})
    jwt = server.new_address()["jwt"]
    response = server.with_jwt("GET", "/api/attachment/list", jwt)
    assert (response.status_code, response.text) == (400, "S3 is not configured")


def test_with_s3_configured_the_routes_say_they_are_not_built(make_server: ServerFactory) -> None:
    server = make_server(**S3_ENV)
    jwt = server.new_address()["jwt"]
    for method, path in ROUTES:
        response = server.with_jwt(method, path, jwt, json={"key": "a.txt"})
        assert (response.status_code, response.text) == (
            501,
            "S3 attachments are not implemented in this tempmail version",
        )
    assert server.client.get("/open_api/settings").json()["isS3Enabled"] is False
