"""The files of deploy/ (README, "Running several nodes"), checked without a server or Docker.

- docker-compose.yml: parsed with PyYAML (anchors and `<<` merges resolved as Compose resolves
  them): postgres with a named volume and a pg_isready health check, two tempmail nodes built
  from deploy/Dockerfile with the same DATABASE_URL (on that postgres), JWT_SECRET and
  ADMIN_PASSWORDS, waiting for postgres to be healthy, given longer than the server's drain
  to stop; haproxy mounting haproxy.cfg and publishing 8787 and 25 -> 2525. Each node's
  environment, its `${VAR:-default}` filled in, is read by tempmail's own settings.
- haproxy.cfg: `haproxy -c` (Debian's haproxy; the compose file runs 2.8), whose only allowed
  warnings are the compose host names that do not resolve here; then the facts: health
  checks (GET /health_check, smtpchk), 1 h timeouts on both sides of the HTTP path for event
  streams, no PROXY protocol, servers that are the compose services on their ports.
- tempmail.service: `systemd-analyze verify` on a copy whose ExecStart runs this venv's
  `tempmail` (verify refuses a binary that does not exist, and /opt/tempmail does not exist
  here). It exits 0 on unknown keys and bad values too, so any message it prints fails. Then
  configparser reads the keys that matter, and `tempmail serve` parses the ExecStart line.
- Dockerfile: read as text (no Docker daemon here): base image, `pip install .`, what it
  copies exists in the build context and is let through by Dockerfile.dockerignore, ports,
  listen addresses, command.

A missing tool fails the test with the line that installs it; nothing is skipped.
"""

from __future__ import annotations

import configparser
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tempmail.cli import STOP_GRACE_SECONDS, _parser
from tempmail.config import Settings, load_settings

try:
    import yaml
except ImportError:  # pragma: no cover - the test extra installs it
    yaml = None

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
NODES = ("tempmail1", "tempmail2")
SHARED_SETTINGS = ("DATABASE_URL", "JWT_SECRET", "ADMIN_PASSWORDS")
EVENT_STREAM_SECONDS = 3600
HAPROXY_CFG_IN_IMAGE = "/usr/local/etc/haproxy/haproxy.cfg"
UNIT_EXEC = "/opt/tempmail/.venv/bin/tempmail"


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found: apt-get install {package}", pytrace=False)
    return path


# docker-compose.yml --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    if yaml is None:
        pytest.fail("PyYAML not found: .venv/bin/pip install -e '.[test]'", pytrace=False)
    loaded = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment, written as a mapping or as a list of KEY=value."""
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


_VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def _interpolate(text: str) -> tuple[str, set[str]]:
    """`text` with Compose's `${NAME:-default}` filled in from the file alone, and the names of
    the `${NAME:?message}` variables it requires (filled with a placeholder)."""
    required: set[str] = set()

    def fill(match: re.Match[str]) -> str:
        name, kind, word = match.groups()
        if kind in (":-", "-"):
            return word
        required.add(name)
        return f"placeholder-{name.lower()}"

    return _VARIABLE.sub(fill, text), required


def _seconds(text: str, bare: str = "s") -> float:
    """A duration as Compose, haproxy and systemd write it (`70s`, `1h`, `1m30s`, `5000ms`); a
    bare number is in `bare` units (seconds for systemd, milliseconds for haproxy)."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|)", text.strip())
    assert parts and "".join(n + u for n, u in parts) == text.strip(), f"not a duration: {text!r}"
    return sum(float(number) * units[unit or bare] for number, unit in parts)


def test_compose_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", *NODES, "haproxy"}


