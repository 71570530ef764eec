"""The inbound SMTP listener: aiosmtpd protocol instances on our own asyncio loop.

RCPT decides whether a recipient is ours (else 550: never an open relay); DATA hands the
message to the pipeline and answers 250 only once it is committed, 451 if it could not be
(the sender retries), 550 if every recipient was refused by a check. What a mail may contain
is not policed (long lines, bare LF/CR, NUL, 8-bit headers): its size alone is (552). Clients
are held to an idle timeout and to connection caps (421), and a stopping listener answers
every transaction it has begun before it closes (see InboundServer.stop).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import logging
import re
import socket
import ssl
import time
from collections.abc import Callable
from email._header_value_parser import get_addr_spec, get_angle_addr
from email.errors import HeaderParseError
from typing import Any, Protocol, cast

from aiosmtpd.smtp import MISSING, SMTP, Envelope, Session, syntax

from tempmail.config import Settings
from tempmail.inbound import smtp_log
from tempmail.inbound.pipeline import InboundMail, Pipeline, ReceiveResult, StoreFailed
from tempmail.security.tls import server_context

log = logging.getLogger(__name__)

# Recipients of one transaction: the hundred RFC 5321 (4.5.3.1.8) asks a server to take; the
# sender sends the rest in another transaction.
MAX_RECIPIENTS = 100
# How long a stopping listener waits for the transactions in DATA to be received and answered,
# then for commits already begun; then for the closing connections to flush their answers.
# Together they stay under the supervisor's STOP_GRACE_SECONDS.
DRAIN_SECONDS = 30.0
COMMIT_GRACE_SECONDS = 10.0
FLUSH_SECONDS = 5.0
# Refused connections are logged once per client address (and once for the total cap) per window.
REFUSAL_LOG_WINDOW = 60.0
MAX_REFUSAL_KEYS = 10_000
TOO_MANY_FROM_YOU = b"421 4.7.0 Too many connections from your address, try again later\r\n"
TOO_MANY_IN_ALL = b"421 4.3.2 Too many connections, try again later\r\n"
SHUTTING_DOWN = b"421 4.3.2 Service shutting down\r\n"
IDLE_TIMEOUT = b"421 4.4.2 Idle for too long, closing the connection\r\n"


# `<local@domain>` of dot-atoms (RFC 5322 3.2.3), as nearly every MTA writes it: read with a
# regular expression, what the stdlib's parser would make of it (its address, and the rest with
# the blanks before it taken off), at a tenth of the cost; anything else (a comment after it,
# say) goes to that parser.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = rf"{_ATOM}(?:\.{_ATOM})*"
_PLAIN_ADDRESS = re.compile(rf"<({_DOT_ATOM}@{_DOT_ATOM})>[ \t]*+(?!\()")


class InboundHandler:
    """aiosmtpd handler hooks; one instance serves every connection."""

    def __init__(self, settings: Settings, pipeline: Pipeline) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.in_flight: set[asyncio.Task[Any]] = set()

    def __dir__(self) -> list[str]:
        """The `handle_` hooks and `auth_` mechanisms, the only names aiosmtpd's protocol
        constructor looks for in `dir(handler)` and `inspect.getmembers(handler)`; it runs once
        a connection, so once a mail, and reading every attribute of the handler there was a
        twentieth of the server's Python time in a burst (py-spy)."""
        return _HOOK_NAMES

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        local, _, domain = address.rpartition("@")
        if not local or not await self.pipeline.accepts_domain(domain):
            answer = "550 5.7.1 Relaying denied: we do not accept mail for this domain"
            smtp_log.refused_recipient(envelope.mail_from, address, _peer_ip(session), answer)
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        mail = InboundMail(
            mail_from=envelope.mail_from or "",
            recipients=list(envelope.rcpt_tos),
            raw=content if isinstance(content, bytes) else content.encode("utf-8"),
            peer_ip=_peer_ip(session),
            helo=session.host_name or "",
        )
        started = time.perf_counter()
        answer, result = await self._receive(mail)
        smtp_log.mail(
            mail.mail_from,
            mail.recipients,
            len(mail.raw),
            mail.peer_ip,
            answer,
            result.stored_ids if result else (),
            result.rejected if result and result.stored_ids else (),
            time.perf_counter() - started,
        )
        return answer

    async def _receive(self, mail: InboundMail) -> tuple[str, ReceiveResult | None]:
        """The mail through the pipeline: the SMTP answer, and what the pipeline did (None when
        it failed)."""
        # Shield the delivery: a client hanging up mid-commit must not cancel it, and shutdown
        # waits for these tasks before closing the database.
        task = asyncio.ensure_future(self.pipeline.receive(mail))
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)
        try:
            result = await asyncio.shield(task)
        except StoreFailed:
            return "451 4.3.0 Temporary storage failure, please retry later", None
        except Exception:
            # A bug in a stage must not turn into a permanent 5xx: the sender keeps the mail
            # and retries, and the failure is in our log.
            log.exception("receiving a mail from %s failed", mail.mail_from)
            return "451 4.3.0 Temporary failure, please retry later", None
        if not result.stored_ids and result.rejected:
            return f"550 5.7.1 {result.refusal()}", result
        return "250 OK", result


