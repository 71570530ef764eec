"""`tempmail serve --workers N`: real processes sharing the two ports, on both backends.

Which worker answered an HTTP request shows in its `x-tempmail-worker` header; a request on a
new connection may meet either, so reaching a given worker means retrying new connections
until it answers. SMTP connections are spread the same way.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tempmail.db.kv import CACHE_SECONDS
from tests.support import ADMIN_PASSWORD, BASE_ENV, Server

WORKER_HEADER = "x-tempmail-worker"
STARTED = re.compile(r"^worker (\d+) of (\d+) started \(pid (\d+), jobs: (yes|no)\)$", re.MULTILINE)
# New connections tried before giving up on reaching a worker: each lands on one of the two
# about evenly, so this many misses in a row do not happen by chance.
ATTEMPTS = 200


def _start(backend: str, env: dict[str, str] | None = None, base: bool = True) -> Server:
    """Two workers, once both have said they are up (the first answer may come before)."""
    server = Server(backend, env, base=base, workers=2).start()
    deadline = time.monotonic() + 30
    while len(STARTED.findall(server.output())) < 2:
        assert time.monotonic() < deadline, server.output()
        assert server.proc is not None and server.proc.poll() is None, server.output()
        time.sleep(0.05)
    return server


def _workers(server: Server) -> dict[int, tuple[int, str]]:
    """Worker index -> (pid, whether it runs the jobs), from their start-up lines."""
    return {int(index): (int(pid), jobs) for index, _, pid, jobs in STARTED.findall(server.output())}


@pytest.fixture(scope="module")
def two_workers(backend: str) -> Iterator[Server]:
    server = _start(backend)
    yield server
    server.close()


def on_worker(server: Server, worker: int, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """The answer of `worker` to the request, sent on new connections until that worker takes
    one: only for requests that may be repeated (reads, and writes of a whole value)."""
    headers = {"x-admin-auth": ADMIN_PASSWORD, **kwargs.pop("headers", {})}
    for _ in range(ATTEMPTS):
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            response = client.request(method, path, headers=headers, **kwargs)
        if response.headers[WORKER_HEADER] == str(worker):
            return response
    raise AssertionError(f"worker {worker} never answered {method} {path}")


def _alive(pid: int) -> bool:
    """Running: not gone, and not a zombie waiting for a parent (an orphan's new parent may
    never reap it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _wait_gone(pids: list[int], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in pids):
        assert time.monotonic() < deadline, f"still running: {[pid for pid in pids if _alive(pid)]}"
        time.sleep(0.05)


def test_mail_over_the_shared_port_is_read_through_both_workers(two_workers: Server) -> None:
    server = two_workers
    address = server.new_address()
    tag = uuid.uuid4().hex[:8]
    subjects = sorted(f"shared port {tag} {n}" for n in range(12))

    def send(subject: str) -> None:
        server.send(address["address"], f"Subject: {subject}\r\n\r\nhello {subject}")

    # Several connections at once, each a new one, so both workers take some.
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(send, subjects))

    seen: dict[str, list[str]] = {}
    for _ in range(ATTEMPTS):
        response = httpx.get(
            f"{server.base_url}/api/mails?limit=50&offset=0",
            headers={"Authorization": f"Bearer {address['jwt']}"},
        )
        assert response.status_code == 200, response.text
        raws = [mail["raw"] for mail in response.json()["results"]]
        seen[response.headers[WORKER_HEADER]] = sorted(
            match.group(1) for raw in raws if (match := re.search(r"Subject: (.*?)\r?\n", raw))
        )
        if len(seen) == 2:
            break
    assert set(seen) == {"0", "1"}, "both workers answered"
    assert seen["0"] == seen["1"] == subjects, "each sees every mail, whichever worker took it"


def test_the_jobs_run_in_exactly_one_worker(two_workers: Server) -> None:
    workers = _workers(two_workers)
    assert sorted(workers) == [0, 1]
    assert [index for index, (_, jobs) in workers.items() if jobs == "yes"] == [0]
    pids = [pid for pid, _ in workers.values()]
    assert two_workers.proc is not None
    assert len(set(pids)) == 2 and two_workers.proc.pid not in pids, "two processes of their own"
    banners = re.findall(r"^tempmail \S+: HTTP on .*$", two_workers.output(), re.MULTILINE)
    assert len(banners) == 1 and banners[0].endswith(", 2 workers"), "one banner, by the supervisor"