def test_compose_postgres(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert postgres["image"].startswith("postgres:16")
    named = [v.split(":", 1)[0] for v in postgres["volumes"] if not v.startswith((".", "/"))]
    assert named, "the database must live in a named volume"
    assert set(named) <= set(compose.get("volumes") or {})
    test = postgres["healthcheck"]["test"]
    assert "pg_isready" in (test if isinstance(test, str) else " ".join(test))
    env = _environment(postgres)
    assert (env["POSTGRES_USER"], env["POSTGRES_DB"]) == ("tempmail", "tempmail")
    assert "ports" not in postgres, "only haproxy is published"


def test_compose_nodes_share_database_and_secrets(compose: dict[str, Any]) -> None:
    services = compose["services"]
    envs = [_environment(services[name]) for name in NODES]
    for key in SHARED_SETTINGS:
        assert envs[0][key] == envs[1][key], f"{key} differs between the nodes"
    url, _ = _interpolate(envs[0]["DATABASE_URL"])
    assert re.fullmatch(r"postgresql://tempmail:[^@/]+@postgres:5432/tempmail", url), url
    password, _ = _interpolate(_environment(services["postgres"])["POSTGRES_PASSWORD"])
    assert url == f"postgresql://tempmail:{password}@postgres:5432/tempmail"
    # The secrets come from the operator's environment, never from a default in this file.
    for key in ("JWT_SECRET", "ADMIN_PASSWORDS"):
        assert _interpolate(envs[0][key])[1] == {key}, f"{key} must be ${{{key}:?...}}"


def test_compose_nodes(compose: dict[str, Any]) -> None:
    for name in NODES:
        node = compose["services"][name]
        build = node["build"]
        assert (DEPLOY / build["context"]).resolve() == ROOT
        assert (ROOT / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
        assert node["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert _seconds(node["stop_grace_period"]) > STOP_GRACE_SECONDS
        assert node.get("stop_signal", "SIGTERM") == "SIGTERM"
        assert "ports" not in node, "only haproxy is published"


def test_compose_node_environment_is_valid_settings(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)
    for key, value in _environment(compose["services"]["tempmail1"]).items():
        monkeypatch.setenv(key, _interpolate(value)[0])
    settings = load_settings()
    assert settings.http_host_port == ("0.0.0.0", 8787)
    assert settings.smtp_host_port == ("0.0.0.0", 2525)
    # All SMTP arrives from haproxy's one address.
    assert settings.SMTP_MAX_CONNECTIONS_PER_IP >= settings.SMTP_MAX_CONNECTIONS
    # X-Forwarded-For is believed from the compose network, where haproxy is.
    subnets = [
        _interpolate(entry["subnet"])[0]
        for network in compose["networks"].values()
        for entry in network["ipam"]["config"]
    ]
    trusted = settings.TRUSTED_PROXIES
    assert trusted == subnets


def test_compose_haproxy(compose: dict[str, Any]) -> None:
    haproxy = compose["services"]["haproxy"]
    assert haproxy["image"].startswith("haproxy:2.8")
    mounts = {
        target: (DEPLOY / source).resolve()
        for source, target, *_ in (volume.split(":") for volume in haproxy["volumes"])
    }
    assert mounts[HAPROXY_CFG_IN_IMAGE] == DEPLOY / "haproxy.cfg"
    assert {str(port) for port in haproxy["ports"]} == {"8787:8787", "25:2525"}


# haproxy.cfg ---------------------------------------------------------------------------------


def _haproxy_sections() -> dict[str, list[list[str]]]:
    """Section header ("frontend http_in") -> its lines as words, comments dropped."""
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    for raw in (DEPLOY / "haproxy.cfg").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line[0].isspace():
            current = sections.setdefault(" ".join(line.split()), [])
        else:
            current.append(line.split())
    return sections


def _timeout(lines: list[list[str]], which: str) -> float:
    values = [words[2] for words in lines if words[:2] == ["timeout", which]]
    assert values, f"no timeout {which}"
    return _seconds(values[-1], bare="ms")


def _servers(lines: list[list[str]]) -> set[tuple[str, str]]:
    return {(words[1], words[2]) for words in lines if words[0] == "server"}


def test_haproxy_config_is_valid() -> None:
    haproxy = _tool("haproxy", "haproxy")
    result = subprocess.run(
        [haproxy, "-c", "-f", str(DEPLOY / "haproxy.cfg")], capture_output=True, text=True, timeout=60
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # The compose service names do not resolve outside compose: `init-addr ... none` lets
    # haproxy start without them. Any other warning or alert is a fault of the file.
    unexpected = [
        line
        for line in output.splitlines()
        if ("[WARNING]" in line or "[ALERT]" in line)
        and not re.search(r"could not resolve address 'tempmail[12]'", line)
    ]
    assert not unexpected, "\n".join(unexpected)


def test_haproxy_http_path() -> None:
    sections = _haproxy_sections()
    frontend = next(
        lines
        for name, lines in sections.items()
        if name.startswith("frontend") and ["bind", ":8787"] in lines
    )
    backend_name = next(words[1] for words in frontend if words[0] == "default_backend")
    backend = sections[f"backend {backend_name}"]
    assert any(words[:2] == ["option", "httpchk"] for words in backend)
    checks = [" ".join(words) for words in backend if words[0] in ("option", "http-check")]
    assert any("/health_check" in line for line in checks), checks
    # Event streams stay open for an hour, on both sides of haproxy.
    assert _timeout(backend, "server") >= EVENT_STREAM_SECONDS
    assert _timeout(frontend, "client") >= EVENT_STREAM_SECONDS
    assert _servers(backend) == {(node, f"{node}:8787") for node in NODES}


def test_haproxy_smtp_path() -> None:
    sections = _haproxy_sections()
    frontend = next(
        lines
        for name, lines in sections.items()
        if name.startswith("frontend") and ["bind", ":2525"] in lines
    )
    assert ["mode", "tcp"] in frontend
    backend_name = next(words[1] for words in frontend if words[0] == "default_backend")
    backend = sections[f"backend {backend_name}"]
    assert ["mode", "tcp"] in backend
    assert any(words[:2] == ["option", "smtpchk"] for words in backend)
    assert _servers(backend) == {(node, f"{node}:2525") for node in NODES}


def test_haproxy_servers_start_without_dns_and_speak_no_proxy_protocol() -> None:
    words = [word for lines in _haproxy_sections().values() for line in lines for word in line]
    assert not [word for word in words if word.startswith("send-proxy")]
    default_server = next(
        line for lines in _haproxy_sections().values() for line in lines if line[0] == "default-server"
    )
    assert "init-addr" in default_server, "servers must start without DNS (init-addr ... none)"
    init_addr = default_server[default_server.index("init-addr") + 1].split(",")
    assert "none" in init_addr


# tempmail.service ----------------------------------------------------------------------------


def _unit() -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "tempmail.service", encoding="utf-8")
    return unit


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = _tool("systemd-analyze", "systemd")
    tempmail = Path(sys.executable).with_name("tempmail")
    assert tempmail.is_file(), f"{tempmail} missing: .venv/bin/pip install -e '.[test]'"
    text = (DEPLOY / "tempmail.service").read_text(encoding="utf-8")
    assert f"ExecStart={UNIT_EXEC} " in text
    copy = tmp_path / "tempmail.service"
    copy.write_text(text.replace(f"ExecStart={UNIT_EXEC} ", f"ExecStart={tempmail} "), encoding="utf-8")
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(copy)], capture_output=True, text=True, timeout=60
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0 and not output, output


def test_systemd_unit_settings() -> None:
    service = _unit()["Service"]
    assert service["Type"] == "simple"
    assert service["User"] == "tempmail"
    assert service["EnvironmentFile"] == "-/etc/tempmail/env"
    assert service["Restart"] == "on-failure"
    assert service["KillSignal"] == "SIGTERM"
    assert _seconds(service["TimeoutStopSec"]) > STOP_GRACE_SECONDS
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert "/var/lib/tempmail" in service["ReadWritePaths"].split()
    assert service["PrivateTmp"] == "yes"
    assert "CAP_NET_BIND_SERVICE" in service["AmbientCapabilities"].split()
    assert "CAP_NET_BIND_SERVICE" in service.get("CapabilityBoundingSet", "CAP_NET_BIND_SERVICE").split()
    command = shlex.split(service["ExecStart"])
    assert command[:2] == [UNIT_EXEC, "serve"]
    args = _parser().parse_args(command[1:])
    assert args.config == Path("/etc/tempmail/tempmail.toml")
    assert _unit()["Install"]["WantedBy"] == "multi-user.target"


# Dockerfile ----------------------------------------------------------------------------------


def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).strip().partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    return instructions


def test_dockerfile() -> None:
    instructions = _dockerfile()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    assert any(kind == "RUN" and re.search(r"\bpip install \.(\s|$)", args) for kind, args in instructions)
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    for kind, args in instructions:
        if kind == "COPY":
            *sources, _ = args.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the build context"
                assert f"!{source.rstrip('/')}" in ignore, f"{source} is left out by the .dockerignore"
    exposed = {port for kind, args in instructions if kind == "EXPOSE" for port in args.split()}
    assert {"8787", "2525"} <= exposed
    env = dict(
        item.split("=", 1) for kind, args in instructions if kind == "ENV" for item in shlex.split(args)
    )
    assert env["HTTP_LISTEN"] == "0.0.0.0:8787"
    assert env["SMTP_LISTEN"] == "0.0.0.0:2525"
    assert [json.loads(args) for kind, args in instructions if kind == "CMD"] == [["tempmail", "serve"]]
    assert any(kind == "USER" and args != "root" for kind, args in instructions), "runs as root"