def _peer_ip(session: Session) -> str | None:
    return str(session.peer[0]) if isinstance(session.peer, tuple) else None


class Hooks(Protocol):
    """What a listener needs of its handler besides aiosmtpd's hooks: the tasks of transactions
    still running after their client hung up, which shutdown waits for."""

    in_flight: set[asyncio.Task[Any]]


class InboundServer:
    """Owns the listening socket and the live sessions, so shutdown can drain them.

    SMTP submission (`tempmail.submission`) is a subclass: its own handler and protocol, the
    same caps, idle timeout and drain."""

    name = "SMTP"

    def __init__(self, settings: Settings, pipeline: Pipeline) -> None:
        files = (settings.SMTP_TLS_CERT, settings.SMTP_TLS_KEY) if settings.SMTP_TLS_CERT else None
        self._set_up(settings, InboundHandler(settings, pipeline), server_context(files))

    def _set_up(
        self,
        settings: Settings,
        handler: Hooks,
        tls: ssl.SSLContext | None,
        implicit_tls: ssl.SSLContext | None = None,
    ) -> None:
        """`tls`: the context STARTTLS offers; `implicit_tls`: TLS from the first byte
        (submission's implicit TLS port)."""
        smtp_log.quiet_aiosmtpd()
        self.settings = settings
        self.handler = handler
        self._server: asyncio.Server | None = None
        self._listener = _Listener(settings.SMTP_MAX_CONNECTIONS_PER_IP, settings.SMTP_MAX_CONNECTIONS)
        self._tls = tls
        self._implicit_tls = implicit_tls

    def _protocol(self) -> SMTP:
        return TrackedSMTP(self.handler, ident="tempmail ESMTP", **self._protocol_options())

    def _protocol_options(self) -> dict[str, Any]:
        """What every session of this server is built with (a subclass's protocol too)."""
        return {
            "listener": self._listener,
            "data_size_limit": self.settings.MAX_MESSAGE_SIZE,
            "enable_SMTPUTF8": True,
            "decode_data": False,
            "hostname": self.settings.SMTP_HOSTNAME,
            "tls_context": self._tls,
            "timeout": self.settings.SMTP_IDLE_TIMEOUT,
            "loop": asyncio.get_running_loop(),
        }

    async def start(self, host: str = "", port: int = 0, sock: socket.socket | None = None) -> int:
        """Listen on `host:port`, or accept on `sock`, a listening socket the workers of one
        server share; return the bound port (useful when asked for port 0)."""
        loop = asyncio.get_running_loop()
        tls = self._implicit_tls
        if sock is not None:
            self._server = await loop.create_server(self._protocol, sock=sock, ssl=tls)
        else:
            self._server = await loop.create_server(self._protocol, host=host or None, port=port, ssl=tls)
        bound_host, bound = self._server.sockets[0].getsockname()[:2]
        log.info("%s listening on %s:%d", self.name, bound_host, bound)
        return int(bound)

    async def stop(self, drain_seconds: float = DRAIN_SECONDS) -> None:
        """Stop accepting; answer every transaction in DATA before closing its connection.

        A client told 250 must find its mail stored, and a stored mail must have had its 250
        (else the sender sends it again: a duplicate). So idle sessions get `421 4.3.2` at once;
        a session in DATA is left to finish, commit and answer, and closes itself once its
        answer is written. Past `drain_seconds`, a session still receiving its data gets 421
        (nothing of it was stored); one whose commit has begun is given COMMIT_GRACE_SECONDS
        more, since its commit cannot be taken back. Last, the closing connections are given
        time to flush their answers before the loop that writes them ends.
        """
        listener = self._listener
        listener.stopping = True
        if self._server is not None:
            self._server.close()
        loop = asyncio.get_running_loop()
        for session in list(listener.sessions):
            if session.phase is _Phase.COMMAND:
                session.shut_down()
        await listener.until(listener.none_in_data, loop.time() + drain_seconds)
        for session in list(listener.sessions):
            if session.phase is not _Phase.COMMITTING:
                session.shut_down()
        await listener.until(listener.none_committing, loop.time() + COMMIT_GRACE_SECONDS)
        # Commits whose client hung up mid-DATA still run (shielded): finish them before the
        # database closes.
        pending = list(self.handler.in_flight)
        if pending:
            await asyncio.wait(pending, timeout=COMMIT_GRACE_SECONDS)
        for session in list(listener.sessions):
            session.shut_down()
        await listener.until(listener.none_open, loop.time() + FLUSH_SECONDS)
        if self._server is not None:
            await self._server.wait_closed()


