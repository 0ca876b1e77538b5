"""Real-user vitals: LCP, INP, CLS and TTFB measured by visitors' browsers (`static/js/rum.js`), kept only as
histograms per (Kigali day, page type, metric, bucket) in `rum_daily`, and their p75 for operators.

A beacon (`POST /rum`, at most MAX_BODY bytes of JSON) is checked strictly (`parse_beacon`: known page type,
known metrics, values within range, nothing else), turned into bucket indexes and counted in process
(`RumRecorder`); a background task adds the counts to `rum_daily` every few seconds with one upsert
(`count = count + excluded.count`). Nothing about the visitor is kept: no address, no user agent, no URL, no
time finer than the day. The bucket bounds below are fixed: changing them would mix old counts with new ones.

Hand-written beside the `web-vitals` library: its 2 KB is more than our whole beacon needs, and its
attribution and soft-navigation parts are not wanted (see rum.js).
"""

from __future__ import annotations

import asyncio
import hashlib
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Literal

import msgspec
import structlog
from litestar import Request

from servicerw.core import db
from servicerw.core.background import PollingWorker
from servicerw.core.replicas import lag_tolerant
from servicerw.core.throttle import Limiter
from servicerw.core.web import KIGALI

log = structlog.get_logger(__name__)

MAX_BODY = 2048
PAGE_TYPES = ("home", "search", "profile", "browse", "other")
METRICS = ("lcp", "inp", "cls", "ttfb")
# The pages' route names (their handlers' `name=`) → page type; every other page is "other".
ROUTE_PAGE = {"home": "home", "search": "search", "business_profile": "profile", "browse": "browse"}
# Pages of operators and owners send no vitals: they are not what customers wait for.
PRIVATE_PREFIXES = ("/admin", "/dashboard")

# Upper bounds of the buckets (ms; CLS unitless), log-ish; the last bucket runs from the last bound to the
# metric's maximum (MAXIMUM). Fixed forever: the stored bucket numbers are indexes into these tuples.
BOUNDS: dict[str, tuple[float, ...]] = {
    "lcp": (100, 200, 300, 400, 500, 600, 800, 1000, 1200, 1500, 1800, 2000, 2500, 3000, 3500, 4000, 5000, 6000,
            8000, 10000, 15000, 20000, 30000),
    "ttfb": (25, 50, 100, 150, 200, 300, 400, 500, 600, 800, 1000, 1200, 1500, 1800, 2500, 3500, 5000, 8000,
             12000, 20000, 30000),
    "inp": (16, 32, 50, 75, 100, 150, 200, 250, 300, 400, 500, 600, 800, 1000, 1500, 2000, 3000, 5000, 10000),
    "cls": (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5),
}  # fmt: skip
MAXIMUM = {"lcp": 120_000.0, "ttfb": 120_000.0, "inp": 60_000.0, "cls": 50.0}
# Google's thresholds (web.dev/vitals): at or below the first "good", above the second "poor".
THRESHOLDS = {"lcp": (2500.0, 4000.0), "inp": (200.0, 500.0), "cls": (0.1, 0.25), "ttfb": (800.0, 1800.0)}

Page = Literal["home", "search", "profile", "browse", "other"]
Millis = Annotated[float, msgspec.Meta(ge=0, le=120_000)]


