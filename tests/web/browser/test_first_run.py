"""The first run: `tempmail serve` with no configuration at all, as a new operator meets it.

The home page must not be a dead end: it offers "Log in as admin", the password the server
printed at its first start works there, and "Create address" then makes the first address,
which lands in this browser's address list like any other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support import Server


@pytest.fixture
def unconfigured(backend: str) -> Iterator[Server]:
    """A server with no settings but its database and ports: no admin password, no JWT secret,
    no domains, no public address creation."""
    server = Server(backend, base=False).start()
    yield server
    server.close()


def printed_password(server: Server) -> str:
    found = re.search(r"Admin password: (\S+)", server.output())
    assert found is not None, server.output()
    return found.group(1)


def test_admin_logs_in_and_creates_the_first_address_from_the_home_page(
    page: Page, unconfigured: Server
) -> None:
    page.goto(unconfigured.base_url + "/")
    expect(page.get_by_text("Creating addresses is reserved to the operator")).to_be_visible()

    page.get_by_text("Log in as admin").click()
    page.get_by_label("Admin password").fill(printed_password(unconfigured))
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Create address").click()

    shown = page.locator(".addressbar [data-current-address]")
    expect(shown).to_have_text(re.compile(r"^[a-z0-9]{10}@localhost$"))
    address = shown.inner_text()
    stored = page.evaluate("JSON.parse(localStorage.getItem('tm.addresses'))")
    assert [entry["address"] for entry in stored] == [address]
    # The JWT the browser keeps is the new address's credential.
    settings = unconfigured.with_jwt("GET", "/api/settings", stored[0]["jwt"])
    assert settings.json()["address"] == address


def test_a_wrong_admin_password_is_refused_on_the_home_page(page: Page, unconfigured: Server) -> None:
    page.goto(unconfigured.base_url + "/")
    page.get_by_text("Log in as admin").click()
    page.get_by_label("Admin password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.locator("#toasts")).to_contain_text("You need to provide the admin password")
    expect(page.get_by_label("Admin password")).to_be_visible()
    expect(page.get_by_test_id("admin-create-address")).to_be_hidden()
    assert page.evaluate("localStorage.getItem('tm.admin')") is None


def test_public_creation_shows_no_admin_prompt(page: Page, make_server: Callable[..., Server]) -> None:
    server = make_server()
    page.goto(server.base_url + "/")
    expect(page.get_by_test_id("create-address")).to_be_visible()
    expect(page.get_by_text("Log in as admin")).to_have_count(0)
