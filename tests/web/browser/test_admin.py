"""The admin console: log in, find and manage addresses, statistics, settings."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, Response, expect

from tests.support import ADMIN_PASSWORD, Server
from tests.web.browser.conftest import unique


def admin_login(page: Page, server: Server, password: str = ADMIN_PASSWORD) -> None:
    page.goto(server.base_url + "/admin")
    page.get_by_label("Admin password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_wrong_password_is_refused(page: Page, ui_server: Server) -> None:
    admin_login(page, ui_server, "not-the-password")
    expect(page.locator("#toasts")).to_contain_text("You need to provide the admin password")
    expect(page.get_by_label("Admin password")).to_be_visible()


def test_find_show_credential_and_delete_an_address(page: Page, ui_server: Server) -> None:
    created = ui_server.new_address(unique("victim"))
    admin_login(page, ui_server)
    page.get_by_placeholder("part of the address").fill(created["address"])
    page.get_by_role("button", name="Search").click()
    row = page.locator("#admin-addresses tr", has_text=created["address"])
    expect(row).to_have_count(1)

    row.get_by_role("button", name="Credential").click()
    dialog = page.locator("#secret-dialog")
    expect(dialog).to_be_visible()
    jwt = dialog.locator("textarea").input_value().split()[0]
    assert ui_server.with_jwt("GET", "/api/settings", jwt).json()["address"] == created["address"]
    dialog.get_by_role("button", name="Close").click()

    row.get_by_role("button", name="Delete").click()
    expect(page.locator("#admin-addresses")).not_to_contain_text(created["address"])
    assert ui_server.with_jwt("GET", "/api/settings", created["jwt"]).status_code == 400


def saved(path: str) -> Callable[[Response], bool]:
    """Matches the POST answer of a settings form, so a test waits for that save itself."""
    return lambda response: response.url.endswith(path) and response.request.method == "POST"


def test_statistics_and_settings(page: Page, ui_server: Server) -> None:
    ui_server.new_address(unique("counted"))
    admin_login(page, ui_server)
    page.get_by_role("link", name="Statistics").click()
    expected = ui_server.admin("GET", "/admin/statistics").json()["addressCount"]
    expect(page.locator("[data-stat=addressCount]")).to_have_text(str(expected))

    page.get_by_role("link", name="Settings").click()
    registration = page.locator("form[hx-post='/admin/user_settings']")
    registration.get_by_label("Addresses per user").fill("7")
    registration.get_by_label("Allowed domains (one a line)").fill("mail.example\nother.example")
    with page.expect_response(
        lambda r: r.url.endswith("/admin/user_settings") and r.request.method == "POST"
    ):
        registration.get_by_role("button", name="Save").click()
    expect(page.locator("#toasts")).to_contain_text("Saved")
    rules = ui_server.admin("GET", "/admin/user_settings").json()
    assert (rules["maxAddressCount"], rules["mailAllowList"]) == (7, ["mail.example", "other.example"])

    blocks = page.locator("form[hx-post='/admin/account_settings']")
    blocks.get_by_label("Senders whose mail is refused").fill("spammer.example")
    with page.expect_response(
        lambda r: r.url.endswith("/admin/account_settings") and r.request.method == "POST"
    ):
        blocks.get_by_role("button", name="Save").click()
    assert ui_server.admin("GET", "/admin/account_settings").json()["fromBlockList"] == ["spammer.example"]
    ui_server.admin("POST", "/admin/account_settings", json={"fromBlockList": []})
