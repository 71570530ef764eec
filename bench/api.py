"""Read API under load: `/api/mails?limit=20` over 100 000 stored mails in 1 000 addresses.

    python bench/api.py --db sqlite
    python bench/api.py --db postgresql --mails 100000 --addresses 1000 -c 16 -d 15

The database is filled by a bulk insert through tempmail's own table definitions, then C
concurrent clients read random addresses' first pages for D seconds. Prints figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import subprocess
import tempfile
import time

import httpx
from sqlalchemy import insert

from _common import JWT_SECRET, Server, describe_latencies, server_arguments, start_server
from tempmail.db.engine import Database
from tempmail.db.mails import encode_raw
from tempmail.db.tables import address, raw_mails
from tempmail.security.tokens import Tokens

BATCH = 5000
BODY = ("Hello, this is a message body of a realistic size, with a few sentences of text in it. " * 18)[:1600]


def raw_mail(to: str, n: int) -> bytes:
    return (
        f"From: Sender {n % 97} <sender{n % 97}@remote.example>\r\nTo: {to}\r\n"
        f"Subject: Message number {n}\r\n"
        f"Message-ID: <{n}.bench@remote.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{BODY}\r\n"
    ).encode()


async def fill(url: str, mail_count: int, address_count: int) -> list[str]:
    """Insert the addresses and mails; return one address JWT per address."""
    db = Database(url)
    tokens = Tokens(JWT_SECRET)
    names = [f"bench{i}@test.example" for i in range(address_count)]
    try:
        async with db.engine.begin() as conn:
            await conn.execute(insert(address), [{"name": name, "source_meta": "bench"} for name in names])
            rows = (await conn.execute(address.select().where(address.c.source_meta == "bench"))).all()
        ids = {row.name: row.id for row in rows}
        for start in range(0, mail_count, BATCH):
            batch = []
            for n in range(start, min(start + BATCH, mail_count)):
                to = names[n % address_count]
                text, blob = encode_raw(raw_mail(to, n), compress=False)
                batch.append(
                    {
                        "message_id": f"<{n}.bench@remote.example>",
                        "source": "s@remote.example",
                        "address": to,
                        "raw": text,
                        "raw_blob": blob,
                    }
                )
            async with db.engine.begin() as conn:
                await conn.execute(insert(raw_mails), batch)
    finally:
        await db.close()
    return [tokens.address_jwt(name, ids[name]) for name in names]


async def load(server: Server, jwts: list[str], concurrency: int, seconds: float, offset: int) -> None:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    rng = random.Random(42)

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            jwt = rng.choice(jwts)
            started = time.perf_counter()
            response = await client.get(
                f"/api/mails?limit=20&offset={offset}", headers={"Authorization": f"Bearer {jwt}"}
            )
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200 or len(response.json()["results"]) != 20:
                errors += 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    print(
        f"  c={concurrency:<3} offset={offset:<4} {len(latencies) / elapsed:8.1f} req/s   "
        f"{describe_latencies(latencies)}   errors {errors}"
    )


def load_with_wrk(server: Server, jwts: list[str], concurrency: int, seconds: float, offset: int) -> None:
    """The same measurement with wrk (C, Debian's `wrk`), whose own CPU cost is far lower than an
    async Python client's: on a small machine the client is otherwise part of what is measured."""
    tokens = ", ".join(f'"{jwt}"' for jwt in jwts)
    script = (
        f"local tokens = {{{tokens}}}\nmath.randomseed(42)\n"
        "request = function()\n"
        "  local token = tokens[math.random(#tokens)]\n"
        f'  return wrk.format("GET", "/api/mails?limit=20&offset={offset}", '
        '{["Authorization"] = "Bearer " .. token})\nend\n'
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        result = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{concurrency}",
                f"-d{int(seconds)}s",
                "--latency",
                "-s",
                lua.name,
                server.base_url,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    wanted = ("Requests/sec", "50%", "99%", "Non-2xx", "Socket errors")
    figures = [
        " ".join(line.split()) for line in result.stdout.splitlines() if line.strip().startswith(wanted)
    ]
    print(f"  wrk c={concurrency:<3} offset={offset:<4} " + " | ".join(figures))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mails", type=int, default=100_000)
    parser.add_argument("--addresses", type=int, default=1_000)
    parser.add_argument("-c", type=int, default=16, help="concurrent clients")
    parser.add_argument("-d", type=float, default=15, help="seconds per measurement")
    server_arguments(parser)
    args = parser.parse_args()
    server = start_server(args)
    try:
        started = time.perf_counter()
        jwts = asyncio.run(fill(server.db.url, args.mails, args.addresses))
        print(
            f"backend {server.backend}: {args.mails} mails over {args.addresses} addresses "
            f"inserted in {time.perf_counter() - started:.1f} s"
        )
        later_page = min(80, args.mails // args.addresses - 20)
        print("GET /api/mails?limit=20 (httpx.AsyncClient)")
        asyncio.run(load(server, jwts, 1, args.d, 0))
        asyncio.run(load(server, jwts, args.c, args.d, 0))
        asyncio.run(load(server, jwts, args.c, args.d, later_page))
        if shutil.which("wrk"):
            print("GET /api/mails?limit=20 (wrk)")
            for concurrency, offset in ((1, 0), (args.c, 0), (args.c, later_page)):
                load_with_wrk(server, jwts, concurrency, args.d, offset)
    finally:
        server.close()


if __name__ == "__main__":
    main()
