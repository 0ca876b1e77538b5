"""Analytics events and the search log, written in batches off the request path.

Requests only append to an in-process buffer; a background task flushes it every second (or sooner when
it fills) with PostgreSQL COPY. The buffer is bounded: under a flood or a database outage, events are
dropped (and counted) rather than slowing pages down or exhausting memory.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import suppress
from datetime import UTC, date, datetime

import asyncpg
import structlog

from servicerw.core import db
from servicerw.core.metrics import SEARCHES, ZERO_RESULT_SEARCHES
from servicerw.core.pagecache import repeat_on_hit
from servicerw.core.web import KIGALI

log = structlog.get_logger(__name__)

EVENT_COLUMNS = ("business_id", "date", "event_type", "source", "metadata", "created_at")
SEARCH_COLUMNS = (
    "created_at",
    "query",
    "corrected_query",
    "filters",
    "result_count",
    "latency_ms",
    "zero_results",
    "language",
    "page",
    "source",
)


class AnalyticsWriter:
    def __init__(self, max_buffer: int = 50_000, flush_every: float = 1.0, batch: int = 5_000) -> None:
        self.events: list[tuple] = []
        self.searches: list[tuple] = []
        self.max_buffer = max_buffer
        self.flush_every = flush_every
        self.batch = batch
        self.dropped = 0
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()  # one flush at a time: a caller's flush returns once all is written

    # --- recording (never awaits, never raises) --------------------------------------------------

    def event(self, business_id: int, event_type: str, source: str = "", metadata: dict | None = None) -> None:
        # Recorded while a public page is rendered for the page cache: each cached serve records it again.
        repeat_on_hit("analytics.event", business_id, event_type, source, metadata)
        if len(self.events) >= self.max_buffer:
            self.dropped += 1
            return
        now = datetime.now(UTC)
        day = now.astimezone(KIGALI).date()  # days are counted in Rwanda's time
        self.events.append((business_id, day, event_type, _clean(source), json.dumps(_clean(metadata or {})), now))
        if len(self.events) >= self.batch:
            self._wake.set()

    def impressions(self, business_ids: list[int], source: str, query: str = "") -> None:
        for position, business_id in enumerate(business_ids, start=1):
            self.event(business_id, "search_impression", source, {"q": query[:100], "pos": position})

    def search(
        self,
        *,
        query: str,
        corrected: str,
        filters: dict,
        result_count: int,
        latency_ms: float,
        language: str,
        page: int,
        source: str,
    ) -> None:
        SEARCHES.labels(source).inc()
        if result_count == 0:
            ZERO_RESULT_SEARCHES.labels(source).inc()
        repeat_on_hit(
            "analytics.search",
            query=query,
            corrected=corrected,
            filters=filters,
            result_count=result_count,
            latency_ms=latency_ms,
            language=language,
            page=page,
            source=source,
        )
        if len(self.searches) >= self.max_buffer:
            self.dropped += 1
            return
        self.searches.append(
            (
                datetime.now(UTC),
                _clean(query[:200]),
                _clean(corrected[:200]),
                json.dumps(_clean(filters), default=str),
                result_count,
                latency_ms,
                result_count == 0,
                _clean(language),
                page,
                _clean(source),
            )
        )

    # --- flushing ---------------------------------------------------------------------------------

    async def flush(self) -> int:
        async with self._flushing:
            return await self._flush()

    async def _flush(self) -> int:
        events, self.events = self.events, []
        searches, self.searches = self.searches, []
        if not events and not searches:
            return 0
        written = 0
        try:
            if events:
                # A business deleted since its event was recorded must not sink the whole batch.
                known = {
                    r["id"]
                    for r in await db.fetch(
                        "SELECT id FROM businesses WHERE id = ANY($1::int[])", list({e[0] for e in events})
                    )
                }
                events = [e for e in events if e[0] in known]
                written += await self._copy("business_analytics", EVENT_COLUMNS, events)
                events = []
            if searches:
                written += await self._copy("search_queries", SEARCH_COLUMNS, searches)
        except Exception as error:  # noqa: BLE001 - analytics must never break the site
            self.dropped += len(events) + len(searches)
            log.warning("analytics_flush_failed", error=repr(error), dropped=len(events) + len(searches))
            return 0
        return written

    async def _copy(self, table: str, columns: tuple, records: list[tuple]) -> int:
        """COPY `records`; if PostgreSQL (or asyncpg encoding them) refuses the batch for its data, the halves
        are written apart, down to the bad records alone, which are dropped and logged: one bad record never
        loses the others. Any other error (the database gone) is for the caller. Each attempt has a connection
        of its own (a COPY refused half-way leaves its connection unusable; the pool replaces it)."""
        if not records:
            return 0
        try:
            async with db.engine().pool.acquire() as conn, conn.transaction():
                await conn.copy_records_to_table(table, records=records, columns=columns)
            return len(records)
        except (
            asyncpg.DataError,
            asyncpg.IntegrityConstraintViolationError,
            ValueError,
            TypeError,
            OverflowError,
        ) as error:
            if len(records) == 1:
                self.dropped += 1
                log.warning("analytics_record_dropped", table=table, record=repr(records[0])[:500], error=repr(error))
                return 0
            middle = len(records) // 2
            return await self._copy(table, columns, records[:middle]) + await self._copy(
                table, columns, records[middle:]
            )

    async def _loop(self) -> None:
        while True:
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.flush_every)
            self._wake.clear()
            await self.flush()

    def start(self) -> None:
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._loop(), name="analytics-writer")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        await self.flush()


def _clean(value):
    """PostgreSQL text and jsonb cannot hold NUL: it is dropped from the texts (of dicts and lists too), not
    the record."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def today() -> date:
    return datetime.now(KIGALI).date()
