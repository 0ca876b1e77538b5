"""Load generator: many users (or connections) on a mixed page set, from client processes of their own.

    DATABASE_URL=postgresql://…/servicerw_bench python bench/load.py --start                  # paced users
    DATABASE_URL=… python bench/load.py --start --flood --connections 5000 --duration 30      # flood
    DATABASE_URL=… python bench/load.py --url http://127.0.0.1:8000 --server-pid 1234          # a running server

Two modes:
- paced (default): --users N users (default 5,000), each looping: ask for a page of the mix, then think
  --think T seconds (default 10, jittered ±50 %); they start spread over the first T seconds. Offered load
  ≈ N / T requests a second.
- flood (--flood): --connections N connections, each asking for the next page as soon as it has the last.

The page mix comes from DATABASE_URL (the server's database, read only): the home page, profiles /b/SLUG,
searches /search?q=WORDS (names, words of names, a category or district filter), category pages /c/SLUG and
place pages /p/SLUG, sampled with a fixed seed. Requests ask for brotli like a browser; bodies are read but
not decoded (the client's CPU goes to HTTP, not to decompression).

Runs --duration seconds (default 60), then waits for the requests in flight (up to --timeout, default 30 s:
a request not answered by then counts as timed out). Prints requests/s, counts per status, p50/p95/p99/max
(ms, answered requests of any status), failed requests (connection errors, by kind) and timeouts, the
server's RSS (peak and last, sum and per process, from /proc for the server's process tree: --server-pid, or
the processes running `servicerw serve`/granian), its CPU, the peak connections to the database (and to
the whole PostgreSQL server) from pg_stat_activity, and the client's own CPU (it shares the machine); and the
statuses and latencies of the requests sent after the first --think seconds (paced: once every user has
arrived). --warm first asks for every path of the mix once (a site that has been up a while: its page cache
holds them); without it the first pass over the mix is all cache misses.

--start starts `servicerw serve --workers 2` on a free port with DATABASE_URL and a redis-server of its own
(WEB_BACKGROUND=false unless set: no background writers on a shared benchmark database), and stops both
at the end. --processes splits the users/connections over several client processes (default: 1 per 2,500
users or connections, at most the CPU count).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import asyncpg
import httpx
from stats import pct

PAGE_WEIGHTS = {"home": 10, "profile": 45, "search": 20, "category": 15, "place": 10}
HEADERS = {
    "accept": "text/html,application/xhtml+xml",
    "accept-language": "en",
    "accept-encoding": "br, gzip",
    "user-agent": "servicerw-bench-load",
}


# --- the page mix -----------------------------------------------------------------------------------


async def page_mix(dsn: str, weights: dict[str, int], size: int = 2000, seed: int = 15) -> list[str]:
    """`size` paths drawn from the database, page kinds in proportion to `weights` (a fixed seed: runs compare)."""
    rng = random.Random(seed)
    conn = await asyncpg.connect(dsn)
    try:
        live = "FROM businesses WHERE status = 'approved' AND is_active"
        slugs = [r[0] for r in await conn.fetch(f"SELECT slug {live} ORDER BY random() LIMIT 3000")]
        names = [r[0] for r in await conn.fetch(f"SELECT business_name {live} ORDER BY random() LIMIT 500")]
        categories = [r[0] for r in await conn.fetch("SELECT slug FROM categories ORDER BY id")]
        places = [r[0] for r in await conn.fetch("SELECT slug FROM locations WHERE level <> 'cell' ORDER BY id")]
        districts = [r[0] for r in await conn.fetch("SELECT slug FROM locations WHERE level = 'district' ORDER BY id")]
    finally:
        await conn.close()
    if not slugs:
        raise SystemExit("no approved businesses in DATABASE_URL: seed it (servicerw seed --businesses 20000)")

    def search() -> str:
        name = rng.choice(names)
        words = name.split()
        choice = rng.random()
        if choice < 0.3:
            params = {"q": name}
        elif choice < 0.6:
            params = {"q": rng.choice(words)}
        elif choice < 0.8:
            params = {"q": rng.choice(words), "category": rng.choice(categories)}
        else:
            params = {"q": " ".join(words[:2]), "district": rng.choice(districts)}
        return "/search?" + urlencode(params)

    makers = {
        "home": lambda: "/",
        "profile": lambda: f"/b/{rng.choice(slugs)}",
        "search": search,
        "category": lambda: f"/c/{rng.choice(categories)}",
        "place": lambda: f"/p/{rng.choice(places)}",
    }
    kinds = rng.choices(list(weights), weights=list(weights.values()), k=size)
    return [makers[kind]() for kind in kinds]


# --- the client processes ---------------------------------------------------------------------------


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)  # ms, every answered request
    settled: list[float] = field(default_factory=list)  # ms, those sent after the first --think seconds
    settled_statuses: Counter = field(default_factory=Counter)
    connects: list[float] = field(default_factory=list)  # ms to open each new connection (part of the latency)
    after_connect: list[float] = field(default_factory=list)  # ms from the open connection to the answer
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)  # no answer: connection refused/reset, protocol error...
    timeouts: int = 0
    answered_in_window: int = 0  # answers received before --duration was over (for requests/s)
    cpu: float = 0.0  # seconds of CPU used by the client process
    probe: Result | None = None  # the newcomer every 0.2 s (`probe`)

    def add(self, other: Result) -> None:
        self.latencies += other.latencies
        self.settled += other.settled
        self.settled_statuses += other.settled_statuses
        self.connects += other.connects
        self.after_connect += other.after_connect
        self.statuses += other.statuses
        self.errors += other.errors
        self.timeouts += other.timeouts
        self.answered_in_window += other.answered_in_window
        self.cpu += other.cpu


def raise_open_files() -> int:
    """Each connection is a file descriptor: lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Connection:
    """One keep-alive HTTP/1.1 connection, as a browser holds one per site. Hand-written (a few lines of the
    protocol) because a client library's shared pool scans its connections on every request: with 5,000 of
    them httpx spent ~12 ms of CPU per request and the client, not the server, set the pace."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.head = "".join(f"{name}: {value}\r\n" for name, value in HEADERS.items()) + f"host: {host}:{port}\r\n"
        self.connected_ms: float | None = None  # how long the last new connection took to open

    async def get(self, path: str) -> int:
        """The answer's status; its body is read and dropped. Connection errors close it (the next request
        opens a new one) and propagate."""
        try:
            self.connected_ms = None
            if self.writer is None:
                opening = time.monotonic()
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
                self.connected_ms = (time.monotonic() - opening) * 1000
            self.writer.write(f"GET {path} HTTP/1.1\r\n{self.head}\r\n".encode())
            status_line = await self.reader.readline()
            if not status_line:
                raise ConnectionResetError("the server closed the connection")
            status = int(status_line.split()[1])
            length, chunked, close = None, False, False
            while (line := await self.reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding":
                    chunked = b"chunked" in value
                elif name == b"connection":
                    close = value == b"close"
            if chunked:
                while size := int((await self.reader.readline()).split(b";")[0], 16):
                    await self.reader.readexactly(size + 2)
                await self.reader.readline()  # the empty line after the last chunk
            elif length is not None:
                await self.reader.readexactly(length)
            else:
                await self.reader.read()
                close = True
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def ask(connection: Connection, path: str, limit: float, result: Result) -> tuple[int, float, float] | None:
    """One request: its status, when it was sent and when answered (its latency and status are counted in
    `result`), or None once a timeout or a failure is counted there instead."""
    sent = time.monotonic()
    try:
        async with asyncio.timeout(limit):
            status = await connection.get(path)
    except TimeoutError:
        result.timeouts += 1
        return None
    except ConnectionRefusedError:
        result.errors["ConnectError"] += 1
        await asyncio.sleep(0.05)  # as a browser would not hammer a closed port
        return None
    except (OSError, EOFError, ValueError, asyncio.IncompleteReadError) as error:
        result.errors[type(error).__name__] += 1
        return None
    answered = time.monotonic()
    result.latencies.append((answered - sent) * 1000)
    result.statuses[status] += 1
    return status, sent, answered


def counted(statuses: Counter) -> str:
    return ", ".join(f"{code} x {n:,}" for code, n in sorted(statuses.items()))


def spread(values: list[float]) -> str:
    return (
        f"p50 {pct(values, 50):,.1f} ms  p95 {pct(values, 95):,.1f} ms  "
        f"p99 {pct(values, 99):,.1f} ms  max {max(values):,.1f} ms"
    )


async def drive(options: dict, paths: list[str], seed: int) -> Result:
    """One process's share: `options["users"]` paced users or `options["connections"]` flooding connections."""
    rng = random.Random(seed)
    order = itertools.cycle(paths)  # the mix is in random order already; --path ones in turn
    result = Result()
    flood = options["flood"]
    count = options["connections"] if flood else options["users"]
    think, duration, timeout = options["think"], options["duration"], options["timeout"]
    started = time.monotonic()
    ends = started + duration
    target = urlsplit(options["url"])
    host, port = target.hostname or "127.0.0.1", target.port or 80

    async def one(connection: Connection, path: str) -> None:
        asked = await ask(connection, path, timeout, result)
        if asked is None:
            return
        status, sent, answered = asked
        if connection.connected_ms is not None:
            result.connects.append(connection.connected_ms)
        result.after_connect.append((answered - sent) * 1000 - (connection.connected_ms or 0))
        if sent - started > think:  # the users have all arrived (paced) / past the first seconds (flood)
            result.settled.append((answered - sent) * 1000)
            result.settled_statuses[status] += 1
        if answered <= ends:
            result.answered_in_window += 1

    async def user() -> None:
        connection = Connection(host, port)
        await asyncio.sleep(rng.uniform(0, think))  # arrivals spread over the first think time
        while time.monotonic() < ends:
            await one(connection, next(order))
            await asyncio.sleep(think * rng.uniform(0.5, 1.5))
        connection.close()

    async def flooding() -> None:
        connection = Connection(host, port)
        while time.monotonic() < ends:
            await one(connection, next(order))
        connection.close()

    await asyncio.gather(*((flooding if flood else user)() for _ in range(count)))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result.cpu = usage.ru_utime + usage.ru_stime
    return result


