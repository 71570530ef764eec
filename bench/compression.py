"""Storage size: how much ENABLE_MAIL_GZIP saves on a corpus of realistic mails.

    python bench/compression.py                      # the test corpora, SQLite
    python bench/compression.py --db postgresql --copies 200 --corpus DIR

Two measurements: the bytes of each raw message against its stored gzip blob (what one row
costs), and the database size after storing the corpus `--copies` times with compression off and
on (what the disk sees, indexes and page overhead included). Prints figures; no thresholds.
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

from _common import Server

CORPORA = [Path(__file__).resolve().parents[1] / "tests" / "inbound" / "codes" / "eml"]


def corpus(folders: list[Path]) -> list[bytes]:
    return [path.read_bytes() for folder in folders for path in sorted(folder.rglob("*.eml"))]


def stored_size(backend: str, mails: list[bytes], copies: int, compress: bool) -> int:
    """Database bytes after seeding the mails `copies` times (through the test route)."""
    server = Server(backend, {"ENABLE_MAIL_GZIP": str(compress).lower()}).start()
    try:
        empty = int(server.admin("GET", "/admin/db_version").json()["database_size"])
        for copy in range(copies):
            for n, raw in enumerate(mails):
                body = {"address": f"c{copy}n{n}@test.example", "raw": raw.decode("utf-8", errors="replace")}
                response = server.admin("POST", "/admin/test/seed_mail", json=body)
                response.raise_for_status()
        return int(server.admin("GET", "/admin/db_version").json()["database_size"]) - empty
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--copies", type=int, default=50, help="times the corpus is stored")
    parser.add_argument("--corpus", type=Path, action="append", help="folder of .eml files (repeatable)")
    args = parser.parse_args()
    mails = corpus(args.corpus or CORPORA)
    raw_total = sum(len(raw) for raw in mails)
    gzip_total = sum(len(gzip.compress(raw, compresslevel=6)) for raw in mails)
    print(f"corpus             {len(mails)} mails, {raw_total / 1024:.1f} KB raw")
    print(f"per row (gzip -6)  {gzip_total / 1024:.1f} KB: {1 - gzip_total / raw_total:.1%} saved")
    plain = stored_size(args.db, mails, args.copies, compress=False)
    packed = stored_size(args.db, mails, args.copies, compress=True)
    print(f"database ({args.db}, corpus x{args.copies})")
    print(f"  ENABLE_MAIL_GZIP=false  {plain / 1024 / 1024:8.2f} MB")
    print(f"  ENABLE_MAIL_GZIP=true   {packed / 1024 / 1024:8.2f} MB: {1 - packed / plain:.1%} saved")


if __name__ == "__main__":
    main()
