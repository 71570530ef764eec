"""Browser tests: Debian's headless Chromium, driven by Playwright for Python, against real servers.

Chromium comes from the distribution (`apt-get install chromium`), never from `playwright install`.
Without it (or without the playwright package) every one of these tests fails with the line that
installs it, never a skip; `-m "not browser"` deselects them on purpose. TEMPMAIL_TEST_CHROMIUM
names another Chromium binary (tests/test_browser_setup.py points it nowhere).

They run on the SQLite backend only (`tests/conftest.py` deselects their PostgreSQL copies), to
keep CI time down: the UI has no SQL of its own (its fragments call the services the JSON
routes call, and the end-to-end tests run those on both backends), so a second browser run on
PostgreSQL would double the slowest tests and prove nothing more.
"""

from __future__ import annotations

import ast
import json
import os
import threading
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import ServerFactory
from tests.fakes.smtp_sink import SmtpSink
from tests.support import Server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = os.environ.get("TEMPMAIL_TEST_CHROMIUM", "/usr/bin/chromium")
# How long the UI may take to show something (polling runs every 5 s).
UI_TIMEOUT_MS = 15_000


PLAYWRIGHT_MISSING = "playwright is missing: pip install -e '.[test]'"


def _deselect_hint(reason: str) -> str:
    return f"{reason} (or deselect the browser tests with -m 'not browser')"


def _playwright_missing() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return True
    return False


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing: apt-get install chromium"
    if _playwright_missing():
        return PLAYWRIGHT_MISSING
    return None


class _NeedsPlaywright(pytest.Item):
    """A browser test whose module cannot even be imported (it imports playwright): it fails
    with the line that installs playwright, as the others fail without Chromium."""

    def runtest(self) -> None:
        pytest.fail(_deselect_hint(PLAYWRIGHT_MISSING), pytrace=False)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, self.name


class _UnimportableModule(pytest.Module):
    """Without playwright, a browser test module is read, not imported: each of its test
    functions becomes a failing `_NeedsPlaywright` (an import error would stop the whole run,
    `-m "not browser"` included)."""

    def collect(self) -> list[pytest.Item]:  # type: ignore[override]
        tree = ast.parse(self.path.read_text(encoding="utf-8"))
        names = [
            node.name
            for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test")
        ]
        return [_NeedsPlaywright.from_parent(self, name=name) for name in names]


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    if module_path.name.startswith("test_") and _playwright_missing():
        return _UnimportableModule.from_parent(parent, path=module_path)
    return None


@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    """Package-scoped on purpose: Playwright's sync API keeps an event loop running in this
    thread while it is open, and every other test (asyncio.run in the PostgreSQL helpers, the
    job tests) needs it closed once the browser tests are done."""
    reason = _missing()
    if reason is not None:
        pytest.fail(_deselect_hint(reason), pytrace=False)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=UI_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


class PageProblems:
    """What must never happen on a page of ours: an uncaught error, or our own CSP refusing
    something (which would mean an inline script or style slipped into a template)."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.errors.append(f"CSP: {message.text}")


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A fresh browser profile (empty localStorage) per test; dialogs are accepted."""
    context = chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 860})
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    problems = PageProblems(page)
    yield page
    context.close()
    assert problems.errors == []


@pytest.fixture(scope="module")
def relay() -> Iterator[SmtpSink]:
    """The outbound relay the UI's sent mail goes through."""
    with SmtpSink() as sink:
        yield sink


def relay_config(relay: SmtpSink) -> str:
    return json.dumps(
        {domain: {"host": relay.host, "port": relay.port} for domain in ("test.example", "example.org")}
    )


@pytest.fixture(scope="module")
def ui_server(make_server: ServerFactory, relay: SmtpSink) -> Server:
    """Every feature the UI has a page for switched on, sending through `relay`."""
    return make_server(
        SMTP_CONFIG=relay_config(relay),
        DEFAULT_SEND_BALANCE="5",
        ENABLE_AUTO_REPLY="true",
        ENABLE_WEBHOOK="true",
    )


class Recorder(BaseHTTPRequestHandler):
    """Answers every GET with a 1x1 PNG and records its path: a stand-in for a tracking pixel."""

    PIXEL = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )

    def do_GET(self) -> None:
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.PIXEL)))
        self.end_headers()
        self.wfile.write(self.PIXEL)

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class RemoteHost:
    """A tiny HTTP server on loopback that remembers every path it was asked for."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        self.server.paths = []  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def paths(self) -> list[str]:
        return list(self.server.paths)  # type: ignore[attr-defined]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def remote_host() -> Iterator[RemoteHost]:
    host = RemoteHost()
    yield host
    host.close()


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def html_mail(
    to: str, subject: str, html: str, text: str = "", sender: str = "Bob Sender <bob@remote.example>"
) -> bytes:
    """A multipart/alternative mail with a Message-ID, as SMTP bytes."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@remote.example>"
    message.set_content(text or "This mail is best read as HTML.")
    message.add_alternative(html, subtype="html")
    return message.as_bytes(policy=SMTP)


def create_address(page: Page, server: Server, name: str) -> str:
    """Create an address from the inbox page; returns it as the page shows it."""
    page.goto(server.base_url + "/")
    form = page.get_by_test_id("create-address")
    form.locator("input[name=name]").fill(name)
    form.locator("select[name=domain]").select_option("test.example")
    form.get_by_role("button", name="Create address").click()
    shown = page.locator(".addressbar [data-current-address]")
    expected = f"{name}@test.example"
    shown.filter(has_text=expected).wait_for()
    return expected
