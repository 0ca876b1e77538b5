"""SMS alerts benchmark, on a database of its own: what a new message's SMS alert adds to the inquiry's
transaction, and the outbox worker sending SMS through a fake Pindo (tests/fake_providers.py, a thread of
this process).

    python bench/sms.py --owners 2000 --alerts 5000

`--owners` owners, each with one business and a verified, opted-in number; then `--alerts` new messages to
random businesses, each in its own transaction calling `SmsAlerts.queue_inquiry_alert` (the rows lock, the
coalescing update or the daily count and the insert): p50/p95/p99 of that call. Then every SMS due is sent
by the real worker (claim, EMAIL_CONCURRENCY at once) to the fake Pindo: SMS per second and p50/p95/p99 of
claim-to-sent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

import asyncpg
from mail import _server_version, database_options, migrated_database
from stats import line

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.fake_providers import FakePindo  # noqa: E402 - the fakes live with the tests


async def arrange(pool, owners: int) -> list[int]:
    async with pool.acquire() as conn, conn.transaction():
        category = await conn.fetchval("SELECT id FROM categories WHERE parent_id IS NOT NULL ORDER BY id LIMIT 1")
        place = await conn.fetchval("SELECT id FROM locations WHERE level = 'sector' ORDER BY id LIMIT 1")
        users = await conn.fetch(
            """INSERT INTO users (email, full_name, password_hash, role, preferred_language, is_active)
               SELECT 'owner' || i || '@example.rw', 'Owner ' || i, 'x', 'owner',
                      (ARRAY['rw', 'en', 'fr'])[1 + i % 3], true
               FROM generate_series(1, $1) i RETURNING id""",
            owners,
        )
        ids = [row["id"] for row in users]
        businesses = await conn.fetch(
            """INSERT INTO businesses (business_name, slug, category_id, location_id, status, owner_id, phone)
               SELECT 'Business ' || u, 'business-' || u, $2, $3, 'approved', u, '+250788000000'
               FROM unnest($1::int[]) u RETURNING id""",
            ids,
            category,
            place,
        )
        await conn.execute(
            """INSERT INTO sms_phones (user_id, phone, verified_at, alerts)
               SELECT u, '+25078' || lpad(u::text, 7, '0'), now(), true FROM unnest($1::int[]) u""",
            ids,
        )
    return [row["id"] for row in businesses]


async def run(args: argparse.Namespace, dsn: str) -> None:
    from servicerw.notifications.providers import PindoProvider
    from servicerw.notifications.services import OutboxSender
    from servicerw.notifications.sms import SmsAlerts
    from servicerw.settings import EmailSettings, Settings, SmsSettings

    pindo = FakePindo().start()
    sms = SmsSettings(providers=("pindo",), pindo_token=pindo.token, pindo_url=pindo.url)
    settings = replace(Settings(), sms=replace(sms, alert_minutes=args.minutes, daily_cap=args.cap))
    alerts = SmsAlerts(settings)
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=args.concurrency + 4)
    try:
        businesses = await arrange(pool, args.owners)
        rng = random.Random(1)
        timings = []
        for i in range(args.alerts):
            business = rng.choice(businesses)
            async with pool.acquire() as conn, conn.transaction():
                started = time.perf_counter()
                await alerts.queue_inquiry_alert(
                    conn,
                    business_id=business,
                    customer_name=f"Customer {i}",
                    message="Muraho, ndashaka kumenya igiciro cyo gusana telefoni yanjye. Murakoze cyane!",
                    link=f"https://servicerw.rw/dashboard/{business}/inbox/{i}",
                    inbox_link=f"https://servicerw.rw/dashboard/{business}/inbox",
                )
                timings.append((time.perf_counter() - started) * 1000)
        queued = await pool.fetchval("SELECT count(*) FROM email_outbox WHERE channel = 'sms'")
        due = await pool.fetchval("SELECT count(*) FROM email_outbox WHERE channel = 'sms' AND send_after <= now()")
        print(f"{args.alerts:,} new messages to {args.owners:,} owners -> {queued:,} SMS queued ({due:,} due now)")
        print(line("queue_inquiry_alert", timings, width=24))

        email = EmailSettings(providers=("log",), concurrency=args.concurrency, timeout=10)
        sender = OutboxSender(email, pool=pool, providers=[PindoProvider(email, sms)])
        started = time.perf_counter()
        while await sender.send_pending():
            pass
        elapsed = time.perf_counter() - started
        await sender.close()
        rows = await pool.fetch(
            """SELECT extract(epoch FROM sent_at - last_attempt_at) AS send FROM email_outbox
               WHERE channel = 'sms' AND status = 'sent'"""
        )
        print(f"sent {len(rows):,} SMS to the fake Pindo in {elapsed:.2f} s, {len(rows) / elapsed:,.0f}/s")
        print(line("send (claim to sent)", [float(r["send"]) * 1000 for r in rows], width=24))
    finally:
        await pool.close()
        pindo.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--owners", type=int, default=2000)
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--minutes", type=int, default=15, help="SMS_ALERT_MINUTES")
    parser.add_argument("--cap", type=int, default=10, help="SMS_DAILY_CAP")
    parser.add_argument("--concurrency", type=int, default=10)
    database_options(parser, "servicerw_bench_sms")
    args = parser.parse_args()
    dsn = migrated_database(args)
    print(f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {asyncio.run(_server_version(dsn))}")
    try:
        asyncio.run(run(args, dsn))
    finally:
        asyncio.run(_drop(args.admin_url, args.database))


async def _drop(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