def client_process(options: dict, paths: list[str], seed: int, results) -> None:
    raise_open_files()
    try:
        results.put(asyncio.run(drive(options, paths, seed)))
    except BaseException as error:  # the parent reports it instead of waiting forever
        results.put(error)
        raise


# --- sampling the server ----------------------------------------------------------------------------


def _proc_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of `pid`, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks


def _rss_mib(pid: int) -> float:
    try:
        for row in Path(f"/proc/{pid}/status").read_text().splitlines():
            if row.startswith("VmRSS:"):
                return int(row.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def server_tree(root: int) -> list[int]:
    """`root` and all its descendants."""
    children: dict[int, list[int]] = {}
    for pid in _all_pids():
        stat = _proc_stat(pid)
        if stat:
            children.setdefault(stat[0], []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def find_server(port: int) -> int | None:
    """The oldest process whose command line says `servicerw serve` (or granian) with this port."""
    found = []
    for pid in _all_pids():
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        text = b" ".join(argv).decode(errors="replace")
        if ("servicerw serve" in text or "granian" in text) and str(port) in text and pid != os.getpid():
            found.append(pid)
    return min(found) if found else None


@dataclass
class ServerSample:
    peak_rss: dict[int, float] = field(default_factory=dict)  # pid -> MiB
    last_rss: dict[int, float] = field(default_factory=dict)
    peak_total: float = 0.0
    cpu_start: float = 0.0
    cpu_end: float = 0.0
    peak_db: int = 0  # connections to DATABASE_URL's database
    peak_db_all: int = 0  # connections to the whole PostgreSQL server
    max_connections: int = 0


async def sample_server(server_pid: int | None, dsn: str, stop: asyncio.Event, every: float = 0.5) -> ServerSample:
    sample = ServerSample()
    conn = await asyncpg.connect(dsn)
    try:
        sample.max_connections = int(await conn.fetchval("SHOW max_connections"))
        database = await conn.fetchval("SELECT current_database()")
        first = True
        while True:
            if server_pid:
                pids = server_tree(server_pid)
                rss = {pid: _rss_mib(pid) for pid in pids}
                rss = {pid: mib for pid, mib in rss.items() if mib}
                cpu = sum((_proc_stat(pid) or (0, 0.0))[1] for pid in pids)
                if first:
                    sample.cpu_start = cpu
                sample.cpu_end = max(sample.cpu_end, cpu)
                sample.last_rss = rss
                for pid, mib in rss.items():
                    sample.peak_rss[pid] = max(sample.peak_rss.get(pid, 0.0), mib)
                sample.peak_total = max(sample.peak_total, sum(rss.values()))
            row = await conn.fetchrow(
                """SELECT count(*) FILTER (WHERE datname = $1) AS db, count(*) AS all_
                   FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()""",
                database,
            )
            sample.peak_db = max(sample.peak_db, row["db"])
            sample.peak_db_all = max(sample.peak_db_all, row["all_"])
            first = False
            if stop.is_set():
                return sample
            try:
                await asyncio.wait_for(stop.wait(), every)
            except TimeoutError:
                pass
    finally:
        await conn.close()


# --- starting a server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(dsn: str, workers: int, log: Path) -> tuple[subprocess.Popen, subprocess.Popen | None, str]:
    """`servicerw serve` on a free port with a redis-server of its own; returns them and the base URL."""
    env = {**os.environ, "DATABASE_URL": dsn}
    env.setdefault("WEB_BACKGROUND", "false")
    valkey = None
    binary = shutil.which("valkey-server") or shutil.which("redis-server")
    if binary and not os.environ.get("VALKEY_URL"):
        valkey_port = free_port()
        valkey = subprocess.Popen(
            [binary, "--port", str(valkey_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        env["VALKEY_URL"] = f"redis://127.0.0.1:{valkey_port}/0"
    port = free_port()
    servicerw = Path(sys.executable).with_name("servicerw")
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(servicerw), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return server, valkey, url
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            stop_processes(server, valkey)
            raise SystemExit(f"the server exited with code {server.returncode}; its log: {log}")
        time.sleep(0.3)
    stop_processes(server, valkey)
    raise SystemExit(f"the server did not get ready in 120 s; its log: {log}")


def stop_processes(server: subprocess.Popen | None, valkey: subprocess.Popen | None) -> None:
    if server is not None and server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    if valkey is not None and valkey.poll() is None:
        valkey.terminate()
        valkey.wait(10)


# --- the report -------------------------------------------------------------------------------------


def report(args, total: Result, sample: ServerSample, wall: float, client_cpu: float, processes: int) -> None:
    answered = len(total.latencies)
    failed = sum(total.errors.values())
    issued = answered + failed + total.timeouts
    print(f"requests {issued:,}: answered {answered:,}, failed {failed:,}, timed out {total.timeouts:,}")
    print(f"requests/s {total.answered_in_window / args.duration:,.1f} (answered within the {args.duration:g} s)")
    statuses = counted(total.statuses)
    print(f"statuses {statuses or 'none'}")
    non_ok = sum(n for code, n in total.statuses.items() if code not in (200, 304))
    print(f"not 200/304 {non_ok:,}; failed (no answer) {failed:,}; timed out (> {args.timeout:g} s) {total.timeouts:,}")
    if total.errors:
        print("failures " + ", ".join(f"{name} x {n:,}" for name, n in total.errors.most_common()))
    if answered:
        print(f"latency {spread(total.latencies)}")
    if total.connects:
        print(f"new connections {len(total.connects):,}, time to connect {spread(total.connects)}")
        print(f"latency once connected {spread(total.after_connect)}")
    if total.probe and total.probe.latencies:
        probed = total.probe
        statuses = counted(probed.statuses)
        print(
            f"newcomer every 0.2 s (own process, new connection): {statuses}; failed {sum(probed.errors.values())}, "
            f"timed out {probed.timeouts}; latency {spread(probed.latencies)}"
        )
    if total.settled:
        statuses = counted(total.settled_statuses)
        print(f"after the first {args.think:g} s: {statuses}; latency {spread(total.settled)}")
    if sample.peak_rss:
        per = ", ".join(
            f"{pid}: peak {sample.peak_rss[pid]:,.0f} / last {sample.last_rss.get(pid, 0):,.0f}"
            for pid in sorted(sample.peak_rss)
        )
        print(
            f"server RSS peak {sample.peak_total:,.0f} MiB, last {sum(sample.last_rss.values()):,.0f} MiB "
            f"(per process, MiB: {per})"
        )
        server_cpu = sample.cpu_end - sample.cpu_start
        print(f"server CPU {server_cpu:,.1f} s ({server_cpu / wall * 100:,.0f} % of one core)")
    else:
        print("server RSS not sampled (no --server-pid and no `servicerw serve` process found for the URL's port)")
    print(
        f"peak DB connections {sample.peak_db} to the database, {sample.peak_db_all} to the server "
        f"(max_connections {sample.max_connections})"
    )
    print(
        f"client CPU {client_cpu:,.1f} s in {processes} process(es) + sampler "
        f"({client_cpu / wall * 100:,.0f} % of one core; {os.cpu_count()} CPUs shared with the server)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="the server (default with --start: the one started)")
    parser.add_argument("--start", action="store_true", help="start `servicerw serve` and a redis-server")
    parser.add_argument("--workers", type=int, default=2, help="with --start: server worker processes")
    parser.add_argument("--server-pid", type=int, help="the server's main process (RSS and CPU of its tree)")
    parser.add_argument("--flood", action="store_true", help="N connections as fast as they can")
    parser.add_argument("--users", type=int, default=5000, help="paced users")
    parser.add_argument("--think", type=float, default=10.0, help="seconds each user waits between pages")
    parser.add_argument("--connections", type=int, default=64, help="with --flood")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--timeout", type=float, default=30.0, help="a request unanswered this long times out")
    parser.add_argument("--processes", type=int, default=0, help="client processes (0: 1 per 2,500, up to CPUs)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--pages", default=",".join(PAGE_WEIGHTS), help="page kinds of the mix, comma-separated")
    parser.add_argument("--path", action="append", default=[], help="ask for these paths only (repeatable)")
    parser.add_argument(
        "--warm", action="store_true", help="ask for every path of the mix once before (a running site's caches)"
    )
    args = parser.parse_args()
    dsn = os.environ.get("DATABASE_URL")
    if not dsn:
        raise SystemExit("DATABASE_URL is required: the page mix is drawn from the server's database")
    if not args.start and not args.url:
        raise SystemExit("give --url of a running server, or --start")

    limit = raise_open_files()
    kinds = [kind.strip() for kind in args.pages.split(",") if kind.strip()]
    if not set(kinds) <= set(PAGE_WEIGHTS) or not kinds:
        raise SystemExit(f"--pages: choose among {', '.join(PAGE_WEIGHTS)}")
    weights = {kind: PAGE_WEIGHTS[kind] for kind in kinds}
    paths = args.path or asyncio.run(page_mix(dsn, weights, seed=args.seed))
    server = valkey = None
    log = Path(tempfile.gettempdir()) / f"bench-load-server-{os.getpid()}.log"
    if args.start:
        server, valkey, args.url = start_server(dsn, args.workers, log)
    try:
        server_pid = args.server_pid or (server.pid if server else find_server(urlsplit(args.url).port or 80))
        count = args.connections if args.flood else args.users
        processes = args.processes or max(1, min(os.cpu_count() or 1, -(-count // 2500)))
        mode = (
            f"flood: {args.connections:,} connections"
            if args.flood
            else f"paced: {args.users:,} users, think {args.think:g} s (offered ≈ {args.users / args.think:,.0f}/s)"
        )
        print(
            f"{mode}, {args.duration:g} s, timeout {args.timeout:g} s, {processes} client process(es), "
            f"open files {limit:,}; {args.url}{' (started, log ' + str(log) + ')' if server else ''}; "
            + (
                f"paths {', '.join(args.path)}"
                if args.path
                else f"mix of {len(paths):,} paths: "
                + ", ".join(f"{kind} {weight * 100 / sum(weights.values()):g} %" for kind, weight in weights.items())
            )
        )
        if args.warm:
            print(f"warming: {asyncio.run(warm(args.url, paths)):,} distinct paths asked for once", flush=True)
        sys.stdout.flush()
        total, sample, wall, client_cpu = asyncio.run(run(args, paths, processes, server_pid, dsn))
        report(args, total, sample, wall, client_cpu, processes)
    finally:
        stop_processes(server, valkey)


async def probe(url: str, paths: list[str], stop: asyncio.Event, limit: float, every: float = 0.2) -> Result:
    """One visitor arriving every `every` seconds on a new connection, from this (mostly idle) process: what a
    newcomer meets while the load runs, without the load's own clients' CPU in the way (they share the cores
    with the server, and a client process juggling thousands of sockets answers its own sockets late)."""
    target = urlsplit(url)
    result = Result()
    order = itertools.cycle(paths[::7] or paths)
    while not stop.is_set():
        connection = Connection(target.hostname or "127.0.0.1", target.port or 80)
        await ask(connection, next(order), limit, result)
        connection.close()
        try:
            await asyncio.wait_for(stop.wait(), every)
        except TimeoutError:
            pass
    return result


async def warm(url: str, paths: list[str], concurrency: int = 4) -> int:
    """Every distinct path once, as the measured run asks for it (a site that has been up a while has them
    in its page cache; without this the first pass over the mix is all cache misses)."""
    todo = list(dict.fromkeys(paths))
    count = len(todo)
    async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=60) as client:

        async def worker() -> None:
            while todo:
                await client.get(todo.pop())

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count


async def run(args, paths: list[str], processes: int, server_pid: int | None, dsn: str):
    count = args.connections if args.flood else args.users
    shares = [count // processes + (i < count % processes) for i in range(processes)]
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    children = []
    for index, share in enumerate(shares):
        options = {
            "url": args.url,
            "flood": args.flood,
            "users": share,
            "connections": share,
            "think": args.think,
            "duration": args.duration,
            "timeout": args.timeout,
        }
        share_paths = paths[index::processes] if len(paths) >= processes else paths  # each its own part of the mix
        child = context.Process(target=client_process, args=(options, share_paths, args.seed + index, results))
        child.start()
        children.append(child)
    stop = asyncio.Event()
    started = time.monotonic()
    sampler = asyncio.create_task(sample_server(server_pid, dsn, stop))
    prober = asyncio.create_task(probe(args.url, paths, stop, args.timeout))
    total = Result()
    loop = asyncio.get_running_loop()
    try:
        for _ in children:
            got = await loop.run_in_executor(None, results.get, True, args.duration + args.timeout + 120)
            if isinstance(got, BaseException):
                raise SystemExit(f"a client process failed: {got!r}")
            total.add(got)
    finally:
        for child in children:
            child.join(10)
            if child.is_alive():
                child.kill()
        stop.set()
    sample = await sampler
    total.probe = await prober
    wall = time.monotonic() - started
    own = resource.getrusage(resource.RUSAGE_SELF)
    return total, sample, wall, total.cpu + own.ru_utime + own.ru_stime


if __name__ == "__main__":
    main()
