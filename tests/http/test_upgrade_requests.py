"""Plain-HTTP requests that propose `Upgrade: h2c` (curl --http2, curl_cffi) are served as the
HTTP/1.1 requests they also are: the route gets the body, and the connection stays usable."""

from __future__ import annotations

import json
import socket
import uuid
from typing import Any

from tests.support import ADMIN_PASSWORD, Server

# What curl sends with --http2 on a plain-HTTP URL.
H2C = b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n"


class Connection:
    """One raw keep-alive connection, reading answers framed by their Content-Length."""

    def __init__(self, server: Server) -> None:
        self.sock = socket.create_connection(("127.0.0.1", server.http_port), timeout=10)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(status_line.split()[1]), headers, body

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        assert chunk, f"connection closed; received so far: {self.buffer!r}"
        self.buffer += chunk

    def close(self) -> None:
        self.sock.close()


def new_address_request(name: str, upgrade: bool = True) -> bytes:
    body = json.dumps({"name": name, "domain": "test.example"}).encode()
    return (
        b"POST /admin/new_address HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n"
        + (H2C if upgrade else b"")
        + b"x-admin-auth: "
        + ADMIN_PASSWORD.encode()
        + b"\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


def get(path: str, upgrade: bool = True) -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (H2C if upgrade else b"") + b"\r\n"


def created(answer: tuple[int, dict[str, str], bytes], name: str) -> Any:
    status, _, body = answer
    assert status == 200, body
    data = json.loads(body)
    assert data["address"] == f"{name}@test.example"
    return data


def name() -> str:
    return f"h2c{uuid.uuid4().hex[:10]}"


def test_a_post_proposing_h2c_gets_its_body_and_keeps_the_connection(server: Server) -> None:
    conn = Connection(server)
    try:
        first = name()
        conn.send(new_address_request(first))
        created(conn.answer(), first)
        conn.send(get("/health_check", upgrade=False))
        assert conn.answer()[0] == 200
        second = name()
        conn.send(new_address_request(second))
        created(conn.answer(), second)
        conn.send(get("/open_api/settings"))
        status, _, body = conn.answer()
        assert status == 200 and "domains" in json.loads(body)
    finally:
        conn.close()
    assert "Unsupported upgrade request" not in server.output()


def test_a_get_proposing_h2c_is_answered_and_keeps_the_connection(server: Server) -> None:
    conn = Connection(server)
    try:
        conn.send(get("/open_api/settings"))
        status, _, body = conn.answer()
        assert status == 200 and "domains" in json.loads(body)
        address = name()
        conn.send(new_address_request(address, upgrade=False))
        created(conn.answer(), address)
    finally:
        conn.close()


def test_the_body_may_follow_the_head_later(server: Server) -> None:
    conn = Connection(server)
    try:
        address = name()
        head, _, body = new_address_request(address).partition(b"\r\n\r\n")
        conn.send(head + b"\r\n\r\n")
        conn.send(body[:5])
        conn.send(body[5:])
        created(conn.answer(), address)
    finally:
        conn.close()


def test_an_upgrade_request_pipelined_behind_another_is_answered_in_order(server: Server) -> None:
    conn = Connection(server)
    try:
        address = name()
        conn.send(get("/health_check", upgrade=False) + new_address_request(address) + get("/health_check"))
        assert conn.answer()[0] == 200
        created(conn.answer(), address)
        assert conn.answer()[0] == 200
    finally:
        conn.close()
