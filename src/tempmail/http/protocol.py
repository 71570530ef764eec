"""The HTTP/1.1 protocol the server runs under uvicorn: httptools' (llhttp), except that a request
proposing an upgrade to anything but a WebSocket is served as the HTTP/1.1 request it also is.

Why: clients built on curl (`curl --http2`, curl_cffi) send plain-HTTP requests with
`Connection: Upgrade, HTTP2-Settings` and `Upgrade: h2c`. httptools tells llhttp to skip the
body of any request that proposes an upgrade (its headers-complete callback answers "no body")
and stops parsing after the head; uvicorn then only logs `Unsupported upgrade request`, hands the
route an empty body (`400 Invalid input: body: Field required`), and drops every byte after the
head, the body and any later request of the connection included. The body never reaches ASGI,
so no middleware can recover it: the fix belongs to the protocol.

h11 serves such a request right (it reads the body, answers, and goes on with keep-alive since
the answer is no 101), but parses every request slower: measured with wrk (16 connections, one
worker, SQLite, on a busy 2-core machine), /health_check ran at about 11 000 requests/s on
httptools and 4 300-4 800 on h11, an authenticated /api/mails poll at about 4 900 and 2 600.
This class measured as httptools does, within the noise (9 300 and 4 500-4 900 in alternating
runs). So httptools keeps serving every connection, and one that proposes such an upgrade is
handed to h11 from that request on, the way uvicorn hands a WebSocket upgrade to its WebSocket
protocol: the request head rebuilt from what httptools parsed, then the bytes that followed it.
A request in flight on the connection (pipelining) answers first. WebSocket upgrades still go to
uvicorn's WebSocket protocol.
"""

from __future__ import annotations

import logging

import httptools
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)


class _H11ServingUpgrades(H11Protocol):
    """h11 for a connection that proposed a non-WebSocket upgrade: serving it as HTTP/1.1 is
    the intended answer here, not something to warn about on every request."""

    def _unsupported_upgrade_warning(self) -> None:
        log.debug("serving an upgrade request as HTTP/1.1")


class HttpProtocol(HttpToolsProtocol):
    """httptools, with non-WebSocket upgrades served as HTTP/1.1 (see the module's docstring)."""

    # The bytes after the head of an upgrade request that waits for the answers before it.
    _waiting: bytes | None = None

    def _should_upgrade(self) -> bool:
        # Asked only of requests llhttp flags as upgrades: every one of them leaves this
        # protocol, so this one starts no request cycle for it (see `data_received`).
        return True

    def data_received(self, data: bytes) -> None:
        """uvicorn's, but for where an upgrade request goes (its websocket test inlined)."""
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
        except httptools.HttpParserUpgrade as upgrade:
            if self._get_upgrade() == b"websocket" and self._should_upgrade_to_ws():
                self.handle_websocket_upgrade()
            else:
                rest = data[upgrade.args[0] :]
                if self.pipeline or (self.cycle is not None and not self.cycle.response_complete):
                    self._waiting = rest
                    self.flow.pause_reading()
                else:
                    self._continue_with_h11(rest)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._waiting is not None and not self.pipeline and self.cycle.response_complete:
            self._unset_keepalive_if_required()
            self._continue_with_h11(self._waiting)

    def _continue_with_h11(self, rest: bytes) -> None:
        self.connections.discard(self)
        head = [
            self.scope["method"].encode(),
            b" ",
            self.url,
            b" HTTP/",
            self.scope["http_version"].encode(),
            b"\r\n",
        ]
        for name, value in self.headers:
            head += [name, b": ", value, b"\r\n"]
        head.append(b"\r\n")
        protocol = _H11ServingUpgrades(
            config=self.config, server_state=self.server_state, app_state=self.app_state
        )
        protocol.connection_made(self.transport)
        self.transport.set_protocol(protocol)
        protocol.data_received(b"".join(head) + rest)
