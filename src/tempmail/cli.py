"""The `tempmail` command: `serve` runs the server; `db upgrade` migrates; `backup FILE` and
`restore FILE` copy the whole database (see `tempmail.maintenance.backup`).

`serve` with one worker runs everything in this process, on one loop. With several (`--workers`
or WORKERS; one per core by default) this process supervises them: it migrates the database and
settles the secrets once, binds the HTTP and SMTP ports once (so the banner shows the real
ports, and port 0 works), prints the banner, and forks the workers. Each inherits both
listening sockets, the kernel handing every new connection to one of the processes accepting
on it, and builds its own services; worker 0 alone runs the background jobs. SIGINT or SIGTERM
to the supervisor (a terminal's Ctrl-C signals every process of the group: the workers leave it
to the supervisor) stops every worker, each draining SMTP as a single process does. A worker
that dies unasked makes the supervisor stop the others and exit non-zero, so that the service
manager restarts the whole server rather than run it short of a worker (or of its jobs).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import uvicorn

from tempmail import __version__
from tempmail.app import create_app
from tempmail.config import ConfigError, Settings, load_settings
from tempmail.db.engine import Database
from tempmail.http.protocol import HttpProtocol
from tempmail.imap.server import ImapListeners
from tempmail.inbound.smtp import InboundServer
from tempmail.jobs import server_scheduler
from tempmail.maintenance import backup
from tempmail.services import Secrets, Services
from tempmail.submission.server import SubmissionServer
from tempmail.ttl_cache import SharedGeneration

MAIL_STORED_DRAIN_SECONDS = 10.0
# Which worker answered: a default header of uvicorn's, so it costs no request anything.
WORKER_HEADER = "x-tempmail-worker"
# How long the supervisor lets its workers drain once asked to stop (SMTP has 30 s, the work
# after stored mail 10 s) before it kills them.
STOP_GRACE_SECONDS = 60.0
_SUPERVISOR_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGCHLD}
log = logging.getLogger("tempmail")


@dataclass(frozen=True, slots=True)
class Worker:
    """What a forked worker is handed: its place, the listening sockets it inherits, and what
    the supervisor settled before forking."""

    index: int
    count: int
    http: socket.socket
    smtp: socket.socket
    secrets: Secrets
    generation: SharedGeneration
    supervisor: int
    # SMTP submission's sockets (STARTTLS, implicit TLS); None where it is off.
    submission: socket.socket | None = None
    submission_tls: socket.socket | None = None
    # IMAP's sockets (plain with STARTTLS, implicit TLS); None where it is off.
    imap: socket.socket | None = None
    imap_tls: socket.socket | None = None

    @property
    def runs_jobs(self) -> bool:
        return self.index == 0


class _EmbeddedServer(uvicorn.Server):
    """uvicorn on our loop; signals are ours, so that SMTP drains before the process exits.

    A worker also stops once its supervisor is gone (killed before it could stop them), rather
    than keep the ports with no one to stop it."""

    def __init__(
        self, config: uvicorn.Config, on_stop: Callable[[], None], supervisor: int | None = None
    ) -> None:
        super().__init__(config)
        self.on_stop = on_stop
        self.supervisor = supervisor

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Event streams stay open as long as their clients like: end them first, or uvicorn
        # would wait for them.
        self.on_stop()
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def on_tick(self, counter: int) -> bool:
        # Ticks come ten times a second; once a second is plenty.
        if self.supervisor is not None and counter % 10 == 0 and os.getppid() != self.supervisor:
            if not self.should_exit:
                log.warning("the supervisor (pid %d) is gone; stopping", self.supervisor)
            self.should_exit = True
        return await super().on_tick(counter)


def _banner(
    settings: Settings,
    generated_password: str | None,
    http_port: int,
    smtp_port: int,
    more: Sequence[tuple[str, str, int]] = (),
) -> None:
    """`more`: the other listeners, (name, host, bound port) each."""
    workers = f", {settings.worker_count} workers" if settings.worker_count > 1 else ""
    others = "".join(f", {name} on {host}:{port}" for name, host, port in more)
    print(
        f"tempmail {__version__}: HTTP on {settings.http_host_port[0]}:{http_port}, "
        f"SMTP on {settings.smtp_host_port[0]}:{smtp_port}{others}, "
        f"domains {', '.join(settings.DOMAINS)}{workers}",
        flush=True,
    )
    if generated_password:
        print(
            "No ADMIN_PASSWORDS configured: an admin password was generated and kept in the database.\n"
            f"  Admin password: {generated_password}\n"
            f"  Try: curl -H 'x-admin-auth: {generated_password}' "
            f"'http://127.0.0.1:{http_port}/admin/address?limit=20&offset=0'\n"
            f"  Or open http://127.0.0.1:{http_port}/ in a browser, and Log in as admin with it.",
            flush=True,
        )


async def serve(settings: Settings, worker: Worker | None = None) -> None:
    """SMTP listener + HTTP app + jobs on one loop until SIGINT/SIGTERM; then drain and close.

    Alone (no `worker`), it binds the ports and prints the banner itself. As a worker it accepts
    on the sockets its supervisor bound, stops on SIGTERM (which the supervisor sends), and runs
    the jobs only if it is worker 0. Clean-up runs in reverse order of start: jobs stop, SMTP
    finishes its in-flight transactions, and only then is the database closed.
    """
    async with contextlib.AsyncExitStack() as running:
        if worker is None:
            services = await Services.start(settings)
        else:
            services = await Services.start(settings, worker.secrets, worker.generation)
        running.push_async_callback(services.close)
        # Every worker delivers the outbox; stopped after the work queued after stored mail
        # (which delivers the rows of this worker's own mail) has drained.
        services.outbox.start()
        running.push_async_callback(services.outbox.stop, MAIL_STORED_DRAIN_SECONDS)
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
            http=HttpProtocol,
            lifespan="off",
            proxy_headers=False,
            access_log=settings.LOG_LEVEL.lower() == "debug",
            headers=[(WORKER_HEADER, str(0 if worker is None else worker.index))],
        )
        server = _EmbeddedServer(config, services.live.end_all, None if worker is None else worker.supervisor)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM) if worker is None else (signal.SIGTERM,):
            loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
        if worker is None:
            smtp_port = await smtp.start(*settings.smtp_host_port)
        else:
            await smtp.start(sock=worker.smtp)
        listeners: list[InboundServer] = [smtp]
        # Stopped together: each drains its sessions in parallel with the others.
        running.push_async_callback(_stop_listeners, listeners)
        others = await _start_submission(settings, services, worker, listeners)
        others += await _start_imap(settings, services, worker, running)
        if worker is None:
            # Bind before serving, so a port in use fails here and the banner shows the real port.
            sock = config.bind_socket()
            _banner(settings, services.generated_admin_password, sock.getsockname()[1], smtp_port, others)
        else:
            sock = worker.http
            print(
                f"worker {worker.index} of {worker.count} started "
                f"(pid {os.getpid()}, jobs: {'yes' if worker.runs_jobs else 'no'})",
                flush=True,
            )
        if worker is None or worker.runs_jobs:
            scheduler = server_scheduler(services)
            scheduler.start()
            running.push_async_callback(scheduler.stop)
        # What start-up made (modules, routes, tables, compiled statements) lives as long as the
        # process: moved out of the collector's reach, its full passes under load stop walking
        # it, which was the page's worst latency.
        gc.collect()
        gc.freeze()
        await server.serve(sockets=[sock])
    log.info("stopped")


async def _start_submission(
    settings: Settings, services: Services, worker: Worker | None, listeners: list[InboundServer]
) -> list[tuple[str, str, int]]:
    """SMTP submission's listeners (none when it is off), added to `listeners` as they start;
    returns (name, host, port) of each, for the banner."""
    started = []
    for implicit_tls, address in (
        (False, settings.submission_host_port),
        (True, settings.submission_tls_host_port),
    ):
        if address is None:
            continue
        server = SubmissionServer(settings, services, implicit_tls)
        if worker is None:
            port = await server.start(*address)
        else:
            inherited = worker.submission_tls if implicit_tls else worker.submission
            assert inherited is not None
            port = await server.start(sock=inherited)
        listeners.append(server)
        started.append((server.name, address[0], port))
    return started


async def _start_imap(
    settings: Settings, services: Services, worker: Worker | None, running: contextlib.AsyncExitStack
) -> list[tuple[str, str, int]]:
    """IMAP's listeners (none when it is off), stopped before the services close; returns
    (name, host, port) of each, for the banner."""
    plain, implicit = settings.imap_host_port, settings.imap_tls_host_port
    if plain is None and implicit is None:
        return []
    imap = ImapListeners(services)
    running.push_async_callback(imap.stop)
    if worker is None:
        ports = await imap.start(plain, implicit)
    else:
        ports = await imap.start(worker.imap, worker.imap_tls)
    names = [
        (name, where) for name, where in (("IMAP", plain), ("IMAP (TLS)", implicit)) if where is not None
    ]
    return [(name, where[0], port) for (name, where), port in zip(names, ports, strict=True)]


async def _stop_listeners(listeners: list[InboundServer]) -> None:
    await asyncio.gather(*(listener.stop() for listener in listeners))


def _listen(host: str, port: int, *, dual_stack: bool) -> socket.socket:
    """A listening socket for the workers to share, bound as one process binds its own: with
    SO_REUSEADDR, and on an IPv6 address taking IPv4 too as uvicorn's does (`dual_stack`) or
    IPv6 only as asyncio's (the SMTP listener's) does. A host name is bound on its first
    address only."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    dual = dual_stack and family == socket.AF_INET6 and socket.has_dualstack_ipv6()
    return socket.create_server((host, port), family=family, dualstack_ipv6=dual)


