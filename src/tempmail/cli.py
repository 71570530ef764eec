"""The `tempmail` command: `serve` runs everything in one process; `db upgrade` migrates."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import uvicorn

from tempmail import __version__
from tempmail.app import create_app
from tempmail.config import ConfigError, Settings, load_settings
from tempmail.db.engine import Database
from tempmail.inbound.smtp import InboundServer
from tempmail.jobs import Scheduler, server_jobs
from tempmail.services import Services

MAIL_STORED_DRAIN_SECONDS = 10.0
log = logging.getLogger("tempmail")


class _EmbeddedServer(uvicorn.Server):
    """uvicorn on our loop; signals are ours, so that SMTP drains before the process exits."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _banner(services: Services, http_port: int, smtp_port: int) -> None:
    cfg = services.settings
    print(
        f"tempmail {__version__}: HTTP on {cfg.http_host_port[0]}:{http_port}, "
        f"SMTP on {cfg.smtp_host_port[0]}:{smtp_port}, domains {', '.join(cfg.DOMAINS)}",
        flush=True,
    )
    if services.generated_admin_password:
        print(
            "No ADMIN_PASSWORDS configured: an admin password was generated and kept in the database.\n"
            f"  Admin password: {services.generated_admin_password}\n"
            f"  Try: curl -H 'x-admin-auth: {services.generated_admin_password}' "
            f"'http://127.0.0.1:{http_port}/admin/address?limit=20&offset=0'",
            flush=True,
        )


async def serve(settings: Settings) -> None:
    """SMTP listener + HTTP app + jobs on one loop until SIGINT/SIGTERM; then drain and close.

    Clean-up runs in reverse order of start: jobs stop, SMTP finishes its in-flight
    transactions, and only then is the database closed.
    """
    async with contextlib.AsyncExitStack() as running:
        services = await Services.start(settings)
        running.push_async_callback(services.close)
        # Runs after SMTP has drained (exit callbacks run last-in first-out), before the DB closes.
        running.push_async_callback(services.mail_stored.drain, MAIL_STORED_DRAIN_SECONDS)
        smtp = InboundServer(settings, services.pipeline)
        http_host, http_port = settings.http_host_port
        config = uvicorn.Config(
            create_app(services),
            host=http_host,
            port=http_port,
            log_level=settings.LOG_LEVEL.lower(),
            loop="none",
            lifespan="off",
            proxy_headers=False,
            access_log=settings.LOG_LEVEL.lower() == "debug",
        )
        server = _EmbeddedServer(config)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
        smtp_port = await smtp.start(*settings.smtp_host_port)
        running.push_async_callback(smtp.stop)
        # Bind before serving, so a port in use fails here and the banner shows the real port.
        sock = config.bind_socket()
        _banner(services, sock.getsockname()[1], smtp_port)
        scheduler = Scheduler(server_jobs(services))
        scheduler.start()
        running.push_async_callback(scheduler.stop)
        await server.serve(sockets=[sock])
    log.info("stopped")


async def _db_upgrade(settings: Settings) -> None:
    db = Database(settings.DATABASE_URL, settings.DATABASE_POOL_SIZE)
    try:
        await db.upgrade()
        current, _ = await db.version()
        print(f"database at revision {current}")
    finally:
        await db.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tempmail", description="Self-hosted disposable email.")
    parser.add_argument("--version", action="version", version=f"tempmail {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the SMTP listener, HTTP API and jobs")
    serve_cmd.add_argument("--http", metavar="HOST:PORT", help="HTTP listen address (HTTP_LISTEN)")
    serve_cmd.add_argument("--smtp", metavar="HOST:PORT", help="SMTP listen address (SMTP_LISTEN)")
    serve_cmd.add_argument("--config", type=Path, metavar="FILE", help="TOML file of settings")
    db_cmd = commands.add_parser("db", help="database maintenance")
    db_cmd.add_argument("action", choices=["upgrade"], help="apply pending migrations")
    db_cmd.add_argument("--config", type=Path, metavar="FILE", help="TOML file of settings")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    overrides = {}
    if getattr(args, "http", None):
        overrides["HTTP_LISTEN"] = args.http
    if getattr(args, "smtp", None):
        overrides["SMTP_LISTEN"] = args.smtp
    try:
        settings = load_settings(args.config, **overrides)
    except ConfigError as exc:
        print(f"tempmail: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.LOG_LEVEL.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    runner = _db_upgrade(settings) if args.command == "db" else serve(settings)
    try:
        import uvloop

        uvloop.run(runner)
    except OSError as exc:
        print(f"tempmail: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
