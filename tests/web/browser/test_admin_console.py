"""The admin console's screens beyond the everyday ones: sending as an address, resetting an
address's password, address limits per role, binding, OAuth2 providers, IP access, extraction,
the database and the configuration. Each form is used as an operator would and checked against
the JSON route it saves through."""

from __future__ import annotations

import hashlib

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ServerFactory
from tests.fakes.smtp_sink import SmtpSink
from tests.support import USERS_ENV, Server
from tests.web.browser.conftest import unique
from tests.web.browser.test_admin import admin_login, saved


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def roles_server(make_server: ServerFactory) -> Server:
    """Roles configured (USERS_ENV), for the role limits and the binding."""
    return make_server(**USERS_ENV)


def open_tab(page: Page, server: Server, tab: str) -> None:
    admin_login(page, server)
    page.get_by_role("link", name=tab, exact=True).click()


def test_send_mail_as_an_address(page: Page, ui_server: Server, relay: SmtpSink) -> None:
    sender = ui_server.new_address(unique("ops"))["address"]
    before = len(relay.messages)
    open_tab(page, ui_server, "Send mail")
    form = page.locator("form[hx-post='/admin/send_mail']")
    form.get_by_label("From (one of our addresses)").fill(sender)
    form.get_by_label("To", exact=True).fill("someone@example.org")
    form.get_by_label("Subject").fill("Sent by the operator")
    form.get_by_label("Message", exact=True).fill("Hello from the console.")
    with page.expect_response(saved("/admin/send_mail")) as answer:
        form.get_by_role("button", name="Send").click()
    assert answer.value.status == 200
    expect(page.locator("#toasts")).to_contain_text("Mail sent")
    arrived = relay.wait_for(before + 1)
    mail = next(item for item in arrived if item.message["Subject"] == "Sent by the operator")
    assert mail.mail_from == sender and mail.rcpt_tos == ["someone@example.org"]


def test_reset_an_address_password(page: Page, ui_server: Server) -> None:
    created = ui_server.new_address(unique("forgot"))
    admin_login(page, ui_server)
    page.get_by_placeholder("part of the address").fill(created["address"])
    page.get_by_role("button", name="Search").click()
    row = page.locator("#admin-addresses tr", has_text=created["address"])
    row.get_by_text("Reset password").click()
    row.get_by_label(f"New password for {created['address']}").fill("brand new secret")
    with page.expect_response(saved("/reset_password")) as answer:
        row.get_by_role("button", name="Save").click()
    assert answer.value.status == 200
    login = {"email": created["address"], "password": sha256("brand new secret")}
    assert ui_server.client.post("/api/address_login", json=login).status_code == 200


def test_role_limits_and_binding(page: Page, roles_server: Server) -> None:
    email = f"{unique('bound')}@mail.example"
    assert (
        roles_server.admin("POST", "/admin/users", json={"email": email, "password": sha256("x")}).status_code
        == 200
    )
    address = roles_server.new_address(unique("given"))["address"]
    open_tab(page, roles_server, "Users")

    limits = page.locator("form[hx-post='/admin/role_address_config']")
    limits.get_by_label("Role vip: addresses per user").fill("3")
    with page.expect_response(saved("/admin/role_address_config")) as answer:
        limits.get_by_role("button", name="Save").click()
    assert answer.value.status == 200
    configs = roles_server.admin("GET", "/admin/role_address_config").json()["configs"]
    assert configs["vip"] == {"maxAddressCount": 3} and "boss" not in configs

    bind = page.locator("form[hx-post='/admin/users/bind_address']")
    bind.get_by_label("User's e-mail").fill(email)
    bind.get_by_label("Address").fill(address)
    with page.expect_response(saved("/admin/users/bind_address")) as answer:
        bind.get_by_role("button", name="Bind").click()
    assert answer.value.status == 200
    user_id = roles_server.admin(
        "GET", "/admin/users", params={"limit": 5, "offset": 0, "query": email}
    ).json()["results"][0]["id"]
    bound = roles_server.admin("GET", f"/admin/users/bind_address/{user_id}").json()["results"]
    assert [row["name"] for row in bound] == [address]


