"""Self-test: the fake OAuth2 provider must run the authorization-code flow like a real one, and refuse
what a real one refuses, or the OAuth2 login tests built on it would prove nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest

from tests.fakes.oauth2_provider import OAuth2Provider

REDIRECT_URI = "http://app.test.example/oauth2/callback"
USER = {"email": "alice@oauth.test.example", "login": "alice", "id": 42}


@pytest.fixture
def provider() -> Iterator[OAuth2Provider]:
    with OAuth2Provider(client_id="app", client_secret="s3cret") as provider:
        provider.next_user = USER
        yield provider


def token_request(provider: OAuth2Provider, code: str, **overrides: str) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": provider.client_id,
        "client_secret": provider.client_secret,
        **overrides,
    }
    return httpx.post(f"{provider.base_url}/token", data=form)


def userinfo(provider: OAuth2Provider, authorization: str) -> httpx.Response:
    return httpx.get(f"{provider.base_url}/userinfo", headers={"Authorization": authorization})


@pytest.mark.parametrize("token_format", ["json", "form"])
def test_code_flow(token_format: Literal["json", "form"]) -> None:
    with OAuth2Provider(token_format=token_format) as provider:
        provider.next_user = USER
        params = {
            "response_type": "code",
            "client_id": "test-client",
            "redirect_uri": REDIRECT_URI,
            "state": "xyz",
            "scope": "user:email",
        }
        response = httpx.get(f"{provider.base_url}/authorize", params=params, follow_redirects=False)
        assert response.status_code == 302
        location = urlsplit(response.headers["location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
        query = parse_qs(location.query)
        assert query["state"] == ["xyz"]
        assert provider.last_authorize_params == params

        # Client credentials in HTTP Basic auth instead of the form.
        response = httpx.post(
            f"{provider.base_url}/token",
            data={"grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": REDIRECT_URI},
            auth=("test-client", "test-secret"),
        )
        assert response.status_code == 200
        if token_format == "json":
            assert response.headers["content-type"] == "application/json"
            body = response.json()
            assert body["token_type"] == "bearer"
        else:
            assert response.headers["content-type"] == "application/x-www-form-urlencoded"
            body = dict(parse_qsl(response.text))
            assert body.keys() == {"access_token", "token_type", "scope"}
            assert (body["token_type"], body["scope"]) == ("bearer", "user:email")

        for scheme in ("Bearer", "token"):
            info = userinfo(provider, f"{scheme} {body['access_token']}")
            assert info.status_code == 200
            assert info.json() == USER


def test_authorize_helper_and_form_credentials(provider: OAuth2Provider) -> None:
    code = provider.authorize(REDIRECT_URI, state="s1", scope="openid email")
    assert provider.last_authorize_params["scope"] == "openid email"
    response = token_request(provider, code)
    assert response.status_code == 200
    assert userinfo(provider, f"Bearer {response.json()['access_token']}").json() == USER


def test_code_is_bound_to_the_user_chosen_at_authorize(provider: OAuth2Provider) -> None:
    first = provider.authorize(REDIRECT_URI, state="a")
    provider.next_user = {"email": "bob@oauth.test.example"}
    second = provider.authorize(REDIRECT_URI, state="b")
    tokens = [token_request(provider, code).json()["access_token"] for code in (first, second)]
    assert [userinfo(provider, f"Bearer {t}").json()["email"] for t in tokens] == [
        "alice@oauth.test.example",
        "bob@oauth.test.example",
    ]


def test_code_is_single_use(provider: OAuth2Provider) -> None:
    code = provider.authorize(REDIRECT_URI, state="s")
    assert token_request(provider, code).status_code == 200
    replay = token_request(provider, code)
    assert replay.status_code == 400
    assert replay.json() == {"error": "invalid_grant"}


def test_redirect_uri_must_match(provider: OAuth2Provider) -> None:
    code = provider.authorize(REDIRECT_URI, state="s")
    response = token_request(provider, code, redirect_uri="http://evil.test.example/callback")
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant"}


def test_unknown_code_is_refused(provider: OAuth2Provider) -> None:
    response = token_request(provider, "made-up")
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant"}


def test_wrong_secret_is_refused(provider: OAuth2Provider) -> None:
    code = provider.authorize(REDIRECT_URI, state="s")
    response = token_request(provider, code, client_secret="wrong")
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client"}
    basic = httpx.post(
        f"{provider.base_url}/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        auth=(provider.client_id, "wrong"),
    )
    assert basic.status_code == 401


def test_unknown_client_is_refused_at_authorize(provider: OAuth2Provider) -> None:
    response = httpx.get(
        f"{provider.base_url}/authorize",
        params={"response_type": "code", "client_id": "other", "redirect_uri": REDIRECT_URI, "state": "s"},
    )
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_client"}
    assert provider.last_authorize_params["client_id"] == "other"


@pytest.mark.parametrize("authorization", ["", "Bearer nope", "Basic dGVzdDp0ZXN0"])
def test_bad_token_is_refused_at_userinfo(provider: OAuth2Provider, authorization: str) -> None:
    code = provider.authorize(REDIRECT_URI, state="s")
    token = token_request(provider, code).json()["access_token"]
    assert userinfo(provider, f"Bearer {token}").status_code == 200
    response = userinfo(provider, authorization)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token"}