class Beacon(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """What rum.js sends; any other field, type or range is refused."""

    page: Page
    lcp: Millis | None = None
    inp: Annotated[float, msgspec.Meta(ge=0, le=60_000)] | None = None
    cls: Annotated[float, msgspec.Meta(ge=0, le=50)] | None = None
    ttfb: Millis | None = None

    def values(self) -> dict[str, float]:
        return {m: v for m in METRICS if (v := getattr(self, m)) is not None}


_decoder = msgspec.json.Decoder(Beacon)


def parse_beacon(body: bytes) -> Beacon | None:
    """The beacon, or None when it is not one (bad JSON, unknown names, out-of-range values, no metric)."""
    if len(body) > MAX_BODY:
        return None
    try:
        beacon = _decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return beacon if beacon.values() else None


def bucket(metric: str, value: float) -> int:
    """The index of the first bound at or above `value` (len(bounds) past the last one)."""
    return bisect_left(BOUNDS[metric], value)


def bucket_range(metric: str, index: int) -> tuple[float, float]:
    bounds = BOUNDS[metric]
    low = 0.0 if index == 0 else float(bounds[index - 1])
    high = float(bounds[index]) if index < len(bounds) else MAXIMUM[metric]
    return low, high


def percentile(metric: str, counts: dict[int, int], q: float = 0.75) -> float | None:
    """The q-quantile of a histogram, interpolated linearly inside the bucket where it falls (values are
    taken as spread evenly across their bucket). None for an empty histogram."""
    total = sum(counts.values())
    if total <= 0:
        return None
    rank = q * total
    seen = 0
    for index in sorted(counts):
        count = counts[index]
        if count <= 0:
            continue
        if seen + count >= rank:
            low, high = bucket_range(metric, index)
            return low + (high - low) * (rank - seen) / count
        seen += count
    return bucket_range(metric, max(counts))[1]  # not reached: rank <= total


def rating(metric: str, value: float) -> str:
    good, poor = THRESHOLDS[metric]
    return "good" if value <= good else "poor" if value > poor else "needs-improvement"


def page_type(request: Request) -> str | None:
    """The page type the beacon reports (from the route, never the URL), or None: no beacon on this page.
    A Jinja global (base.html): the same for every visitor of a path, so cached pages stay shareable."""
    path = request.scope.get("path", "")
    if path.startswith(PRIVATE_PREFIXES):
        return None
    handler = request.scope.get("route_handler")
    return ROUTE_PAGE.get(getattr(handler, "name", None) or "", "other")


class RumRecorder:
    """Counts beacons in process and adds them to `rum_daily` every `flush_every` seconds (like
    AnalyticsWriter, whose COPY does not fit counters: here one upsert adds to existing rows). The number of
    distinct keys is small (days × 5 page types × 4 metrics × ~24 buckets); `max_keys` bounds it anyway."""

    UPSERT = """
        INSERT INTO rum_daily (day, page, metric, bucket, count)
        SELECT * FROM unnest($1::date[], $2::text[], $3::text[], $4::smallint[], $5::bigint[])
        ON CONFLICT (day, page, metric, bucket) DO UPDATE SET count = rum_daily.count + excluded.count"""

    def __init__(self, limiter: Limiter, flush_every: float = 2.0, max_keys: int = 10_000) -> None:
        self.limiter = limiter
        self.counts: dict[tuple[date, str, str, int], int] = {}
        self.flush_every = flush_every
        self.max_keys = max_keys
        self.dropped = 0
        self._flushing = asyncio.Lock()
        # Flushes every `flush_every` seconds (at once again while a flush finds counts), and once at the end.
        self._worker = PollingWorker("rum_flush", self.flush, every=flush_every, on_stop=self.flush)

    async def allowed(self, address: str) -> bool:
        """Within the per-address limit (one counter increment; the key is a hash, not the address)."""
        key = hashlib.sha256(address.encode()).hexdigest()[:24]
        return (await self.limiter.take(key)).allowed

    def record(self, beacon: Beacon, now: datetime | None = None) -> None:
        day = (now or datetime.now(UTC)).astimezone(KIGALI).date()
        for metric, value in beacon.values().items():
            key = (day, beacon.page, metric, bucket(metric, value))
            if key not in self.counts and len(self.counts) >= self.max_keys:
                self.dropped += 1
                continue
            self.counts[key] = self.counts.get(key, 0) + 1

    async def flush(self) -> int:
        async with self._flushing:
            counts, self.counts = self.counts, {}
            if not counts:
                return 0
            keys = sorted(counts)  # one order for every process: concurrent upserts never deadlock
            try:
                await db.execute(
                    self.UPSERT,
                    [k[0] for k in keys],
                    [k[1] for k in keys],
                    [k[2] for k in keys],
                    [k[3] for k in keys],
                    [counts[k] for k in keys],
                )
            except Exception as error:  # noqa: BLE001 - vitals must never break the site
                self.dropped += sum(counts.values())
                log.warning("rum_flush_failed", error=repr(error), dropped=sum(counts.values()))
                return 0
            return len(keys)

    def start(self) -> None:
        self._flushing = asyncio.Lock()
        self._worker.start()

    async def stop(self) -> None:
        await self._worker.stop()  # and a last flush (on_stop)


@dataclass(frozen=True, slots=True)
class Vital:
    page: str
    metric: str
    p75: float  # ms, or unitless for CLS
    samples: int
    rating: str  # good | needs-improvement | poor


@dataclass(frozen=True, slots=True)
class Vitals:
    start: date
    end: date
    rows: list[Vital]  # by page type, then metric (PAGE_TYPES, METRICS order); only those with samples


class RumService:
    """Reads the histograms back: p75 per page type and metric over a range of Kigali days."""

    @lag_tolerant
    async def vitals(self, start: date, end: date) -> Vitals:
        rows = await db.fetch(
            """SELECT page, metric, bucket, sum(count)::bigint AS n FROM rum_daily
               WHERE day BETWEEN $1 AND $2 GROUP BY page, metric, bucket""",
            start,
            end,
        )
        histograms: dict[tuple[str, str], dict[int, int]] = {}
        for row in rows:
            histograms.setdefault((row["page"], row["metric"]), {})[row["bucket"]] = row["n"]
        vitals = []
        for page in PAGE_TYPES:
            for metric in METRICS:
                counts = histograms.get((page, metric))
                p75 = percentile(metric, counts) if counts else None
                if p75 is None:
                    continue
                vitals.append(Vital(page, metric, p75, sum(counts.values()), rating(metric, p75)))
        return Vitals(start, end, vitals)