def test_oauth2_providers_are_added_and_removed(page: Page, roles_server: Server) -> None:
    open_tab(page, roles_server, "OAuth2 login")
    page.get_by_role("button", name="Add a provider").click()
    provider = page.locator("[data-provider]").last
    values = {
        "Name shown on the button": "Example ID",
        "Client ID": "console-client",
        "Client secret": "console-secret",
        "Authorization URL": "https://id.example/authorize",
        "Access token URL": "https://id.example/token",
        "User info URL": "https://id.example/me",
        "Redirect URL": roles_server.base_url + "/user/oauth2/callback",
        "Scope": "openid email",
    }
    for label, value in values.items():
        provider.get_by_label(label, exact=True).fill(value)
    provider.get_by_label("Access token answer").select_option("urlencoded")
    provider.get_by_label("Only these e-mail domains may log in").check()
    provider.get_by_label("Allowed domains (one a line)").fill("mail.example\nother.example")
    form = page.locator("form[hx-post='/admin/user_oauth2_settings']")
    with page.expect_response(saved("/admin/user_oauth2_settings")) as answer:
        form.get_by_role("button", name="Save").click()
    assert answer.value.status == 200
    stored = roles_server.admin("GET", "/admin/user_oauth2_settings").json()
    mine = next(item for item in stored if item["clientID"] == "console-client")
    assert (mine["name"], mine["clientSecret"], mine["accessTokenFormat"]) == (
        "Example ID",
        "console-secret",
        "urlencoded",
    )
    assert mine["enableMailAllowList"] is True and mine["mailAllowList"] == ["mail.example", "other.example"]

    # The saved list comes back filled in; removing the provider and saving drops it.
    shown = page.locator("[data-provider]", has=page.locator("input[value='console-client']"))
    expect(shown).to_have_count(1)
    shown.get_by_role("button", name="Remove this provider").click()
    with page.expect_response(saved("/admin/user_oauth2_settings")):
        form.get_by_role("button", name="Save").click()
    stored = roles_server.admin("GET", "/admin/user_oauth2_settings").json()
    assert all(item["clientID"] != "console-client" for item in stored)


def test_ip_access_and_extraction_settings(page: Page, ui_server: Server) -> None:
    defaults = ui_server.admin("GET", "/admin/ip_blacklist/settings").json()
    open_tab(page, ui_server, "IP access")
    form = page.locator("form[hx-post='/admin/ip_blacklist/settings']")
    # The list is saved switched off: this server is shared with the other browser tests.
    form.get_by_label("Refused IPs (one a line)").fill("203.0.113.7\n198.51.100.0")
    form.get_by_label("Limit the requests of each IP per day").check()
    form.get_by_label("Requests per IP per day").fill("250")
    with page.expect_response(saved("/admin/ip_blacklist/settings")) as answer:
        form.get_by_role("button", name="Save").click()
    assert answer.value.status == 200
    stored = ui_server.admin("GET", "/admin/ip_blacklist/settings").json()
    assert stored["enabled"] is False and stored["blacklist"] == ["203.0.113.7", "198.51.100.0"]
    assert (stored["enableDailyLimit"], stored["dailyRequestLimit"]) == (True, 250)
    ui_server.admin("POST", "/admin/ip_blacklist/settings", json=defaults)

    page.get_by_role("link", name="Settings", exact=True).click()
    extract = page.locator("form[hx-post='/admin/ai_extract/settings']")
    extract.get_by_label("Only for these addresses (else for every address)").check()
    extract.get_by_label("Addresses, * for any part (one a line)").fill("*@test.example")
    with page.expect_response(saved("/admin/ai_extract/settings")) as answer:
        extract.get_by_role("button", name="Save").click()
    assert answer.value.status == 200
    assert ui_server.admin("GET", "/admin/ai_extract/settings").json() == {
        "enableAllowList": True,
        "allowList": ["*@test.example"],
    }
    ui_server.admin("POST", "/admin/ai_extract/settings", json={"enableAllowList": False, "allowList": []})


def test_database_and_configuration_screens(page: Page, ui_server: Server) -> None:
    usage = ui_server.admin("GET", "/admin/db_usage").json()
    open_tab(page, ui_server, "Database")
    expect(page.locator("[data-db=backend]")).to_have_text("sqlite")
    expect(page.locator("[data-db=version]")).to_have_text("v0.0.7")
    expect(page.locator("[data-stat=databaseSize]")).to_contain_text("iB")
    expect(page.locator("[data-stat=diskFree]")).to_contain_text("iB")
    expect(page.locator("progress")).to_have_attribute("max", str(usage["diskTotal"]))

    page.get_by_role("link", name="Configuration", exact=True).click()
    expect(page.locator("[data-config=DOMAINS]")).to_have_text('["test.example", "example.org"]')
    expect(page.locator("[data-config=HAS_ADMIN_PASSWORDS]")).to_have_text("1")
    expect(page.locator("[data-config=ENABLE_AUTO_REPLY]")).to_have_text("true")
