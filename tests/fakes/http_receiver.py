"""An HTTP endpoint on loopback that records every request (a webhook receiver, say).

`answers` scripts the status codes of the next requests (then 200); `delay` holds each answer
back, to play a slow receiver; `headers` go out with every answer (a `Location`, say). `host`
may be an IPv6 address (`::1`).
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class HttpReceiver:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[Request] = []
        self.answers: list[int] = []
        self.delay = 0.0
        self.headers: dict[str, str] = {}
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                status = receiver._record(Request(self.command, self.path, dict(self.headers), body))
                time.sleep(receiver.delay)
                self.send_response(status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = do_PUT = do_PATCH = _handle

        Handler.protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do
        # Headers and body go out in two writes: with Nagle's algorithm the body waits for the
        # client's delayed ACK, 40 ms a request, which no real receiver makes us wait.
        Handler.disable_nagle_algorithm = True
        ipv6 = ":" in host

        class Listener(ThreadingHTTPServer):
            address_family = socket.AF_INET6 if ipv6 else socket.AF_INET

        self._server = Listener((host, 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://[{host}]:{self.port}" if ipv6 else f"http://{host}:{self.port}"

    def _record(self, request: Request) -> int:
        with self._arrived:
            self.requests.append(request)
            status = self.answers.pop(0) if self.answers else 200
            self._arrived.notify_all()
        return status

    def wait_for(self, count: int, timeout: float = 20) -> list[Request]:
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
            return list(self.requests)

    def start(self) -> HttpReceiver:
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HttpReceiver:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
