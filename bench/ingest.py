"""Ingest: N mails over C parallel SMTP sessions; msgs/s accepted, and until all are readable.

    python bench/ingest.py --db sqlite -n 2000 -c 8
    python bench/ingest.py --db postgresql -n 2000 -c 8 --env ENABLE_MAIL_GZIP=true
    python bench/ingest.py --db sqlite -n 2000 -c 8 --all-stages

`--all-stages` switches every receive stage on: sender blacklist, SPF/DKIM/DMARC (mails are
DKIM-signed; a loopback DNS server holds the zones), attachment stripping, compression,
forwarding and auto-reply through a loopback relay, and a webhook to a loopback receiver.
It then also reports when every forward and webhook has arrived: that work follows the 250 and
gives way while mail is arriving, so the accepted rate of a burst does not include it.

Prints figures; never passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import SynchronizedArray
from multiprocessing.synchronize import Event
from typing import Any

import dkim
import httpx
import uvloop
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from _common import (
    DnsServer,
    HttpReceiver,
    Server,
    SmtpSink,
    describe_latencies,
    dkim_key,
    server_arguments,
    start_server,
)

STALL_SECONDS = 30.0
PARAGRAPH = (
    "Thank you for signing up. Your verification code is 482913; it expires in ten minutes. If you did "
    "not ask for this code, you can ignore this message. This is an automated message, please do not "
    "reply to it. "
)


def dkim_signer() -> tuple[Callable[[bytes], bytes], dict[tuple[str, str], list[str]]]:
    """A DKIM signing function for service.example (the tests' key) and the DNS zones that make
    it verify."""
    zones = {
        ("service.example", "TXT"): ['"v=spf1 ip4:127.0.0.1 -all"'],
        ("bench._domainkey.service.example", "TXT"): [dkim_key.KEY_RECORD],
        ("_dmarc.service.example", "TXT"): ['"v=DMARC1; p=reject"'],
    }

    def rsa_sign(digest: Any, _dkimpy_key: object) -> bytes:
        return dkim_key.KEY.sign(digest.digest(), padding.PKCS1v15(), Prehashed(hashes.SHA256()))

    # Signing is the load generator's work, not the server's: by OpenSSL, not dkimpy's
    # pure-Python RSA (~15 ms a mail), so preparing a run does not take a minute.
    dkim.RSASSA_PKCS1_v1_5_sign = rsa_sign

    def sign(raw: bytes) -> bytes:
        signature = dkim.sign(
            raw, b"bench", b"service.example", dkim_key.PRIVATE_PEM, include_headers=[b"from", b"subject"]
        )
        return bytes(signature) + raw

    return sign, zones


def _outside_world(
    zones: dict[tuple[str, str], list[str]],
    ready: Queue[tuple[str, int, str]],
    stop: Event,
    arrived: SynchronizedArray[int],
) -> None:
    """The DNS server, relay and webhook receiver, in a process of their own, so that their
    work does not compete with the load generator for one interpreter's lock. `arrived` counts
    the mails the relay got (forwards, auto-replies) and the webhook calls."""
    with DnsServer(zones) as dns_server, SmtpSink() as relay, HttpReceiver() as receiver:
        ready.put((dns_server.address, relay.port, f"{receiver.url}/hook"))
        while not stop.wait(0.05):
            arrived[0], arrived[1] = len(relay.messages), len(receiver.requests)


@dataclass
class World:
    """What `--all-stages` needs from the outside world."""

    settings: dict[str, str]
    sign: Callable[[bytes], bytes]
    webhook_url: str
    arrived: SynchronizedArray[int]


@contextlib.contextmanager
def every_stage() -> Iterator[World]:
    """Outside world for `--all-stages`: DNS, a relay and a webhook receiver on loopback."""
    sign, zones = dkim_signer()
    ready: Queue[tuple[str, int, str]] = multiprocessing.Queue()
    stop = multiprocessing.Event()
    arrived = multiprocessing.Array("i", 2)
    world = multiprocessing.Process(target=_outside_world, args=(zones, ready, stop, arrived), daemon=True)
    world.start()
    try:
        dns_address, relay_port, webhook_url = ready.get(timeout=30)
        env = {
            "ENABLE_CHECK_JUNK_MAIL": "true",
            "DNS_RESOLVER": dns_address,
            "BLACK_LIST": "spammer.example",
            "REMOVE_EXCEED_SIZE_ATTACHMENT": "true",
            "ENABLE_MAIL_GZIP": "true",
            "FORWARD_ADDRESS_LIST": "archive@else.example",
            "SMTP_CONFIG": json.dumps({"test.example": {"host": "127.0.0.1", "port": relay_port}}),
            "ENABLE_AUTO_REPLY": "true",
            "ENABLE_WEBHOOK": "true",
        }
        yield World(env, sign, webhook_url, arrived)
    finally:
        stop.set()
        world.join(10)


def configure_every_stage(server: Server, created: list[dict[str, str]], webhook_url: str) -> None:
    """The settings kept in the database: an auto-reply per address and the mail webhook."""
    for address in created:
        server.with_jwt(
            "POST",
            "/api/auto_reply",
            address["jwt"],
            json={"auto_reply": {"subject": "Away", "message": "Back soon.", "enabled": True}},
        )
    server.admin("POST", "/admin/mail_webhook/settings", json={"enabled": True, "url": webhook_url})


def message(to: str, n: int) -> bytes:
    """A realistic ~3 KB mail: text and HTML alternatives, the usual headers."""
    msg = EmailMessage()
    msg["From"] = "Example Service <no-reply@service.example>"
    msg["To"] = to
    msg["Subject"] = f"Your verification code #{n}"
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@service.example>"
    msg.set_content(PARAGRAPH * 5)
    msg.add_alternative(f"<html><body><p>{PARAGRAPH * 5}</p></body></html>", subtype="html")
    return msg.as_bytes(policy=SMTP)


class SmtpClient:
    """A minimal SMTP client for load: every transaction is encoded before the clock starts, so
    the load generator, which shares the machine with the server, spends as little CPU per mail
    as it can (aiosmtplib took ~1 ms of it per mail, about half of what the server takes).
    It still speaks plain SMTP, one command and its reply at a time, as a sender would."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port: int) -> SmtpClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer)
        await client.expect(b"220")
        await client.command(b"EHLO bench.example\r\n", b"250")
        return client

    async def expect(self, code: bytes) -> None:
        """Read one (possibly multi-line) reply; raise unless it has `code`."""
        while True:
            line = await self.reader.readline()
            if not line.startswith(code):
                raise RuntimeError(f"expected {code.decode()}, got {line!r}")
            if line[3:4] != b"-":
                return

    async def command(self, line: bytes, code: bytes) -> None:
        self.writer.write(line)
        await self.expect(code)

    async def send(self, transaction: Transaction) -> None:
        await self.command(transaction.mail_from, b"250")
        await self.command(transaction.rcpt_to, b"250")
        await self.command(b"DATA\r\n", b"354")
        await self.command(transaction.data, b"250")

    async def close(self) -> None:
        await self.command(b"QUIT\r\n", b"221")
        self.writer.close()
        await self.writer.wait_closed()


@dataclass(frozen=True, slots=True)
class Transaction:
    """One mail's SMTP commands, encoded: envelope lines and the dot-stuffed DATA."""

    mail_from: bytes
    rcpt_to: bytes
    data: bytes

    @classmethod
    def of(cls, sender: str, recipient: str, raw: bytes) -> Transaction:
        lines = raw.replace(b"\r\n", b"\n").split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        stuffed = b"".join((b"." + line if line.startswith(b".") else line) + b"\r\n" for line in lines)
        return cls(
            f"MAIL FROM:<{sender}>\r\n".encode(), f"RCPT TO:<{recipient}>\r\n".encode(), stuffed + b".\r\n"
        )


async def session(port: int, transactions: list[Transaction], latencies: list[float]) -> None:
    """One SMTP connection sending its share of the mails back to back."""
    client = await SmtpClient.connect(port)
    for transaction in transactions:
        started = time.perf_counter()
        await client.send(transaction)
        latencies.append(time.perf_counter() - started)
    await client.close()


async def wait_visible(server: Server, jwts: list[str], expected: int) -> None:
    """Poll `/api/mails` until the counts of all addresses add up to `expected`."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        while True:
            total = 0
            for jwt in jwts:
                response = await client.get(
                    "/api/mails?limit=1&offset=0", headers={"Authorization": f"Bearer {jwt}"}
                )
                total += response.json()["count"]
            if total >= expected:
                return
            await asyncio.sleep(0.05)


async def wait_after_store(arrived: SynchronizedArray[int], forwards: int, webhooks: int) -> bool:
    """Wait until the relay got `forwards` mails and the receiver `webhooks` calls; False when
    nothing more arrived for STALL_SECONDS."""
    last, last_change = (-1, -1), time.perf_counter()
    while arrived[0] < forwards or arrived[1] < webhooks:
        now = (arrived[0], arrived[1])
        if now != last:
            last, last_change = now, time.perf_counter()
        elif time.perf_counter() - last_change > STALL_SECONDS:
            return False
        await asyncio.sleep(0.05)
    return True


async def run(server: Server, args: argparse.Namespace, extra: str, world: World | None) -> None:
    n, concurrency, address_count = args.n, args.c, args.addresses
    created = [server.new_address() for _ in range(address_count)]
    if world is not None:
        configure_every_stage(server, created, world.webhook_url)
    mails = [
        (created[i % address_count]["address"], message(created[i % address_count]["address"], i))
        for i in range(n)
    ]
    if world is not None:
        mails = [(to, world.sign(raw)) for to, raw in mails]
    transactions = [Transaction.of("bench@remote.example", to, raw) for to, raw in mails]
    shares = [transactions[i::concurrency] for i in range(concurrency)]
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(session(server.smtp_port, share, latencies) for share in shares))
    accepted = time.perf_counter() - started
    await wait_visible(server, [c["jwt"] for c in created], n)
    visible = time.perf_counter() - started
    size = sum(len(raw) for _, raw in mails) / n
    print(f"backend            {server.backend}")
    print(f"extra settings     {extra or 'none'}")
    print(
        f"mails              {n} x {size / 1024:.1f} KB to {address_count} addresses, {concurrency} sessions"
    )
    print(f"accepted (250)     {n / accepted:8.1f} msgs/s  ({accepted:.2f} s)")
    print(f"visible via API    {n / visible:8.1f} msgs/s  ({visible:.2f} s)")
    if world is not None:
        settings = dict(item.split("=", 1) for item in args.env)
        forwards = n if settings.get("FORWARD_ADDRESS_LIST") else 0
        webhooks = n if settings.get("ENABLE_WEBHOOK") == "true" else 0
        if forwards or webhooks:
            if await wait_after_store(world.arrived, forwards, webhooks):
                done = time.perf_counter() - started
                print(f"forwarded+webhooks {n / done:8.1f} msgs/s  ({done:.2f} s)")
            else:
                arrived = f"{world.arrived[0]} forwards, {world.arrived[1]} webhooks"
                print(f"forwarded+webhooks stalled at {arrived}")
    print(f"SMTP transaction   {describe_latencies(latencies)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=2000, help="mails to send")
    parser.add_argument("-c", type=int, default=8, help="parallel SMTP sessions")
    parser.add_argument("--addresses", type=int, default=10, help="recipient addresses")
    parser.add_argument("--all-stages", action="store_true", help="every receive stage on (see above)")
    server_arguments(parser)
    args = parser.parse_args()
    with contextlib.ExitStack() as outside:
        world, extra = None, " ".join(args.env)
        if args.all_stages:
            world = outside.enter_context(every_stage())
            # `--env` given on the command line wins, so one stage can be switched off again.
            args.env = [f"{key}={value}" for key, value in world.settings.items()] + args.env
            extra = f"every stage on {extra}".strip()
        server = start_server(args)
        try:
            uvloop.run(run(server, args, extra, world))
        finally:
            server.close()


if __name__ == "__main__":
    main()
