"""`just bench-load` (bench/load.py) for a couple of seconds against a real server: it prints every figure the
capacity work is judged by and counts what the server answered. Timings are printed, never asserted."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import make_business
from tests.helpers import free_port
from tests.services import start_server, stop_server

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def live_server(migrated_db):
    server, url = start_server({**os.environ, "DATABASE_POOL_MAX": "5"}, free_port())
    yield server, url
    stop_server(server)


def load(migrated_db: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load.py"), "--duration", "2", "--timeout", "60", *args],
        env={**os.environ, "DATABASE_URL": migrated_db},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def figure(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in:\n{text}"
    return int(found.group(1).replace(",", ""))


async def test_paced_users_on_the_page_mix_print_every_figure(db, live_server, migrated_db):
    server, url = live_server
    for i in range(3):
        await make_business(db, slug=f"load-shop-{i}", business_name=f"Load Shop {i}")
    out = load(migrated_db, "--url", url, "--server-pid", str(server.pid), "--users", "20", "--think", "0.2", "--warm")

    assert "paced: 20 users, think 0.2 s" in out and "profile 45 %" in out
    assert figure(r"warming: ([\d,]+) distinct paths asked for once", out) >= 5  # home, 3 profiles, a search…
    answered = figure(r"answered ([\d,]+)", out)
    assert answered > 0
    assert figure(r"requests ([\d,]+):", out) == answered + figure(r"failed ([\d,]+)", out) + figure(
        r"timed out ([\d,]+)", out
    )
    listed = re.search(r"^statuses (.+)$", out, re.MULTILINE).group(1)
    statuses = {int(code): int(n.replace(",", "")) for code, n in re.findall(r"(\d{3}) x ([\d,]+)", listed)}
    assert sum(statuses.values()) == answered and statuses.get(200)
    # once every user has arrived: the same figures for the requests sent after the first think time
    settled = re.search(r"^after the first 0.2 s: 200 x ([\d,]+)[;,].* latency p50 [\d.,]+ ms", out, re.M)
    assert settled and 0 < int(settled.group(1).replace(",", "")) < answered
    assert re.search(r"requests/s [\d.,]+", out)
    assert re.search(r"latency p50 [\d.,]+ ms  p95 [\d.,]+ ms  p99 [\d.,]+ ms  max [\d.,]+ ms", out)
    # the server's tree: the Granian main process and its worker, each with its RSS
    assert re.search(r"server RSS peak \d+ MiB, last \d+ MiB \(per process, MiB: \d+: peak \d+ / last \d+, \d+:", out)
    assert figure(r"peak DB connections (\d+) to the database", out) >= 1
    assert re.search(r"client CPU [\d.]+ s in 1 process\(es\)", out)


async def test_flood_counts_each_status_and_the_failures(db, live_server, migrated_db):
    _server, url = live_server
    await make_business(db, slug="load-shop", business_name="Load Shop")
    paths = ["--path", "/b/load-shop", "--path", "/b/no-such"]
    out = load(migrated_db, "--url", url, "--flood", "--connections", "4", *paths)
    listed = re.search(r"^statuses (.+)$", out, re.MULTILINE).group(1)
    statuses = {int(code): int(n.replace(",", "")) for code, n in re.findall(r"(\d{3}) x ([\d,]+)", listed)}
    assert set(statuses) == {200, 404}, out
    assert sum(statuses.values()) == figure(r"answered ([\d,]+)", out)
    assert figure(r"not 200/304 ([\d,]+)", out) == statuses[404]
    assert figure(r"failed ([\d,]+)", out) == 0 and figure(r"timed out ([\d,]+)", out) == 0
    # a newcomer on a new connection every 0.2 s, from the parent process, asks for the same paths
    newcomer = re.search(r"^newcomer every 0.2 s \(own process, new connection\): (.+); failed 0", out, re.MULTILINE)
    assert newcomer and set(re.findall(r"(\d{3}) x", newcomer.group(1))) <= {"200", "404"}

    # nobody listening on the port: every request fails, and says how
    closed = f"http://127.0.0.1:{free_port()}"
    out = load(migrated_db, "--url", closed, "--flood", "--connections", "2", "--path", "/")
    assert figure(r"answered ([\d,]+)", out) == 0 and "statuses none" in out
    assert figure(r"failed ([\d,]+)", out) > 0 and "ConnectError x" in out
