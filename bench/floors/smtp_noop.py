"""The floor of the ingest figure: aiosmtpd on uvloop whose DATA handler only answers `250 OK`.

The same SMTP protocol code tempmail runs (aiosmtpd's `SMTP`, one process, our own
`create_server`, no `Controller` thread), minus everything tempmail does with a mail: its
msgs/s is what the SMTP dialogue alone costs here.

    python bench/floors/smtp_noop.py --port 2525
"""

from __future__ import annotations

import argparse
import asyncio

import uvloop
from aiosmtpd.smtp import SMTP, Envelope, Session

# What tempmail passes too: a fixed name (no getfqdn per session) and its size limit.
HOSTNAME = "floor.bench.example"
MAX_MESSAGE_SIZE = 26_214_400


class NoopHandler:
    """Accepts every message and drops it."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 OK"


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    handler = NoopHandler()

    def protocol() -> SMTP:
        return SMTP(
            handler,
            hostname=HOSTNAME,
            data_size_limit=MAX_MESSAGE_SIZE,
            enable_SMTPUTF8=True,
            decode_data=False,
            loop=loop,
        )

    server = await loop.create_server(protocol, host=host, port=port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description="SMTP floor: 250 OK to every message")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvloop.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