def _listen_if(bound: list[socket.socket], *addresses: tuple[str, int] | None) -> list[socket.socket | None]:
    """A listening socket for each address that is set (None for one that is not), each also
    added to `bound`, so that a failure after it closes it too."""
    sockets: list[socket.socket | None] = []
    for address in addresses:
        sock = None if address is None else _listen(*address, dual_stack=False)
        sockets.append(sock)
        if sock is not None:
            bound.append(sock)
    return sockets


def _supervise(settings: Settings, count: int) -> int:
    """Run `count` workers (see the module's docstring); return the server's exit code."""
    # On a loop of its own, closed before the first fork: nothing asynchronous (a connection, a
    # driver's or an executor's thread) may be copied half-alive into the workers.
    prepared = asyncio.run(Services.prepare(settings))
    http = _listen(*settings.http_host_port, dual_stack=True)
    bound = [http]
    try:
        smtp = _listen(*settings.smtp_host_port, dual_stack=False)
        bound.append(smtp)
        submission = _listen_if(bound, settings.submission_host_port, settings.submission_tls_host_port)
        imap = _listen_if(bound, settings.imap_host_port, settings.imap_tls_host_port)
    except BaseException:
        for sock in bound:
            sock.close()
        raise
    more = [
        (name, address[0], sock.getsockname()[1])
        for name, address, sock in (
            ("SMTP submission", settings.submission_host_port, submission[0]),
            ("SMTP submission (TLS)", settings.submission_tls_host_port, submission[1]),
            ("IMAP", settings.imap_host_port, imap[0]),
            ("IMAP (TLS)", settings.imap_tls_host_port, imap[1]),
        )
        if address is not None and sock is not None
    ]
    _banner(settings, prepared.generated_admin_password, http.getsockname()[1], smtp.getsockname()[1], more)
    generation = SharedGeneration(count)
    supervisor = os.getpid()
    # Blocked before the first fork, so that none is lost before `_wait` waits for them; each
    # worker restores the mask for itself.
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _SUPERVISOR_SIGNALS)
    workers: dict[int, int] = {}
    try:
        for index in range(count):
            # Anything buffered would be written again by every child.
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _work(
                    settings,
                    Worker(
                        index,
                        count,
                        http,
                        smtp,
                        prepared,
                        generation,
                        supervisor,
                        submission=submission[0],
                        submission_tls=submission[1],
                        imap=imap[0],
                        imap_tls=imap[1],
                    ),
                    mask,
                )
            workers[pid] = index
    except OSError as exc:
        log.error("cannot start worker %d of %d: %s", len(workers), count, exc)
        _signal_all(workers, signal.SIGTERM)
        _wait(workers, stopping=True)
        return 1
    finally:
        # Only the workers accept: once they all stop listening, connections are refused at
        # once instead of waiting in a queue no one reads.
        for sock in bound:
            sock.close()
    return _wait(workers)


