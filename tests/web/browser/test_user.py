"""User accounts in the browser: register, log in, addresses of the account, its inbox."""

from __future__ import annotations

import hashlib

from playwright.sync_api import Page, expect

from tests.support import Server
from tests.web.browser.conftest import html_mail, unique


def test_register_login_and_manage_addresses(page: Page, ui_server: Server) -> None:
    ui_server.admin("POST", "/admin/user_settings", json={"enable": True, "maxAddressCount": 5})
    email, password = f"{unique('me')}@mail.example", "correct horse battery"

    page.goto(ui_server.base_url + "/user")
    register = page.locator("form[hx-post='/user_api/register']")
    register.get_by_label("E-mail").fill(email)
    register.get_by_label("Password").fill(password)
    register.get_by_role("button", name="Register").click()
    expect(page.locator("#toasts")).to_contain_text("Registered")

    # The browser hashed the password with its own SHA-256: the API's clients must agree.
    digest = hashlib.sha256(password.encode()).hexdigest()
    assert (
        ui_server.client.post("/user_api/login", json={"email": email, "password": digest}).status_code == 200
    )

    login = page.locator("form[hx-post='/user_api/login']")
    login.get_by_label("E-mail").fill(email)
    login.get_by_label("Password").fill(password)
    login.get_by_role("button", name="Log in").click()
    panel = page.locator("#user-panel")
    expect(panel.locator("h1")).to_have_text(email)

    name = unique("acct")
    panel.get_by_placeholder("name (empty: random)").fill(name)
    panel.locator("select[name=domain]").select_option("test.example")
    panel.get_by_role("button", name="Create").click()
    address = f"{name}@test.example"
    bound = panel.locator(".bound li", has_text=address)
    expect(bound).to_be_visible()

    ui_server.send(address, html_mail(address, "For the account", "<p>Hello account</p>"))
    expect(page.locator("#user-mails .mail-item", has_text="For the account")).to_be_visible()
    page.locator("#user-mails .mail-item", has_text="For the account").click()
    expect(page.frame_locator("#reader iframe").locator("p")).to_have_text("Hello account")

    bound.get_by_role("button", name="Unbind").click()
    expect(panel.locator(".bound")).not_to_contain_text(address)
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("form[hx-post='/user_api/login']")).to_be_visible()
