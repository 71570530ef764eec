"""The account page's logins without the password (a passkey through Chromium's virtual
authenticator, an OAuth2 provider as a real server on loopback), passing an address to another
account, and the auto-reply form showing what is stored."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import ServerFactory
from tests.fakes.oauth2_provider import OAuth2Provider
from tests.support import USERS_ENV, Server
from tests.web.browser.conftest import UI_TIMEOUT_MS, PageProblems, create_address, unique


@pytest.fixture(scope="module")
def accounts_server(make_server: ServerFactory) -> Server:
    # The fake OAuth2 provider listens on loopback, which the outbound guard refuses by default.
    return make_server(**USERS_ENV, OUTBOUND_ALLOW_NETWORKS="127.0.0.1")


def new_user(server: Server) -> tuple[str, str]:
    """(e-mail, user JWT) of a new account."""
    email, password = f"{unique('acct')}@mail.example", hashlib.sha256(b"pw").hexdigest()
    assert (
        server.admin("POST", "/admin/users", json={"email": email, "password": password}).status_code == 200
    )
    jwt = server.client.post("/user_api/login", json={"email": email, "password": password}).json()["jwt"]
    return email, str(jwt)


def log_in(page: Page, base_url: str, user_jwt: str) -> None:
    """The account page with this browser holding the user's token."""
    page.goto(base_url + "/user")
    page.evaluate("(jwt) => localStorage.setItem('tm.user', JSON.stringify(jwt))", user_jwt)
    page.reload()


@pytest.fixture
def localhost_page(chromium: Browser) -> Iterator[Page]:
    """A page with a virtual platform authenticator (user-verifying, with resident keys).
    WebAuthn needs a host name for the relying party, so tests visit the server as localhost."""
    context = chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 860})
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    problems = PageProblems(page)
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    yield page
    context.close()
    assert problems.errors == []


def test_register_a_passkey_and_log_in_with_it(localhost_page: Page, accounts_server: Server) -> None:
    page = localhost_page
    base_url = accounts_server.base_url.replace("127.0.0.1", "localhost")
    email, user_jwt = new_user(accounts_server)
    log_in(page, base_url, user_jwt)
    expect(page.locator("#user-panel")).to_contain_text("No passkey yet.")
    adding = page.locator("form[data-passkey=register]")
    adding.get_by_label("Name of the new passkey").fill("test laptop")
    adding.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#user-panel [data-passkey-id] input[name=passkey_name]")).to_have_value(
        "test laptop"
    )
    assert [
        key["passkey_name"] for key in accounts_server.user("GET", "/user_api/passkey", user_jwt).json()
    ] == ["test laptop"]

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="A passkey").click()
    expect(page.locator("#user-panel h1")).to_have_text(email)


def test_log_in_with_an_oauth2_provider(page: Page, accounts_server: Server) -> None:
    with OAuth2Provider() as provider:
        settings = {
            "name": "TestID",
            "clientID": provider.client_id,
            "clientSecret": provider.client_secret,
            "authorizationURL": f"{provider.base_url}/authorize",
            "accessTokenURL": f"{provider.base_url}/token",
            "userInfoURL": f"{provider.base_url}/userinfo",
            "redirectURL": accounts_server.base_url + "/user/oauth2/callback",
            "scope": "openid email",
        }
        assert (
            accounts_server.admin("POST", "/admin/user_oauth2_settings", json=[settings]).status_code == 200
        )
        email = f"{unique('oauth')}@mail.example"
        provider.next_user = {"email": email}
        page.goto(accounts_server.base_url + "/user")
        page.get_by_role("button", name="TestID").click()
        expect(page.locator("#user-panel h1")).to_have_text(email)
        assert page.url == accounts_server.base_url + "/user"

        # A code that comes back without the state this browser sent is refused.
        page.goto(accounts_server.base_url + "/user/oauth2/callback?code=forged&state=other")
        expect(page.locator("#toasts")).to_contain_text("The login with the provider did not complete")
    accounts_server.admin("POST", "/admin/user_oauth2_settings", json=[])


def test_transfer_an_address_to_another_account(page: Page, accounts_server: Server) -> None:
    _, giver = new_user(accounts_server)
    receiver_email, receiver = new_user(accounts_server)
    created = accounts_server.new_address(unique("gift"))
    headers = {"x-user-token": giver, "Authorization": f"Bearer {created['jwt']}"}
    assert accounts_server.client.post("/user_api/bind_address", headers=headers).status_code == 200

    log_in(page, accounts_server.base_url, giver)
    row = page.locator(".bound li", has_text=created["address"])
    row.locator("summary", has_text="Transfer").click()
    row.get_by_label(f"Give {created['address']} to the user with this e-mail").fill(receiver_email)
    row.get_by_role("button", name="Transfer").click()
    expect(page.locator("#toasts")).to_contain_text("Transferred")
    expect(page.locator("#user-panel")).to_contain_text("No address in this account yet.")
    names = [
        row["name"]
        for row in accounts_server.user("GET", "/user_api/bind_address", receiver).json()["results"]
    ]
    assert names == [created["address"]]


def test_auto_reply_form_shows_what_is_stored(page: Page, ui_server: Server) -> None:
    create_address(page, ui_server, unique("away"))
    page.get_by_role("link", name="Address", exact=True).click()
    form = page.locator("form[hx-post='/api/auto_reply']")
    enabled = form.get_by_label("Enabled")
    expect(enabled).not_to_be_checked()

    enabled.check()
    form.get_by_label("Subject").fill("Away")
    form.get_by_label("Message").fill("Back on Monday.")
    form.get_by_role("button", name="Save").click()
    expect(page.locator("#toasts")).to_contain_text("Saved")
    page.reload()
    expect(page.locator("form[hx-post='/api/auto_reply']").get_by_label("Enabled")).to_be_checked()

    form = page.locator("form[hx-post='/api/auto_reply']")
    form.get_by_label("Enabled").uncheck()
    with page.expect_response(lambda r: r.url.endswith("/api/auto_reply") and r.request.method == "POST"):
        form.get_by_role("button", name="Save").click()
    page.reload()
    expect(page.locator("form[hx-post='/api/auto_reply']").get_by_label("Enabled")).not_to_be_checked()