def _work(settings: Settings, worker: Worker, mask: set[int | signal.Signals]) -> NoReturn:
    """The forked worker's whole life: serve, then leave without running the supervisor's
    clean-up (its sockets, its atexit hooks are not the worker's)."""
    code = 1
    try:
        # Set before the mask is lifted, so that a Ctrl-C already pending is dropped.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        worker.generation.use_slot(worker.index)
        code = _run(serve(settings, worker))
    except SystemExit as exc:
        code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _signal_all(workers: dict[int, int], sig: signal.Signals) -> None:
    for pid in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _describe_exit(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        return f"exited with code {code}"
    try:
        return f"was killed by {signal.Signals(-code).name}"
    except ValueError:  # a real-time signal has no name
        return f"was killed by signal {-code}"


def _wait(workers: dict[int, int], stopping: bool = False) -> int:
    """Until every worker has ended: pass a stop signal on to all of them, and stop all of them
    when one ends unasked. 0 if each ended cleanly when asked to, else 1."""
    failed = False
    deadline = time.monotonic() + STOP_GRACE_SECONDS if stopping else None
    while workers:
        info: signal.struct_siginfo | None
        if deadline is None:
            info = signal.sigwaitinfo(_SUPERVISOR_SIGNALS)
        else:
            info = signal.sigtimedwait(_SUPERVISOR_SIGNALS, max(0.0, deadline - time.monotonic()))
        if info is None:
            names = ", ".join(str(index) for index in sorted(workers.values()))
            log.error("worker(s) %s did not stop within %.0f s; killing them", names, STOP_GRACE_SECONDS)
            _signal_all(workers, signal.SIGKILL)
            failed, deadline = True, None
            continue
        if info.si_signo != signal.SIGCHLD:
            if not stopping:
                stopping, deadline = True, time.monotonic() + STOP_GRACE_SECONDS
                _signal_all(workers, signal.SIGTERM)
            continue
        while workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:  # none left (someone else reaped them)
                workers.clear()
                break
            if pid == 0:
                break
            index = workers.pop(pid, None)
            if index is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            # A worker asked to stop before it could handle SIGTERM dies of it: that is a stop.
            clean = code == 0 or (stopping and code == -signal.SIGTERM)
            if not stopping:
                log.error("worker %d (pid %d) %s; stopping the others", index, pid, _describe_exit(status))
                stopping, deadline = True, time.monotonic() + STOP_GRACE_SECONDS
                _signal_all(workers, signal.SIGTERM)
                failed = True
            elif not clean:
                log.error("worker %d (pid %d) %s while stopping", index, pid, _describe_exit(status))
                failed = True
    return 1 if failed else 0


async def _db_upgrade(settings: Settings) -> None:
    db = Database(settings.DATABASE_URL, settings.DATABASE_POOL_SIZE)
    try:
        await db.upgrade()
        current, _ = await db.version()
        print(f"database at revision {current}")
    finally:
        await db.close()


def _run(runner: Coroutine[Any, Any, None]) -> int:
    try:
        import uvloop

        uvloop.run(runner)
    except OSError as exc:
        print(f"tempmail: {exc}", file=sys.stderr)
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tempmail", description="Self-hosted disposable email.")
    parser.add_argument("--version", action="version", version=f"tempmail {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the SMTP listener, HTTP API and jobs")
    serve_cmd.add_argument("--http", metavar="HOST:PORT", help="HTTP listen address (HTTP_LISTEN)")
    serve_cmd.add_argument("--smtp", metavar="HOST:PORT", help="SMTP listen address (SMTP_LISTEN)")
    serve_cmd.add_argument(
        "--submission", metavar="HOST:PORT", help="SMTP submission for mail clients (SUBMISSION_LISTEN)"
    )
    serve_cmd.add_argument("--imap", metavar="HOST:PORT", help="IMAP for mail clients (IMAP_LISTEN)")
    serve_cmd.add_argument(
        "--workers", type=int, metavar="N", help="processes sharing the ports (WORKERS; 0 = one per core)"
    )
    serve_cmd.add_argument("--config", type=Path, metavar="FILE", help="TOML file of settings")
    db_cmd = commands.add_parser("db", help="database maintenance")
    db_cmd.add_argument("action", choices=["upgrade"], help="apply pending migrations")
    db_cmd.add_argument("--config", type=Path, metavar="FILE", help="TOML file of settings")
    for name, what in (("backup", "copy the database to FILE"), ("restore", "replace it by FILE")):
        copy_cmd = commands.add_parser(name, help=f"{what} (see README, Backups)")
        copy_cmd.add_argument("file", type=Path, metavar="FILE")
        copy_cmd.add_argument("--config", type=Path, metavar="FILE", help="TOML file of settings")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    overrides: dict[str, Any] = {}
    if getattr(args, "http", None):
        overrides["HTTP_LISTEN"] = args.http
    if getattr(args, "smtp", None):
        overrides["SMTP_LISTEN"] = args.smtp
    if getattr(args, "submission", None):
        overrides["SUBMISSION_LISTEN"] = args.submission
    if getattr(args, "imap", None):
        overrides["IMAP_LISTEN"] = args.imap
    if getattr(args, "workers", None) is not None:
        overrides["WORKERS"] = args.workers
    try:
        settings = load_settings(args.config, **overrides)
    except ConfigError as exc:
        print(f"tempmail: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.LOG_LEVEL.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        if args.command == "db":
            return _run(_db_upgrade(settings))
        if args.command in ("backup", "restore"):
            print((backup.backup if args.command == "backup" else backup.restore)(settings, args.file))
            return 0
        if settings.worker_count == 1:
            return _run(serve(settings))
        return _supervise(settings, settings.worker_count)
    except (OSError, backup.BackupError) as exc:
        print(f"tempmail: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # Ctrl-C before the signal handlers were in place (during start-up): no traceback.
        return 130


if __name__ == "__main__":
    sys.exit(main())
