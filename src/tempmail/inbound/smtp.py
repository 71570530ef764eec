"""The inbound SMTP listener: aiosmtpd protocol instances on our own asyncio loop.

RCPT decides whether a recipient is ours (else 550: never an open relay); DATA hands the
message to the pipeline and answers 250 only once it is committed, 451 if it could not be
(the sender retries), 550 if every recipient was refused by a check.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from tempmail.config import Settings
from tempmail.inbound.pipeline import InboundMail, Pipeline, StoreFailed

log = logging.getLogger(__name__)

# Recipients of one transaction: the hundred RFC 5321 (4.5.3.1.8) asks a server to take; the
# sender sends the rest in another transaction.
MAX_RECIPIENTS = 100


class InboundHandler:
    """aiosmtpd handler hooks; one instance serves every connection."""

    def __init__(self, settings: Settings, pipeline: Pipeline) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.in_flight: set[asyncio.Task[Any]] = set()

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
            return "550 5.7.1 Relaying denied: we do not accept mail for this domain"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        mail = InboundMail(
            mail_from=envelope.mail_from or "",
            recipients=list(envelope.rcpt_tos),
            raw=content if isinstance(content, bytes) else content.encode("utf-8"),
            peer_ip=session.peer[0] if isinstance(session.peer, tuple) else None,
            helo=session.host_name or "",
        )
        # Shield the delivery: a client hanging up mid-commit must not cancel it, and shutdown
        # waits for these tasks before closing the database.
        task = asyncio.ensure_future(self.pipeline.receive(mail))
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)
        try:
            result = await asyncio.shield(task)
        except StoreFailed:
            return "451 4.3.0 Temporary storage failure, please retry later"
        except Exception:
            # A bug in a stage must not turn into a permanent 5xx: the sender keeps the mail
            # and retries, and the failure is in our log.
            log.exception("receiving a mail from %s failed", mail.mail_from)
            return "451 4.3.0 Temporary failure, please retry later"
        if not result.stored_ids and result.rejected:
            return f"550 5.7.1 {result.refusal()}"
        return "250 OK"


class InboundServer:
    """Owns the listening socket and the live sessions, so shutdown can drain them."""

    def __init__(self, settings: Settings, pipeline: Pipeline) -> None:
        self.settings = settings
        self.handler = InboundHandler(settings, pipeline)
        self._server: asyncio.Server | None = None
        self._sessions: set[SMTP] = set()
        self._tls = _tls_context(settings)

    def _protocol(self) -> SMTP:
        protocol = _TrackedSMTP(
            self.handler,
            sessions=self._sessions,
            data_size_limit=self.settings.MAX_MESSAGE_SIZE,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=self.settings.SMTP_HOSTNAME,
            ident="tempmail ESMTP",
            tls_context=self._tls,
            loop=asyncio.get_running_loop(),
        )
        return protocol

    async def start(self, host: str = "", port: int = 0, sock: socket.socket | None = None) -> int:
        """Listen on `host:port`, or accept on `sock`, a listening socket the workers of one
        server share; return the bound port (useful when asked for port 0)."""
        loop = asyncio.get_running_loop()
        if sock is not None:
            self._server = await loop.create_server(self._protocol, sock=sock)
        else:
            self._server = await loop.create_server(self._protocol, host=host or None, port=port)
        bound_host, bound = self._server.sockets[0].getsockname()[:2]
        log.info("SMTP listening on %s:%d", bound_host, bound)
        return int(bound)

    async def stop(self, drain_seconds: float = 30.0) -> None:
        """Stop accepting, let in-flight DATA commits finish, then close the sessions."""
        if self._server is not None:
            self._server.close()
        pending = list(self.handler.in_flight)
        if pending:
            await asyncio.wait(pending, timeout=drain_seconds)
        for session in list(self._sessions):
            if session.transport is not None:
                session.transport.close()
        if self._server is not None:
            await self._server.wait_closed()


class _TrackedSMTP(SMTP):
    """aiosmtpd's protocol, remembering itself in a set while its connection is open."""

    def __init__(self, handler: Any, *, sessions: set[SMTP], **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._tracked = sessions

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._tracked.add(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self._tracked.discard(self)
        super().connection_lost(error)


def _tls_context(settings: Settings) -> ssl.SSLContext | None:
    if not settings.SMTP_TLS_CERT:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.SMTP_TLS_CERT, settings.SMTP_TLS_KEY)
    return context
