"""Upkeep of business_analytics' monthly partitions: months ahead are created, months past the retention
are DETACHED (they stay as ordinary tables named business_analytics_YYYY_MM, for the operator to archive
or drop). Run by the partitions worker (app and `servicerw worker`, hourly) and by `servicerw partitions`
(for cron); idempotent, and one run at a time across processes (a transaction-level advisory lock)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from servicerw.core import db
from servicerw.core.background import PollingWorker
from servicerw.settings import AnalyticsSettings

PARTITIONS_LOCK = 0x5E7A_0001  # advisory lock key of the partition upkeep


@dataclass(frozen=True, slots=True)
class PartitionUpkeep:
    ran: bool  # False: another process held the lock (and was doing the same work)
    created: int  # partitions created ahead
    detached: tuple[str, ...]  # partitions detached, now ordinary tables


async def keep_partitions(conn: asyncpg.Connection, settings: AnalyticsSettings, wait: bool = False) -> PartitionUpkeep:
    """Create `months_ahead` months ahead and detach the months older than `retention_months`. With
    `wait`, wait for a concurrent run to finish (then find nothing left to do); else skip when locked."""
    async with conn.transaction():
        if wait:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", PARTITIONS_LOCK)
        elif not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", PARTITIONS_LOCK):
            return PartitionUpkeep(ran=False, created=0, detached=())
        created = await conn.fetchval("SELECT servicerw_ensure_analytics_partitions(0, $1)", settings.months_ahead)
        detached = await conn.fetch(
            "SELECT name FROM servicerw_detach_analytics_partitions($1) AS name", settings.retention_months
        )
    return PartitionUpkeep(ran=True, created=created, detached=tuple(r["name"] for r in detached))


async def detached_partitions(conn: asyncpg.Connection) -> list[str]:
    """Ordinary tables left by earlier detaches (named like a partition, attached to nothing)."""
    rows = await conn.fetch(
        r"""SELECT c.relname FROM pg_class c
            WHERE c.relkind = 'r' AND c.relname ~ '^business_analytics_[0-9]{4}_[0-9]{2}$' AND NOT c.relispartition
            ORDER BY c.relname"""
    )
    return [r["relname"] for r in rows]


def partitions_worker(settings: AnalyticsSettings, every: float = 3600.0) -> PollingWorker:
    """Hourly upkeep in every process; the advisory lock lets one of them do it at a time."""

    async def work() -> int:
        async with db.engine().pool.acquire() as conn:
            await keep_partitions(conn, settings)
        return 0  # then wait `every`

    return PollingWorker("analytics_partitions", work, every=every)
