"""The push API: how long from an SMTP 250 to the event on an open stream, and how many idle
streams one process holds.

    python bench/push.py --db sqlite                       # one node
    python bench/push.py --db postgresql --nodes 2         # mail to node A, the stream on node B
    python bench/push.py --db sqlite --streams 5000 --only streams

Latency: probe mails are sent one at a time over SMTP to node A while a stream of their address
is open on node B (on A with one node); each latency is from the moment the client has read
the 250 to the moment the stream has delivered the event. Measured at idle, then under the
ingest load of bench/side_by_side.py (smtp-source: 3 000 mails of 10 KB over 8 sessions, to
another address) running at the same time. Streams: a server of one worker, S streams opened on
raw sockets (each a GET of /api/events with its address's JWT, read up to the stream's first
line), and the server's RSS before and after. Needs `apt-get install postfix` (smtp-source).

Prints figures; never passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import smtplib
import subprocess
import threading
import time
import uuid
from pathlib import Path

import httpx

from _common import Server, describe_latencies
from side_by_side import require_tools, tool

LOAD_MAILS = 3000
LOAD_SIZE = 10240
LOAD_SESSIONS = 8


def start(db: str, nodes: int, workers: int) -> list[Server]:
    env = {"LOG_LEVEL": "warning", "SMTP_MAX_CONNECTIONS_PER_IP": "1000"}
    first = Server(db, env, workers=workers).start()
    servers = [first]
    for _ in range(nodes - 1):
        servers.append(Server(db, env, workers=workers, database=first.db).start())
    return servers


def rss_kb(pid: int) -> int:
    """Resident memory of the process and its children (the workers), in KB."""
    pids = [pid, *(int(child) for child in _children(pid))]
    total = 0
    for one in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def _children(pid: int) -> list[str]:
    found: list[str] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += (task / "children").read_text().split()
    return found


class Probe:
    """A stream of one address on `reader`, and probe mails to it through `sender`'s SMTP."""

    def __init__(self, sender: Server, reader: Server) -> None:
        self.sender = sender
        self.reader = reader
        self.address = reader.new_address()
        self.arrived: dict[str, float] = {}
        self.ready = threading.Event()

    async def listen(self, stop: asyncio.Event) -> None:
        headers = {"Authorization": f"Bearer {self.address['jwt']}"}
        async with (
            httpx.AsyncClient(base_url=self.reader.base_url, timeout=None) as client,
            client.stream("GET", "/api/events", headers=headers) as response,
        ):
            self.ready.set()
            lines = response.aiter_lines()
            while not stop.is_set():
                line = await anext(lines)
                if line.startswith("data: ") and '"subject":"probe-' in line:
                    mark = line.split('"subject":"', 1)[1].split('"', 1)[0]
                    self.arrived.setdefault(mark, time.perf_counter())

    def send(self, count: int, pause: float) -> list[float]:
        latencies = []
        with smtplib.SMTP("127.0.0.1", self.sender.smtp_port, timeout=30) as client:
            for _ in range(count):
                mark = f"probe-{uuid.uuid4().hex[:12]}"
                client.sendmail(
                    "probe@remote.example", self.address["address"], f"Subject: {mark}\r\n\r\nx\r\n"
                )
                answered = time.perf_counter()
                deadline = answered + 10
                while mark not in self.arrived and time.perf_counter() < deadline:
                    time.sleep(0.0005)
                if mark in self.arrived:
                    latencies.append(self.arrived[mark] - answered)
                time.sleep(pause)
        return latencies


def latency(servers: list[Server], probes: int, under_load: bool) -> list[float]:
    probe = Probe(servers[0], servers[-1])
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    listener = threading.Thread(target=lambda: loop.run_until_complete(_until(probe, stop)), daemon=True)
    listener.start()
    probe.ready.wait(10)
    time.sleep(0.3)
    load = None
    if under_load:
        box = servers[0].new_address()["address"]
        load = subprocess.Popen(
            [tool("smtp-source"), "-s", str(LOAD_SESSIONS), "-m", str(LOAD_MAILS), "-l", str(LOAD_SIZE),
             "-f", "load@remote.example", "-t", box, f"127.0.0.1:{servers[0].smtp_port}"],
        )  # fmt: skip
        time.sleep(0.2)
    samples = probe.send(probes, 0.005 if under_load else 0.02)
    if load is not None:
        if load.poll() is not None:
            print(f"  (the load ended before the {probes} probes: fewer probes ran under load)")
        load.wait(600)
    loop.call_soon_threadsafe(stop.set)
    print(f"  {len(samples)}/{probes} probes arrived")
    return samples


async def _until(probe: Probe, stop: asyncio.Event) -> None:
    task = asyncio.create_task(probe.listen(stop))
    await stop.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


async def open_streams(server: Server, count: int) -> list[asyncio.StreamWriter]:
    address = server.new_address()
    request = (
        f"GET /api/events HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {address['jwt']}\r\n\r\n"
    ).encode()
    writers = []
    for start in range(0, count, 200):
        pairs = await asyncio.gather(
            *(
                asyncio.open_connection("127.0.0.1", server.http_port)
                for _ in range(start, min(count, start + 200))
            )
        )
        for _, writer in pairs:
            writer.write(request)
        for reader, writer in pairs:
            head = await asyncio.wait_for(reader.readuntil(b"retry: 3000"), 30)
            assert b" 200 " in head.split(b"\r\n", 1)[0], head[:200]
            writers.append(writer)
    return writers


def streams(db: str, count: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    (server,) = start(db, 1, 1)
    try:
        assert server.proc is not None
        time.sleep(1)
        before = rss_kb(server.proc.pid)

        async def hold() -> None:
            writers = await open_streams(server, count)
            await asyncio.sleep(2)
            after = rss_kb(server.proc.pid)  # type: ignore[union-attr]
            each = (after - before) / max(1, len(writers))
            print(
                f"  {len(writers)} idle streams on one process: RSS {before / 1024:.0f} MB -> "
                f"{after / 1024:.0f} MB ({each:.1f} KB a stream)"
            )
            for writer in writers:
                writer.close()

        asyncio.run(hold())
    finally:
        server.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--nodes", type=int, default=1, choices=[1, 2])
    parser.add_argument("--workers", type=int, default=0, help="workers per node (0: one per core)")
    parser.add_argument("--probes", type=int, default=300, help="probe mails per latency figure")
    parser.add_argument("--streams", type=int, default=5000, help="idle streams for the memory figure")
    parser.add_argument("--only", default="latency,streams", help="latency, streams")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if "latency" in only:
        require_tools()
        servers = start(args.db, args.nodes, args.workers)
        try:
            where = "node A, stream on node B" if args.nodes == 2 else "one node"
            print(f"SMTP 250 -> event, {args.db}, {where}, workers {args.workers or 'one per core'}:")
            idle = latency(servers, args.probes, under_load=False)
            print(f"  idle:       {describe_latencies(idle)}")
            loaded = latency(servers, args.probes, under_load=True)
            print(f"  under load: {describe_latencies(loaded)}")
        finally:
            for server in reversed(servers):
                server.close()
    if "streams" in only:
        print(f"idle streams, {args.db}:")
        streams(args.db, args.streams)


if __name__ == "__main__":
    main()
