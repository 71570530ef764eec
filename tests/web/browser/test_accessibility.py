"""Accessibility of every page, as logged in: each control has a label, all text has a contrast
of at least 4.5:1 in both color schemes (the skip link, placeholders and toasts included), and a
phone's width never scrolls sideways."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tempmail.web.pages import ADMIN_TABS
from tests.support import ADMIN_PASSWORD, Server
from tests.web.browser.conftest import UI_TIMEOUT_MS, PageProblems, html_mail, unique

# Every page, and every admin tab; "/user#out" and "/admin#out" are the pages before logging in.
PATHS = [
    "/",
    "/address",
    "/compose",
    "/user",
    "/user#out",
    "/admin#out",
    *(f"/admin?tab={tab}" for tab in ADMIN_TABS),
]
MIN_CONTRAST = 4.5

# Done once the page's visible fragments have loaded and no request is under way.
LOADED = """() => !document.querySelector('.htmx-request') && [...document.querySelectorAll(
  '[hx-trigger*="tm-load"]')].filter(el => !el.closest('[hidden]')).every(el => el.children.length > 0)"""

UNLABELED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden')
  .filter(el => {
    const named = text => !!(text || '').trim();
    if ([...(el.labels || [])].some(label => named(label.textContent))) return false;
    if (named(el.getAttribute('aria-label'))) return false;
    const ids = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
    return !ids.some(id => named((document.getElementById(id) || {}).textContent));
  })
  .map(el => el.outerHTML.slice(0, 160))"""

# WCAG 2 contrast of each visible text against what is behind it: the element's own background
# and its ancestors', composited until an opaque one (the canvas when none is).
CONTRAST = """(selector) => {
  const parse = value => {
    const m = value.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return [0, 0, 0, 0];
    const parts = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  };
  const dark = getComputedStyle(document.documentElement).colorScheme === 'dark';
  const canvas = dark ? [18, 18, 18, 1] : [255, 255, 255, 1];
  const background = el => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const color = parse(getComputedStyle(node).backgroundColor);
      if (color[3] > 0) layers.push(color);
      if (color[3] >= 1) break;
    }
    return layers.reverse().reduce((below, layer) => over(layer, below), canvas);
  };
  const luminance = rgb => {
    const [r, g, b] = rgb.slice(0, 3).map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (fg, bg) => {
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const visible = el => {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || box.right <= 0 || box.bottom <= 0) return false;
    for (let node = el; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.visibility === 'hidden' || style.display === 'none') return false;
      if (Number(style.opacity) === 0) return false;
      if (style.clipPath !== 'none' || (style.clip && style.clip !== 'auto')) return false;
    }
    return true;
  };
  const found = [];
  const check = (el, color, what) => {
    const bg = background(el);
    const value = ratio(over(parse(color), bg), bg);
    if (value < 4.5) found.push(`${value.toFixed(2)} ${what}: ${el.outerHTML.slice(0, 140)}`);
  };
  for (const el of document.querySelectorAll(selector)) {
    if (el.closest('option, template, iframe') || !visible(el)) continue;
    const hasText = [...el.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    if (hasText || el.matches('input:not([type=checkbox]):not([type=radio]), select, textarea')) {
      if (hasText || el.value) check(el, getComputedStyle(el).color, 'text');
    }
    if (el.matches('input, textarea') && el.placeholder && !el.value) {
      check(el, getComputedStyle(el, '::placeholder').color, 'placeholder');
    }
  }
  return found;
}"""


@pytest.fixture(scope="module")
def logins(ui_server: Server) -> dict[str, Any]:
    """An address with a mail, a user holding it, and an OAuth2 provider (so every screen has
    its rows and buttons)."""
    created = ui_server.new_address(unique("a11y"))
    ui_server.send(
        created["address"], html_mail(created["address"], "Your code 123456", "<p>Code 123456</p>")
    )
    email, password = f"{unique('a11y')}@mail.example", hashlib.sha256(b"a11y password").hexdigest()
    assert (
        ui_server.admin("POST", "/admin/users", json={"email": email, "password": password}).status_code
        == 200
    )
    user_jwt = ui_server.client.post("/user_api/login", json={"email": email, "password": password}).json()[
        "jwt"
    ]
    bound = ui_server.client.post(
        "/user_api/bind_address",
        headers={"x-user-token": user_jwt, "Authorization": f"Bearer {created['jwt']}"},
    )
    assert bound.status_code == 200, bound.text
    provider = {
        "name": "Example ID",
        "clientID": "a11y-client",
        "authorizationURL": "https://id.example/authorize",
        "accessTokenURL": "https://id.example/token",
        "userInfoURL": "https://id.example/me",
        "redirectURL": ui_server.base_url + "/user/oauth2/callback",
    }
    if not ui_server.admin("GET", "/admin/user_oauth2_settings").json():
        ui_server.admin("POST", "/admin/user_oauth2_settings", json=[provider])
    return {"address": created, "user": user_jwt}


