"""A tiny authoritative DNS server on loopback (UDP and TCP), serving the zones a test gives it.

Enough for SPF, DKIM and DMARC checks: TXT, A, AAAA, MX and PTR records answered from a dict;
unknown names get NXDOMAIN. Built on dnspython's message parsing, so the wire format is real.
"""

from __future__ import annotations

import socketserver
import struct
import threading
from collections.abc import Mapping
from types import TracebackType

import dns.flags
import dns.message
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

HOST = "127.0.0.1"
Records = Mapping[tuple[str, str], list[str]]


def _answer(query_wire: bytes, records: Records) -> bytes:
    query = dns.message.from_wire(query_wire)
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    question = query.question[0]
    name = question.name.to_text(omit_final_dot=True).lower()
    kind = dns.rdatatype.to_text(question.rdtype)
    values = records.get((name, kind))
    if values:
        rdatas = [dns.rdata.from_text(dns.rdataclass.IN, question.rdtype, value) for value in values]
        response.answer.append(dns.rrset.from_rdata_list(question.name, 60, rdatas))
    elif not any(known == name for known, _ in records):
        response.set_rcode(dns.rcode.NXDOMAIN)
    return response.to_wire()


def _bind_pair(
    udp_handler: type[socketserver.BaseRequestHandler], tcp_handler: type[socketserver.BaseRequestHandler]
) -> tuple[socketserver.ThreadingUDPServer, socketserver.ThreadingTCPServer]:
    """A UDP and a TCP server on one free port. The free UDP port the system picks may be taken
    for TCP (by any connection's local end), so a few ports are tried."""
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    for _ in range(20):
        udp = socketserver.ThreadingUDPServer((HOST, 0), udp_handler)
        try:
            return udp, socketserver.ThreadingTCPServer((HOST, udp.server_address[1]), tcp_handler)
        except OSError:
            udp.server_close()
    raise OSError("no port free for both UDP and TCP")


class DnsServer:
    """`DnsServer({("example.com", "TXT"): ['"v=spf1 -all"']}).start()`; `port` is UDP and TCP."""

    def __init__(self, records: Records) -> None:
        self.records = records
        self.port = 0
        self._servers: list[socketserver.BaseServer] = []

    def start(self) -> DnsServer:
        records = self.records

        class Udp(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data, sock = self.request
                sock.sendto(_answer(data, records), self.client_address)

        class Tcp(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                (length,) = struct.unpack("!H", self.rfile.read(2))
                wire = _answer(self.rfile.read(length), records)
                self.wfile.write(struct.pack("!H", len(wire)) + wire)

        udp, tcp = _bind_pair(Udp, Tcp)
        self.port = udp.server_address[1]
        for server in (udp, tcp):
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
            self._servers.append(server)
        return self

    @property
    def address(self) -> str:
        """The value for DNS_RESOLVER."""
        return f"{HOST}:{self.port}"

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers.clear()

    def __enter__(self) -> DnsServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
