"""The `tempmail` command as an operator runs it: real processes, real signals."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support import free_port


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tempmail", *args],
        cwd=cwd,
        env=_env(env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """No tempmail setting from the developer's environment: a newcomer's empty configuration."""
    keep = {
        k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME", "LANG", "PYTHONPATH")
    }
    return {**keep, **(extra or {})}


class Serving:
    """`tempmail serve` in a folder, on free ports; `banner` is what it printed once up. It
    runs the default number of workers (one per core) unless `args` say otherwise."""

    def __init__(self, cwd: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.http_port, self.smtp_port = free_port(), free_port()
        self.log = cwd / f"serve-{self.http_port}.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tempmail",
                    "serve",
                    "--http",
                    f"127.0.0.1:{self.http_port}",
                    "--smtp",
                    f"127.0.0.1:{self.smtp_port}",
                    *args,
                ],
                cwd=cwd,
                env=_env(env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.base = f"http://127.0.0.1:{self.http_port}"
        self._wait_until_up()
        # The banner is printed before the HTTP server starts, so it is complete by now.
        self.banner = self.log.read_text()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                httpx.get(f"{self.base}/open_api/settings", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise AssertionError(f"not up in time:\n{self.log.read_text()}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(30)


def test_no_configuration_starts_usefully(tmp_path: Path) -> None:
    first = Serving(tmp_path)
    try:
        password = re.search(r"Admin password: (\S+)", first.banner)
        assert password, first.banner
        assert f"Or open {first.base}/ in a browser, and Log in as admin with it." in first.banner
        assert httpx.get(f"{first.base}/health_check").text == "OK"
        headers = {"x-admin-auth": password.group(1)}
        assert httpx.get(f"{first.base}/admin/statistics", headers=headers).status_code == 200
        created = httpx.post(
            f"{first.base}/admin/new_address", headers=headers, json={"name": "keeper", "domain": "localhost"}
        ).json()
    finally:
        assert first.stop() == 0
    assert (tmp_path / "tempmail.db").exists()

    second = Serving(tmp_path)
    try:
        assert f"Admin password: {password.group(1)}" in second.banner, "the password is kept"
        mails = httpx.get(
            f"{second.base}/api/mails?limit=1&offset=0", headers={"Authorization": f"Bearer {created['jwt']}"}
        )
        assert mails.status_code == 200, "the JWT secret is kept in the database"
    finally:
        assert second.stop(signal.SIGINT) == 0


def test_bad_setting_stops_start_up(tmp_path: Path) -> None:
    result = _run("serve", cwd=tmp_path, env={"MAX_MESSAGE_SIZE": "abc"})
    assert result.returncode == 2
    assert "MAX_MESSAGE_SIZE" in result.stderr


def test_config_file(tmp_path: Path) -> None:
    (tmp_path / "t.toml").write_text('DOMAINS = ["file.example"]\nADMIN_PASSWORDS = ["from-file"]\n')
    serving = Serving(tmp_path, "--config", "t.toml")
    try:
        settings = httpx.get(f"{serving.base}/open_api/settings").json()
        assert settings["domains"] == ["file.example"]
        assert (
            httpx.get(f"{serving.base}/admin/statistics", headers={"x-admin-auth": "from-file"}).status_code
            == 200
        )
    finally:
        assert serving.stop() == 0


def test_db_upgrade(tmp_path: Path) -> None:
    result = _run("db", "upgrade", cwd=tmp_path, env={"DATABASE_URL": f"sqlite:///{tmp_path}/fresh.db"})
    assert result.returncode == 0, result.stderr
    assert re.search(r"database at revision \w+", result.stdout)


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run(
            "serve", "--smtp", f"127.0.0.1:{port}", "--http", f"127.0.0.1:{free_port()}", cwd=tmp_path
        )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("workers", [["--workers", "1"], []], ids=["one-process", "default-workers"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signals_stop_cleanly(tmp_path: Path, sig: int, workers: list[str]) -> None:
    serving = Serving(tmp_path, *workers, env={"ADMIN_PASSWORDS": "x"})
    assert serving.stop(sig) == 0
    assert "Traceback" not in serving.log.read_text()