class _Phase(enum.Enum):
    """Where a session stands, for shutdown: between commands, receiving DATA, or committing
    a received mail (handle_DATA has begun)."""

    COMMAND = "command"
    RECEIVING = "receiving"
    COMMITTING = "committing"


class _Listener:
    """What the sessions of one listener share: which are open, how many per client address
    (the caps), and whether the listener is stopping.

    The caps are per worker process: each worker accepts on the shared socket with a listener
    of its own and counts only its own connections, so with N workers a client may hold up to
    N × SMTP_MAX_CONNECTIONS_PER_IP (the kernel spreads connections over the workers). They are
    also what bounds memory: a session may buffer a line as long as MAX_MESSAGE_SIZE (see
    TrackedSMTP), so a worker holds at most about SMTP_MAX_CONNECTIONS × 3 × MAX_MESSAGE_SIZE.
    """

    def __init__(self, max_per_ip: int, max_total: int) -> None:
        self.max_per_ip = max_per_ip
        self.max_total = max_total
        self.sessions: set[TrackedSMTP] = set()
        self.per_ip: collections.Counter[str] = collections.Counter()
        self.stopping = False
        # Set whenever a session leaves DATA or closes; shutdown waits on it.
        self.changed = asyncio.Event()
        # Refusals per client address (or "*" for the total cap): when the current log window
        # began, and how many were refused in it without a log line.
        self._refusals: dict[str, tuple[float, int]] = {}

    def admit(self, session: TrackedSMTP, ip: str) -> bytes | None:
        """Count the session in, or return the reply that refuses it (then it is not counted)."""
        if self.stopping:
            return SHUTTING_DOWN
        if len(self.sessions) >= self.max_total:
            self._log_refusal(
                "*", "all addresses", len(self.sessions), "SMTP_MAX_CONNECTIONS", self.max_total
            )
            return TOO_MANY_IN_ALL
        if self.per_ip[ip] >= self.max_per_ip:
            self._log_refusal(ip, ip, self.per_ip[ip], "SMTP_MAX_CONNECTIONS_PER_IP", self.max_per_ip)
            return TOO_MANY_FROM_YOU
        self.sessions.add(session)
        self.per_ip[ip] += 1
        return None

    def release(self, session: TrackedSMTP, ip: str) -> None:
        self.sessions.discard(session)
        self.per_ip[ip] -= 1
        if self.per_ip[ip] <= 0:
            del self.per_ip[ip]
        self.changed.set()

    def _log_refusal(self, key: str, who: str, open_now: int, setting: str, cap: int) -> None:
        """One log line per key and REFUSAL_LOG_WINDOW, however many connections are refused:
        a client hammering the cap must not flood the log (the next line counts the others)."""
        now = time.monotonic()
        began, unlogged = self._refusals.get(key, (-REFUSAL_LOG_WINDOW, 0))
        if now - began < REFUSAL_LOG_WINDOW:
            self._refusals[key] = (began, unlogged + 1)
            return
        if len(self._refusals) > MAX_REFUSAL_KEYS:
            self._refusals = {k: v for k, v in self._refusals.items() if now - v[0] < REFUSAL_LOG_WINDOW}
        self._refusals[key] = (now, 0)
        log.warning(
            "refusing SMTP connections from %s: %d open, %s is %d (%d more refused since the last "
            "such line; logged at most once a minute)",
            who,
            open_now,
            setting,
            cap,
            unlogged,
        )

    def none_in_data(self) -> bool:
        return all(session.phase is _Phase.COMMAND for session in self.sessions)

    def none_committing(self) -> bool:
        return all(session.phase is not _Phase.COMMITTING for session in self.sessions)

    def none_open(self) -> bool:
        return not self.sessions

    async def until(self, done: Callable[[], bool], deadline: float) -> None:
        """Until `done()` or the loop's clock reaches `deadline`, re-checking at each change."""
        loop = asyncio.get_running_loop()
        while not done():
            self.changed.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)