def open_page(page: Page, server: Server, logins: dict[str, Any], path: str) -> None:
    """The page with this browser holding the address, the user token and the admin password
    (none of the last two for a `#out` path), once its fragments have loaded."""
    page.goto(server.base_url + "/static/icon.svg")
    logged_in = not path.endswith("#out")
    entry = {**logins["address"], "password": None}
    stored = {
        "tm.addresses": [entry],
        "tm.current": entry["address"],
        "tm.user": logins["user"] if logged_in else None,
        "tm.admin": ADMIN_PASSWORD if logged_in else None,
    }
    page.evaluate(
        """(stored) => { localStorage.clear(); for (const [key, value] of Object.entries(stored))
             if (value !== null) localStorage.setItem(key, JSON.stringify(value)); }""",
        stored,
    )
    page.goto(server.base_url + path.removesuffix("#out"))
    page.wait_for_function(LOADED, timeout=UI_TIMEOUT_MS)
    if path == "/":
        page.locator(".mail-item").first.click()
        page.locator("#reader article").wait_for()


@pytest.fixture
def browse(chromium: Browser, request: pytest.FixtureRequest) -> Iterator[Any]:
    """`browse(scheme, width, height)`: a page in a context with that color scheme and size."""
    contexts = []

    def make(scheme: str = "light", width: int = 1280, height: int = 860) -> Page:
        context = chromium.new_context(
            locale="en-US",
            color_scheme=scheme,
            viewport={"width": width, "height": height},  # type: ignore[arg-type]
        )
        context.set_default_timeout(UI_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        problems.append(PageProblems(page))
        return page

    problems: list[PageProblems] = []
    yield make
    for context in contexts:
        context.close()
    assert [error for watcher in problems for error in watcher.errors] == []


def test_every_control_has_a_label(browse: Any, ui_server: Server, logins: dict[str, Any]) -> None:
    page = browse()
    unlabeled = {}
    for path in PATHS:
        open_page(page, ui_server, logins, path)
        found = page.evaluate(UNLABELED)
        if found:
            unlabeled[path] = found
    assert unlabeled == {}, json.dumps(unlabeled, indent=1)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_is_at_least_4_5(
    browse: Any, ui_server: Server, logins: dict[str, Any], scheme: str
) -> None:
    page = browse(scheme)
    low = {}
    for path in PATHS:
        open_page(page, ui_server, logins, path)
        found = page.evaluate(CONTRAST, "body *")
        if found:
            low[path] = found
    # The skip link as a keyboard user sees it, and both kinds of toast.
    open_page(page, ui_server, logins, "/compose")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    skip = page.evaluate(CONTRAST, ".skip")
    page.evaluate("window.tempmail.toast('Saved'); window.tempmail.toast('Something went wrong', 'error')")
    toasts = page.evaluate(CONTRAST, ".toast")
    assert (low, skip, toasts) == ({}, [], []), json.dumps([low, skip, toasts], indent=1)


# The links of the top bar and of the admin tabs that lie (partly) out of view.
HIDDEN_LINKS = """() => [...document.querySelectorAll('.topbar a, .topbar select, .tabs a')]
  .filter(el => { const box = el.getBoundingClientRect(); return box.left < 0 || box.right > innerWidth; })
  .map(el => el.textContent.trim())"""


# What sticks out on the right: elements, or text wider than its element.
PAST_THE_EDGE = """() => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node && found.length < 5; node = walker.nextNode()) {
    const element = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
    if (element.closest('.table-wrap')) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const box = (node.nodeType === Node.TEXT_NODE ? range : node).getBoundingClientRect();
    if (box.width > 0 && box.right > innerWidth + 0.5) found.push(element.outerHTML.slice(0, 120));
  }
  return found;
}"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_phones_never_scroll_sideways(
    browse: Any, ui_server: Server, logins: dict[str, Any], lang: str
) -> None:
    page = browse(width=360, height=740)
    page.context.add_cookies([{"name": "lang", "value": lang, "url": ui_server.base_url}])
    wide = {}
    for path in PATHS:
        open_page(page, ui_server, logins, path)
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        hidden = page.evaluate(HIDDEN_LINKS)
        if hidden:
            wide[path + " links"] = json.dumps(hidden)
        if widths[0] > widths[1]:
            culprits = page.evaluate(PAST_THE_EDGE)
            wide[path] = json.dumps({"scrollWidth": widths[0], "culprits": culprits})
    assert wide == {}, json.dumps(wide, indent=1)
