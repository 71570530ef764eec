"""Fixtures: real servers, on SQLite and on PostgreSQL, shared per configuration profile.

Every test that takes `server` runs twice, once per backend (deselect the PostgreSQL copies
with `-m "not postgresql"`, the browser tests with `-m "not browser"`). Servers are started once per
(backend, settings) for the whole session and stopped at its end; tests use unique names so
they do not see each other's data.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from tests.support import PG_START, Server, pg_available, self_signed_certificate

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
BROWSER_TESTS = Path(__file__).parent / "web" / "browser"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the browser tests, and deselect (never skip) the backend copies a test does not
    run on: `@pytest.mark.backends("postgresql")`, and SQLite only for the browser tests. A
    run then has no skips; what it leaves out on purpose is counted as deselected."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        allowed: tuple[str, ...] = ()
        if BROWSER_TESTS in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)
            allowed = ("sqlite",)
        marker = item.get_closest_marker("backends")
        if marker is not None:
            allowed = tuple(marker.args)
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec is not None else None
        (dropped if allowed and backend is not None and backend not in allowed else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


ServerKey = tuple[str, frozenset[tuple[str, str]]]
# Shared servers kept running at once. Each holds PostgreSQL connections (and a process); the
# suite asks for far more settings sets than PostgreSQL's default 100 connections would carry.
MAX_SHARED_SERVERS = 10


class SharedServers:
    """Servers shared per (backend, settings), started on first use.

    Beyond MAX_SHARED_SERVERS, the longest-unused servers that no test of the running module
    has asked for are stopped; one asked for again later starts afresh on a new database (tests
    use unique names and set up their own state). A module's own servers are never stopped
    under it, so module-scoped fixtures may keep theirs.
    """

    def __init__(self) -> None:
        self.servers: OrderedDict[ServerKey, Server] = OrderedDict()
        self.asked_by: dict[ServerKey, str] = {}
        self.module = ""

    def get(self, backend: str, env: dict[str, str]) -> Server:
        key = (backend, frozenset(env.items()))
        if key not in self.servers:
            self._make_room()
            self.servers[key] = Server(backend, env).start()
        self.servers.move_to_end(key)
        self.asked_by[key] = self.module
        return self.servers[key]

    def _make_room(self) -> None:
        idle = [key for key in self.servers if self.asked_by[key] != self.module]
        while len(self.servers) >= MAX_SHARED_SERVERS and idle:
            key = idle.pop(0)
            self.servers.pop(key).close()
            del self.asked_by[key]

    def close(self) -> None:
        for server in self.servers.values():
            server.close()
        self.servers.clear()


SHARED = SharedServers()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before the test's fixtures: which module is running (see SharedServers)."""
    SHARED.module = item.nodeid.partition("::")[0]


@pytest.fixture(scope="session")
def _servers() -> Iterator[SharedServers]:
    yield SHARED
    SHARED.close()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name = str(request.param)
    if name == "postgresql":
        reason = pg_available()
        if reason is not None:
            pytest.fail(f"{reason}; start it ({PG_START}) or deselect these runs with -m 'not postgresql'")
    return name


ServerFactory = Callable[..., Server]


@pytest.fixture(scope="session")
def make_server(backend: str, _servers: SharedServers) -> ServerFactory:
    """`make_server(KEY="value", ...)`: a running server with the base test settings plus these."""

    def factory(**env: str) -> Server:
        return _servers.get(backend, env)

    return factory


@pytest.fixture
def server(make_server: ServerFactory) -> Server:
    """The server with the base test settings (see tests.support.BASE_ENV)."""
    return make_server()


@pytest.fixture
def fresh_server(backend: str) -> Iterator[Callable[[Mapping[str, str] | None], Server]]:
    """A private server for tests that stop it or need an empty database."""
    started: list[Server] = []

    def factory(env: Mapping[str, str] | None = None, base: bool = True) -> Server:
        server = Server(backend, env, base=base).start()
        started.append(server)
        return server

    yield factory
    for server in started:
        server.close()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A throw-away self-signed certificate and key (PEM paths) for STARTTLS tests."""
    return self_signed_certificate(tmp_path_factory.mktemp("tls"), "mx.test.example")