class TrackedSMTP(SMTP):
    """aiosmtpd's protocol, counted by its listener while its connection is open, liberal in
    what it takes, and told by the listener when to go.

    Lines of any length are taken: the stream limit (aiosmtpd's `line_length_limit`, RFC 5321's
    1000 octets) is raised to the message size limit, so that a mail with bare LF or bare CR line
    ends (one "line" for SMTP, which only splits at CRLF) or with 100 KB lines is stored as sent;
    MAX_MESSAGE_SIZE, answered 552, is then the only size refused. The end of data stays CRLF .
    CRLF and nothing else (aiosmtpd reads DATA up to CRLF only): accepting LF . LF would let a
    sender smuggle a second message past a relay that does not end there (SMTP smuggling).

    Every mail from the world is a connection of its own, so what aiosmtpd does per connection
    and per address is paid per mail; three of its steps cost more than they need to (half of
    the no-op server's CPU, measured with py-spy), and are answered here the same way, cheaper:
    building the protocol, parsing an address, reading the data.
    """

    def __init__(self, handler: Any, *, listener: _Listener, data_size_limit: int, **kwargs: Any) -> None:
        # Read by aiosmtpd's constructor for the stream limit: set before it runs. Room for the
        # transparent dot and the CRLF of a mail that is a single line.
        self.line_length_limit = data_size_limit + len(b".\r\n")
        super().__init__(handler, data_size_limit=data_size_limit, **kwargs)
        self._data_limit = data_size_limit
        self._listener = listener
        self._ip: str | None = None
        self._refused = False
        self._told_to_go = False
        self.phase = _Phase.COMMAND

    def __dir__(self) -> list[str]:
        """The `smtp_` commands and `auth_` mechanisms, the only names aiosmtpd's constructor
        looks for in `dir(self)` and `inspect.getmembers(self)`; answering with every name
        made it read each attribute of a new protocol, properties included."""
        return _COMMAND_NAMES

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """aiosmtpd's own address parsing of MAIL FROM and RCPT TO (the stdlib's RFC 5322
        parser), without the typing class that it defines anew on every call. An address with
        a NUL byte is malformed (553): no mail system has one, and PostgreSQL's text cannot
        store it, which would make every try of the mail a 451."""
        if not arg:
            return "", ""
        if "\x00" in arg:
            return None, None
        addr, rest = _parse_address(arg)
        if addr is None or (self.local_part_limit and len(addr.rpartition("@")[0]) > self.local_part_limit):
            return None, None
        return addr, rest

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Called again on the TLS transport after STARTTLS: the connection is counted once.
        if self._ip is None:
            peer = transport.get_extra_info("peername")
            ip = str(peer[0]) if isinstance(peer, tuple) else ""
            refusal = self._listener.admit(self, ip)
            if refusal is not None:
                self._refused = True
                # A stream transport (uvloop's are not asyncio.Transport subclasses).
                writer = cast(asyncio.Transport, transport)
                writer.write(refusal)
                writer.close()
                return
            self._ip = ip
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._refused:
            return
        if self._ip is not None:
            self._listener.release(self, self._ip)
        super().connection_lost(error)

    def eof_received(self) -> bool | None:
        """aiosmtpd stops the session at the client's EOF, but left the connection half open
        (until the idle timeout), still counted under the caps: close it now."""
        super().eof_received()
        return False

    def data_received(self, data: bytes) -> None:
        # aiosmtpd restarts its idle timer at each command only; a long DATA that keeps
        # arriving is not idle (RFC 5321 4.5.3.2.5 times the gaps between packets).
        if self.phase is _Phase.RECEIVING:
            self._reset_timeout()
        super().data_received(data)

    def _timeout_cb(self) -> None:
        """aiosmtpd's idle timer: as it does, close; first say why. Not while its mail is being
        committed: then we are the slow one, and closing would lose the 250 of a stored mail."""
        if self.phase is _Phase.COMMITTING:
            self._reset_timeout()
            return
        log.info("%r idle for %.0f s; closing", self._ip, self._timeout_duration)
        self._writer.write(IDLE_TIMEOUT)
        self._writer.close()

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        if self._told_to_go:
            return
        self.phase = _Phase.RECEIVING
        try:
            await self._data(arg)
        finally:
            self.phase = _Phase.COMMAND
            self._listener.changed.set()
        # The transaction has had its answer: a stopping listener lets the session go now.
        if self._listener.stopping:
            self.shut_down()

    async def _data(self, arg: str) -> None:
        """aiosmtpd's DATA, the message read in a few large pieces instead of line by line.

        aiosmtpd reads the data one line at a time, with a log call and some bookkeeping per
        line: a 10 KB mail of 80-column lines took 130 rounds of it, a third of the whole
        dialogue's CPU (py-spy, the no-op floor). The answers, the checks before the 354 and
        the content handed to the handler are aiosmtpd's: the lines as sent, ending with CRLF,
        with the transparent dot of each line removed (RFC 5321 4.5.2).
        """
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        try:
            content = await read_data(self._reader, self._data_limit)
        except asyncio.CancelledError:
            # The connection was lost in the middle of the data.
            self._writer.close()
            raise
        if content is None:
            # Whether one line or the whole is too long for the stream: the mail is too large.
            status: Any = f"552 5.3.4 Message too large: the limit is {self._data_limit} bytes"
            smtp_log.mail(
                self.envelope.mail_from or "",
                self.envelope.rcpt_tos,
                f">{self._data_limit}",
                self._ip,
                status,
            )
        else:
            self.envelope.content = self.envelope.original_content = content
            status = await self._call_handler_hook("DATA")
        self._set_post_data_state()  # type: ignore[no-untyped-call]  # aiosmtpd's own, untyped
        await self.push("250 OK" if status is MISSING else status)

    async def _call_handler_hook(self, command: str, *args: Any) -> Any:
        if command == "DATA":
            # Told to go while its last bytes were in flight: nothing stored, so no answer owed.
            if self._told_to_go:
                return SHUTTING_DOWN.decode().strip()
            self.phase = _Phase.COMMITTING
        return await super()._call_handler_hook(command, *args)

    def shut_down(self) -> None:
        """Answer 421 and close: the listener is stopping and this session has no transaction
        that could still be answered."""
        if self._told_to_go or self.transport is None:
            return
        self._told_to_go = True
        self._writer.write(SHUTTING_DOWN)
        self._writer.close()


