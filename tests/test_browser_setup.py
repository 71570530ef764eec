"""The browser tests are never skipped quietly: on a machine without Chromium, or without the
playwright package, each of them fails with the one line that fixes it, and `-m "not browser"`
leaves them out on purpose (deselected, counted as such).

Each case runs pytest on one browser test module in a subprocess, with Chromium pointed nowhere
(TEMPMAIL_TEST_CHROMIUM) or playwright shadowed by a package that cannot be imported.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULE = "tests/web/browser/test_first_run.py"
TESTS_IN_MODULE = 3
DESELECT = " (or deselect the browser tests with -m 'not browser')"
NO_CHROMIUM = "/nowhere/chromium is missing: apt-get install chromium" + DESELECT
NO_PLAYWRIGHT = "playwright is missing: pip install -e '.[test]'" + DESELECT


def run_pytest(*args: str, **env: str) -> tuple[int, str]:
    completed = subprocess.run(
        # -rN: no short summary, which repeats each reason untruncated where CI is set.
        [sys.executable, "-m", "pytest", "-q", "-rN", "-p", "no:cacheprovider", MODULE, *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return completed.returncode, completed.stdout + completed.stderr


@pytest.fixture
def no_playwright(tmp_path: Path) -> str:
    """A PYTHONPATH on which `import playwright` fails, as where it is not installed."""
    package = tmp_path / "playwright"
    package.mkdir()
    (package / "__init__.py").write_text("raise ImportError(\"No module named 'playwright'\")\n")
    return os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])


def summary_counts(output: str) -> dict[str, int]:
    last = output.strip().splitlines()[-1]
    return {word: int(count) for count, word in re.findall(r"(\d+) (\w+)", last)}


def test_without_chromium_every_browser_test_fails_with_the_install_line() -> None:
    code, output = run_pytest(TEMPMAIL_TEST_CHROMIUM="/nowhere/chromium")
    assert code == 1, output
    assert output.count(NO_CHROMIUM) == TESTS_IN_MODULE, output
    counts = summary_counts(output)
    assert counts.get("errors", 0) + counts.get("failed", 0) == TESTS_IN_MODULE, output
    assert "skipped" not in output and "passed" not in output, output


def test_without_playwright_every_browser_test_fails_with_the_install_line(no_playwright: str) -> None:
    code, output = run_pytest(PYTHONPATH=no_playwright)
    assert code == 1, output
    assert output.count(NO_PLAYWRIGHT) == TESTS_IN_MODULE, output
    assert summary_counts(output).get("failed") == TESTS_IN_MODULE, output
    assert "skipped" not in output and "passed" not in output, output


@pytest.mark.parametrize("missing", ["chromium", "playwright"])
def test_not_browser_deselects_them_on_purpose(missing: str, no_playwright: str) -> None:
    env = (
        {"TEMPMAIL_TEST_CHROMIUM": "/nowhere/chromium"}
        if missing == "chromium"
        else {"PYTHONPATH": no_playwright}
    )
    code, output = run_pytest("-m", "not browser", **env)
    # pytest's exit code when every test was deselected: nothing ran, nothing failed.
    assert code == 5, output
    assert summary_counts(output).get("deselected", 0) >= TESTS_IN_MODULE, output
    assert "skipped" not in output and "error" not in output.lower(), output
