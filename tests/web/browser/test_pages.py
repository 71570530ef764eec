"""What every page promises: `/` stays the health check for API clients, pages carry a strict CSP
and no inline script, the site password is asked for, and both languages are complete."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tempmail.web.i18n import EN, ZH
from tests.conftest import ServerFactory
from tests.support import Server

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
TEMPLATES = Path(__file__).resolve().parents[3] / "src" / "tempmail" / "web" / "templates"
PAGES = ["/", "/compose", "/address", "/user", "/admin", "/admin?tab=settings"]


@pytest.mark.parametrize("accept", [None, "*/*", "text/plain", "application/json", "text/plain, text/html"])
def test_root_is_the_health_check_for_api_clients(ui_server: Server, accept: str | None) -> None:
    headers = {"accept": accept} if accept is not None else {}
    response = httpx.get(ui_server.base_url + "/", headers=headers)
    assert (response.status_code, response.text) == (200, "OK")
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("path", PAGES)
def test_pages_for_browsers_have_a_strict_policy(ui_server: Server, path: str) -> None:
    response = httpx.get(ui_server.base_url + path, headers={"accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", response.text, re.S)
    for attributes, body in scripts:
        assert 'src="/static/' in attributes or 'type="application/json"' in attributes
        assert "src=" in attributes or body.strip().startswith("{")
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", response.text), "no inline event handlers"


def test_fragments_need_the_credential(ui_server: Server) -> None:
    assert httpx.get(ui_server.base_url + "/ui/mails?limit=5&offset=0").status_code == 401
    assert httpx.get(ui_server.base_url + "/ui/admin/statistics").status_code == 401
    assert httpx.get(ui_server.base_url + "/ui/user/panel").status_code == 401


@pytest.fixture
def private_site(make_server: ServerFactory) -> Server:
    return make_server(PASSWORDS='["site-secret"]')


def test_site_password_is_prompted_and_then_sent(page: Page, private_site: Server) -> None:
    # The page shell and its files load without the password; data does not.
    assert httpx.get(private_site.base_url + "/", headers={"accept": BROWSER_ACCEPT}).status_code == 200
    assert httpx.get(private_site.base_url + "/static/app.js").status_code == 200
    assert httpx.get(private_site.base_url + "/").status_code == 401
    assert httpx.get(private_site.base_url + "/ui/mails?limit=5&offset=0").status_code == 401

    page.goto(private_site.base_url + "/")
    dialog = page.locator("#site-password")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Site password").fill("site-secret")
    dialog.get_by_role("button", name="Continue").click()
    expect(dialog).to_be_hidden()
    page.get_by_test_id("create-address").get_by_role("button", name="Create address").click()
    expect(page.locator("#mail-list")).to_contain_text("No mail yet")


def test_language_from_browser_and_switch(chromium: Browser, ui_server: Server) -> None:
    context = chromium.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(ui_server.base_url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("link", name="收件箱")).to_be_visible()
    page.locator("#lang-switch").select_option("en")
    expect(page.get_by_role("link", name="Inbox")).to_be_visible()
    page.goto(ui_server.base_url + "/compose")
    expect(page.get_by_role("link", name="Compose")).to_be_visible()
    context.close()


def test_theme_switch_is_remembered(page: Page, ui_server: Server) -> None:
    page.goto(ui_server.base_url + "/")
    page.locator("#theme-switch").select_option("dark")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(18, 19, 24)"


def test_every_text_has_both_languages() -> None:
    """Each `t("...")` of the templates has a Chinese text, and key-style texts an English one."""
    used: set[str] = set()
    for template in TEMPLATES.rglob("*.html"):
        source = template.read_text()
        used |= set(re.findall(r"""\bt\("([^"]+)"[,)]""", source))
        used |= set(re.findall(r"""\bt\('([^']+)'[,)]""", source))
        for prefix in re.findall(r"""\bt\("(\w+:)" ~""", source):
            used |= {key for key in EN if key.startswith(prefix)}
    assert used, "no texts found: the pattern is out of date"
    missing = sorted(text for text in used if text not in ZH)
    assert missing == []
    assert sorted(key for key in ZH if re.fullmatch(r"\w+:\w+", key) and key not in EN) == []