async def read_data(reader: asyncio.StreamReader, limit: int) -> bytes | None:
    """The data of one SMTP DATA, up to the line `.` that ends it; None when it is over `limit`
    bytes (then all of it is read and dropped, so the session can go on after the refusal).

    Only CRLF . CRLF ends the data (a dot line after a bare LF is mail text, see
    `TrackedSMTP`); the data ends with the CRLF of its last line, as aiosmtpd's does. The
    reader is searched for `.CRLF`, which ends most pieces where a line does not begin: each
    such piece costs one more read, a sentence ending at a line's end, say.
    """
    data = bytearray()
    too_large = False
    while True:
        try:
            data += await reader.readuntil(b".\r\n")
        except asyncio.LimitOverrunError as error:
            # No end in the stream's whole buffer (the stream limit is the message size).
            data += await reader.read(error.consumed)
            too_large = True
        end = len(data) - 3
        if end >= 0 and data[end:] == b".\r\n" and (end == 0 or data[end - 2 : end] == b"\r\n"):
            break
        if too_large or len(data) > limit:
            # Keep only what the end's test looks back at.
            too_large = True
            del data[:-2]
    if too_large or end > limit:
        return None
    del data[end:]
    if data.startswith(b"."):
        del data[0]
    return bytes(data.replace(b"\r\n.", b"\r\n"))


def _parse_address(arg: str) -> tuple[str | None, str | None]:
    """The address of a MAIL FROM or RCPT TO argument and the text after it (its parameters);
    (None, None) when it is malformed."""
    plain = _PLAIN_ADDRESS.match(arg)
    if plain is not None:
        return plain.group(1), arg[plain.end() :]
    parse: Any = get_angle_addr if arg.lstrip().startswith("<") else get_addr_spec
    try:
        address, rest = parse(arg)
    except HeaderParseError:
        return None, None
    return str(address.addr_spec), rest


_COMMAND_NAMES = [name for name in dir(TrackedSMTP) if name.startswith(("smtp_", "auth_"))]
_HOOK_NAMES = [name for name in dir(InboundHandler) if name.startswith(("handle_", "auth_"))]
