"""Shared by the benchmarks: argument parsing, a server to measure, and latency summaries."""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes import dkim_key
from tests.fakes.dns_server import DnsServer
from tests.fakes.http_receiver import HttpReceiver
from tests.fakes.smtp_sink import SmtpSink
from tests.support import JWT_SECRET, Server

__all__ = [
    "JWT_SECRET",
    "DnsServer",
    "HttpReceiver",
    "Server",
    "SmtpSink",
    "describe_latencies",
    "dkim_key",
    "server_arguments",
    "start_server",
]


def server_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite", help="storage backend")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra server setting (repeatable), e.g. --env ENABLE_MAIL_GZIP=true",
    )


def start_server(args: argparse.Namespace) -> Server:
    """A fresh server on free loopback ports with its own empty database."""
    env = dict(item.split("=", 1) for item in args.env)
    return Server(args.db, {"LOG_LEVEL": "warning", **env}).start()


def percentile(samples: list[float], fraction: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def describe_latencies(samples: list[float]) -> str:
    """p50 / p99 / max in milliseconds."""
    if not samples:
        return "no samples"
    return (
        f"p50 {percentile(samples, 0.50) * 1000:.1f} ms, p99 {percentile(samples, 0.99) * 1000:.1f} ms, "
        f"max {max(samples) * 1000:.1f} ms, mean {statistics.fmean(samples) * 1000:.1f} ms"
    )
