"""docs/ holds the API and configuration references, rendered by `python -m tempmail.docs` from
what the server itself uses; they must be fresh, and the README must link only to what a clone
has."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.support import Server

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def test_the_references_in_docs_are_fresh() -> None:
    checked = subprocess.run(
        [sys.executable, "-m", "tempmail.docs", "--check", "docs"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, (
        f"{checked.stderr}(run `.venv/bin/python -m tempmail.docs` and commit docs/)"
    )


def test_the_check_names_a_stale_file_and_the_command(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "tempmail.docs", str(tmp_path)], cwd=ROOT, check=True, timeout=120)
    (tmp_path / "configuration.md").write_text("old\n")
    checked = subprocess.run(
        [sys.executable, "-m", "tempmail.docs", "--check", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 1
    assert f"stale: {tmp_path / 'configuration.md'}; refresh with `python -m tempmail.docs`" in checked.stderr


def test_docs_openapi_is_what_a_default_server_serves(fresh_server: Callable[..., Server]) -> None:
    server = fresh_server(None, base=False)
    served = server.client.get("/openapi.json").json()
    assert served == json.loads((ROOT / "docs" / "openapi.json").read_text())


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower-case, punctuation but `-` and `_` dropped, spaces as `-`."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def readme_links() -> list[str]:
    text = README.read_text()
    # Fenced code is not prose: its brackets are no links.
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    return re.findall(r"\]\(([^)\s]+)\)", prose) + re.findall(r'<img src="([^"]+)"', prose)


def test_every_readme_link_resolves_inside_the_repository() -> None:
    anchors = {_slug(line.lstrip("#")) for line in README.read_text().splitlines() if line.startswith("#")}
    links = readme_links()
    assert links
    broken = []
    for link in links:
        if re.match(r"https?://", link):
            continue
        path, _, anchor = link.partition("#")
        if not path:
            if anchor not in anchors:
                broken.append(link)
            continue
        target = (ROOT / path).resolve()
        if not target.is_relative_to(ROOT) or not target.exists():
            broken.append(link)
    assert broken == []
