"""The README's examples run as they are written, against a server started as the README says:
the defaults (domain `localhost`) and `ADMIN_PASSWORDS=change-me`.

Every fenced `sh` block and every `python` block runs, in the README's order (the shell ones in
one bash script, the Python ones in one Python script, so that a variable set by one block
serves the next, as a reader would use them), but those preceded by `<!-- illustrative: why -->`.
The only change made to them is the server's address: the test server listens on free ports,
not on 8787 and 2525.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.support import Server

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(
    r"^(?P<marker>[ ]*<!-- illustrative: [^>]*-->\n)?[ ]*```(?P<lang>\w*)\n(?P<code>.*?)^[ ]*```$",
    re.M | re.S,
)


def blocks(lang: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    return [m["code"] for m in FENCE.finditer(text) if m["lang"] == lang and not m["marker"]]


def on_server(code: str, server: Server) -> str:
    return code.replace("http://127.0.0.1:8787", server.base_url).replace(
        '"127.0.0.1", 2525', f'"127.0.0.1", {server.smtp_port}'
    )


def run(command: list[str], script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"},
    )


def test_the_readme_has_runnable_examples() -> None:
    assert len(blocks("sh")) >= 5 and len(blocks("python")) >= 5


def test_the_readme_examples_run(fresh_server: Callable[..., Server]) -> None:
    server = fresh_server({"ADMIN_PASSWORDS": "change-me"}, base=False)

    shell = run(["bash", "-euo", "pipefail"], "\n".join(on_server(code, server) for code in blocks("sh")))
    assert shell.returncode == 0, shell.stdout + shell.stderr
    assert '"address":"alice@localhost"' in shell.stdout, shell.stdout

    python = run([sys.executable, "-"], "\n".join(on_server(code, server) for code in blocks("python")))
    assert python.returncode == 0, python.stdout + python.stderr

    # The mail the shell examples sent reached alice, and the admin sees it.
    mails = server.client.get(
        "/admin/mails?limit=20&offset=0&address=alice@localhost", headers={"x-admin-auth": "change-me"}
    )
    assert mails.json()["count"] == 1, mails.text
