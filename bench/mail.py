"""Email outbox benchmark: queued emails through the real worker (outbox_worker: claim with SKIP LOCKED,
EMAIL_CONCURRENCY sends at once, one result update per email) to an aiosmtpd SMTP sink running in a
process of its own, on a database of its own.

    python bench/mail.py --emails 10000 --concurrency 10

The database (--database, default servicerw_bench_mail) is dropped, created and migrated with
`servicerw migrate`. By default all emails are queued at once, in one transaction, before the worker
starts (a burst: the latency then includes the wait behind the others); `--rate N` instead queues N
emails a second while the worker runs (latency of a steady flow). Prints emails per second, the total
time, and p50/p95/p99 of queue-to-sent latency (created_at to sent_at) and of the send itself
(claim to sent_at).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
from stats import line


def sink_process(port: int, received, ready, stop) -> None:
    """An aiosmtpd server that counts what it receives (a process of its own: it does not share the GIL)."""
    from aiosmtpd.controller import Controller

    class Counter:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            with received.get_lock():
                received.value += 1
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def recreate(admin_url: str, name: str) -> str:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def database_options(parser: argparse.ArgumentParser, default: str) -> None:
    """--database and --admin-url: the benchmark's own database, dropped and made again on that server."""
    parser.add_argument("--database", default=default)
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a database on a server where the benchmark may create its own",
    )


def migrated_database(args: argparse.Namespace) -> str:
    """The benchmark's database (`database_options`), new and migrated with `servicerw migrate`: its DSN."""
    dsn = asyncio.run(recreate(args.admin_url, args.database))
    env = {**os.environ, "DATABASE_URL": dsn, "PICCOLO_CONF": "servicerw.piccolo_conf"}
    servicerw = Path(sys.executable).with_name("servicerw")
    subprocess.run([str(servicerw), "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    return dsn


INSERT = """INSERT INTO email_outbox (to_address, subject, body_text, body_html, language, kind)
            VALUES ($1, $2, $3, $4, 'en', 'bench')"""


def email(i: int) -> tuple[str, str, str, str]:
    text = f"Hello {i},\n\nSomeone asked about your listing on ServiceRW.\nhttps://servicerw.rw/b/{i}\n" * 3
    return f"user{i}@example.rw", f"New inquiry #{i}", text, f"<p>{text}</p>"


async def queue_burst(pool, count: int) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(INSERT, [email(i) for i in range(count)])


async def queue_at_rate(pool, count: int, rate: float) -> None:
    started, queued = time.perf_counter(), 0
    while queued < count:
        due = min(count, int((time.perf_counter() - started) * rate) + 1)
        if due > queued:
            async with pool.acquire() as conn:
                await conn.executemany(INSERT, [email(i) for i in range(queued, due)])
            queued = due
        await asyncio.sleep(0.01)


async def run(args: argparse.Namespace, dsn: str, smtp_port: int) -> None:
    from servicerw.notifications.services import outbox_worker
    from servicerw.settings import EmailSettings

    settings = EmailSettings(
        providers=("smtp",), smtp_url=f"smtp://127.0.0.1:{smtp_port}", concurrency=args.concurrency, timeout=10
    )
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=args.concurrency + 4)
    try:
        if not args.rate:
            await queue_burst(pool, args.emails)
        worker = outbox_worker(settings, pool=pool)
        started_at = await pool.fetchval("SELECT clock_timestamp()")
        started = time.perf_counter()
        worker.start()
        producer = asyncio.create_task(queue_at_rate(pool, args.emails, args.rate)) if args.rate else None
        done = "SELECT count(*) FROM email_outbox WHERE status IN ('sent', 'dead')"
        while True:  # polled, like a client would; the figures come from the rows' timestamps
            if await pool.fetchval(done) >= args.emails:
                break
            await asyncio.sleep(0.2)
        elapsed = time.perf_counter() - started
        await worker.stop()
        if producer:
            await producer
        rows = await pool.fetch(
            """SELECT status, extract(epoch FROM sent_at - created_at) AS latency,
                      extract(epoch FROM sent_at - last_attempt_at) AS send, attempts, sent_at
               FROM email_outbox"""
        )
    finally:
        await pool.close()
    sent = [r for r in rows if r["status"] == "sent"]
    total = (max(r["sent_at"] for r in sent) - started_at).total_seconds()
    retried = sum(r["attempts"] > 1 for r in rows)
    print(f"sent {len(sent):,} of {len(rows):,} (dead {len(rows) - len(sent)}, retried {retried})")
    print(f"total {total:.2f} s (worker start to last sent_at; polled {elapsed:.2f} s), {len(sent) / total:,.0f}/s")
    print(line("queue-to-sent latency", [float(r["latency"]) * 1000 for r in sent], width=24))
    print(line("send (claim to sent)", [float(r["send"]) * 1000 for r in sent], width=24))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--emails", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rate", type=float, default=0, help="queue this many emails a second instead of a burst")
    database_options(parser, "servicerw_bench_mail")
    args = parser.parse_args()

    dsn = migrated_database(args)
    version = asyncio.run(_server_version(dsn))

    context = multiprocessing.get_context("spawn")
    received, ready, stop = context.Value("i", 0), context.Event(), context.Event()
    port = free_port()
    sink = context.Process(target=sink_process, args=(port, received, ready, stop), daemon=True)
    sink.start()
    if not ready.wait(30):
        raise SystemExit("the SMTP sink did not start")
    mode = f"queued at {args.rate:g}/s" if args.rate else "queued at once (burst)"
    print(
        f"{args.emails:,} emails {mode}, concurrency {args.concurrency}, SMTP sink (aiosmtpd, own process); "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {version}"
    )
    try:
        asyncio.run(run(args, dsn, port))
    finally:
        stop.set()
        sink.join(10)
    print(f"sink received {received.value:,} messages")


async def _server_version(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        return "PostgreSQL " + await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