@pytest.mark.parametrize(("writer", "reader"), [(0, 1), (1, 0)])
def test_a_setting_written_through_one_worker_is_read_at_once_through_the_other(
    two_workers: Server, writer: int, reader: int
) -> None:
    """The reader's caches hold the old values when the write happens; the change generation the
    workers share makes it read the new ones at once rather than for up to CACHE_SECONDS."""
    server = two_workers
    blocked = f"blocked-{uuid.uuid4().hex[:8]}"
    limit = 10 + int(uuid.uuid4().int % 1000)
    account = {"blockList": [blocked], "sendBlockList": [], "verifiedAddressList": []}
    user_rules = on_worker(server, writer, "GET", "/admin/user_settings").json()

    primed = time.monotonic()
    assert blocked not in on_worker(server, reader, "GET", "/admin/account_settings").json()["blockList"]
    assert on_worker(server, reader, "GET", "/admin/user_settings").json()["maxAddressCount"] != limit
    saved = on_worker(server, writer, "POST", "/admin/account_settings", json=account)
    assert saved.status_code == 200, saved.text
    saved = on_worker(
        server, writer, "POST", "/admin/user_settings", json={**user_rules, "maxAddressCount": limit}
    )
    assert saved.status_code == 200, saved.text

    assert on_worker(server, reader, "GET", "/admin/account_settings").json()["blockList"] == [blocked]
    assert on_worker(server, reader, "GET", "/admin/user_settings").json()["maxAddressCount"] == limit
    assert time.monotonic() - primed < CACHE_SECONDS - 1, "read back before the caches' lifetime ran out"


def test_generated_secrets_are_settled_once_for_every_worker(backend: str) -> None:
    env = {key: value for key, value in BASE_ENV.items() if key not in ("ADMIN_PASSWORDS", "JWT_SECRET")}
    server = _start(backend, env, base=False)
    try:
        output = server.output()
        passwords = re.findall(r"Admin password: (\S+)", output)
        assert len(passwords) == 1, output
        headers = {"x-admin-auth": passwords[0]}
        created = httpx.post(
            f"{server.base_url}/admin/new_address", headers=headers, json={"name": f"w{uuid.uuid4().hex[:8]}"}
        )
        assert created.status_code == 200, created.text
        maker = int(created.headers[WORKER_HEADER])
        jwt = created.json()["jwt"]
        # Made by one worker, accepted by the other: one JWT secret.
        mails = on_worker(
            server,
            1 - maker,
            "GET",
            "/api/mails?limit=1&offset=0",
            headers={"Authorization": f"Bearer {jwt}"},
        )
        assert mails.status_code == 200, mails.text
        for worker in (0, 1):
            assert on_worker(server, worker, "GET", "/admin/statistics", headers=headers).status_code == 200
    finally:
        server.close()


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "Ctrl-C"])
def test_stop_signals_stop_every_worker(backend: str, how: str) -> None:
    """SIGINT or SIGTERM to the supervisor, or a terminal's Ctrl-C: SIGINT to every process of
    the group at once, the junk-check processes of the workers too."""
    server = Server(backend, {"ENABLE_CHECK_JUNK_MAIL": "true"}, workers=2, process_group=how == "Ctrl-C")
    server.start()
    try:
        deadline = time.monotonic() + 30
        while len(_workers(server)) < 2:
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.05)
        pids = [pid for pid, _ in _workers(server).values()]
        assert server.proc is not None
        if how == "Ctrl-C":
            os.killpg(server.proc.pid, signal.SIGINT)
        else:
            server.proc.send_signal(getattr(signal, how))
        assert server.proc.wait(60) == 0, server.output()
        _wait_gone(pids)
        assert "Traceback" not in server.output(), server.output()
    finally:
        server.close()


def test_a_worker_that_dies_stops_the_server(backend: str) -> None:
    """Fail fast: no server short of a worker (here the one running the jobs); the service
    manager restarts the whole of it."""
    server = _start(backend)
    try:
        workers = _workers(server)
        (killed, _), (other, _) = workers[0], workers[1]
        os.kill(killed, signal.SIGKILL)
        assert server.proc is not None
        assert server.proc.wait(60) != 0
        _wait_gone([other])
        assert re.search(rf"worker 0 \(pid {killed}\) was killed by SIGKILL", server.output()), (
            server.output()
        )
    finally:
        server.close()


def test_workers_stop_when_the_supervisor_is_killed(backend: str) -> None:
    """Killed without a chance to stop them, the supervisor leaves no worker holding the ports."""
    server = _start(backend)
    try:
        pids = [pid for pid, _ in _workers(server).values()]
        assert server.proc is not None
        server.proc.kill()
        server.proc.wait(30)
        _wait_gone(pids)
        assert "the supervisor" in server.output() and "is gone; stopping" in server.output()
    finally:
        server.close()


@pytest.mark.parametrize(("args", "env"), [(["--workers", "-1"], {}), ([], {"WORKERS": "-3"})])
def test_a_negative_worker_count_stops_start_up(tmp_path: Path, args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tempmail", "serve", *args],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "WORKERS" in result.stderr and "Traceback" not in result.stderr
