"""Ingest: N mails over C parallel SMTP sessions; msgs/s accepted, and until all are readable.

    python bench/ingest.py --db sqlite -n 2000 -c 8
    python bench/ingest.py --db postgresql -n 2000 -c 8 --env ENABLE_MAIL_GZIP=true

Prints figures; never passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from email.message import EmailMessage
from email.policy import SMTP

import aiosmtplib
import httpx

from _common import Server, describe_latencies, server_arguments, start_server

PARAGRAPH = (
    "Thank you for signing up. Your verification code is 482913; it expires in ten minutes. If you did "
    "not ask for this code, you can ignore this message. This is an automated message, please do not "
    "reply to it. "
)


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


async def session(port: int, jobs: list[tuple[str, bytes]], latencies: list[float]) -> None:
    """One SMTP connection sending its share of the mails back to back."""
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=60) as client:
        for recipient, raw in jobs:
            started = time.perf_counter()
            await client.sendmail("bench@remote.example", [recipient], raw)
            latencies.append(time.perf_counter() - started)


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


async def run(server: Server, n: int, concurrency: int, address_count: int, extra: str) -> None:
    created = [server.new_address() for _ in range(address_count)]
    mails = [
        (created[i % address_count]["address"], message(created[i % address_count]["address"], i))
        for i in range(n)
    ]
    shares = [mails[i::concurrency] for i in range(concurrency)]
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
    print(f"SMTP transaction   {describe_latencies(latencies)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=2000, help="mails to send")
    parser.add_argument("-c", type=int, default=8, help="parallel SMTP sessions")
    parser.add_argument("--addresses", type=int, default=10, help="recipient addresses")
    server_arguments(parser)
    args = parser.parse_args()
    server = start_server(args)
    try:
        asyncio.run(run(server, args.n, args.c, args.addresses, " ".join(args.env)))
    finally:
        server.close()


if __name__ == "__main__":
    main()
