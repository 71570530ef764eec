"""Fixtures: real servers, on SQLite and on PostgreSQL, shared per configuration profile.

Every test that takes `server` runs twice, once per backend (deselect the PostgreSQL copies
with `-m "not postgresql"`, the browser tests with `-m "not browser"`). Servers are started once per
(backend, settings) for the whole session and stopped at its end; tests use unique names so
they do not see each other's data.
"""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def _servers() -> Iterator[dict[tuple[str, frozenset[tuple[str, str]]], Server]]:
    cache: dict[tuple[str, frozenset[tuple[str, str]]], Server] = {}
    yield cache
    for server in cache.values():
        server.close()


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
def make_server(
    backend: str, _servers: dict[tuple[str, frozenset[tuple[str, str]]], Server]
) -> ServerFactory:
    """`make_server(KEY="value", ...)`: a running server with the base test settings plus these."""

    def factory(**env: str) -> Server:
        key = (backend, frozenset(env.items()))
        if key not in _servers:
            _servers[key] = Server(backend, env).start()
        return _servers[key]

    return factory


@pytest.fixture(scope="session")
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
