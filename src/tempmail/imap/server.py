"""The IMAP listeners of one process: the plain port (STARTTLS when a certificate is set) and,
optionally, the port of TLS from the first byte, both served by pymap's `IMAPServer`.

Alone, the process binds them itself; as a worker it accepts on the sockets its supervisor
bound once (`tempmail.cli`), so every worker serves the same ports. On stop it no longer
accepts and ends every connection: pymap answers a command in progress' client, or an idle
one, `* BYE [UNAVAILABLE]` as it closes; nothing is lost, since every change a client made
(flags, expunges) was committed when its command was answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from asyncio import StreamReader, StreamWriter

from proxyprotocol.reader import ProxyProtocolReader
from proxyprotocol.sock import SocketInfo
from pymap.imap import IMAPServer

from tempmail.imap.config import ImapConfig
from tempmail.imap.login import Login
from tempmail.security.tls import server_context
from tempmail.services import Services

log = logging.getLogger(__name__)

STOP_SECONDS = 5.0


class ImapListeners:
    def __init__(self, services: Services) -> None:
        settings = services.settings
        self.tls = server_context(settings.mail_client_tls)
        plain = ImapConfig(self.tls, implicit_tls=False, allow_plaintext=settings.IMAP_ALLOW_PLAINTEXT)
        self._plain = self._callback(IMAPServer(Login(services, plain), plain), plain)
        self._implicit = None
        if self.tls is not None:
            implicit = ImapConfig(self.tls, implicit_tls=True, allow_plaintext=True)
            self._implicit = self._callback(IMAPServer(Login(services, implicit), implicit), implicit)
        self._servers: list[asyncio.Server] = []
        self._connections: set[asyncio.Task[None]] = set()

    def _callback(self, imap: IMAPServer, config: ImapConfig):  # type: ignore[no-untyped-def]
        async def serve(reader: StreamReader, writer: StreamWriter, info: SocketInfo) -> None:
            task = asyncio.current_task()
            assert task is not None
            self._connections.add(task)
            try:
                await imap(reader, writer, info)
            finally:
                self._connections.discard(task)

        return ProxyProtocolReader(config.proxy_protocol).get_callback(serve)

    async def start(
        self,
        plain: socket.socket | tuple[str, int] | None,
        implicit: socket.socket | tuple[str, int] | None = None,
    ) -> list[int]:
        """Listen on the plain port and the TLS one (each a socket to accept on, or a host and
        port to bind, or None for none); the ports listened on, in that order."""
        ports = []
        for where, callback, tls in ((plain, self._plain, None), (implicit, self._implicit, self.tls)):
            if where is None or callback is None:
                continue
            if isinstance(where, socket.socket):
                server = await asyncio.start_server(callback, sock=where, ssl=tls)
            else:
                server = await asyncio.start_server(callback, *where, ssl=tls)
            self._servers.append(server)
            ports.append(int(server.sockets[0].getsockname()[1]))
        return ports

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            _, pending = await asyncio.wait(list(self._connections), timeout=STOP_SECONDS)
            if pending:
                log.warning("%d IMAP connection(s) did not close in %.0f s", len(pending), STOP_SECONDS)
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), STOP_SECONDS)
        self._servers.clear()
