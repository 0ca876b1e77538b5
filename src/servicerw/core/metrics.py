"""Prometheus metrics at /metrics (prometheus-client).

Every Granian worker is a process of its own. `servicerw serve` sets PROMETHEUS_MULTIPROC_DIR (emptied at
start) before any worker imports prometheus_client: each process then keeps its counters, histograms and
gauges in files there, and a scrape, whichever worker answers it, adds up every process's files
(`MultiProcessCollector`). Gauges of processes that have gone are dropped at each scrape; their counters stay
in the sums (a total must not go down when a worker is replaced). Without PROMETHEUS_MULTIPROC_DIR (tests,
`granian` run by hand with one worker) the default registry answers.

Gauges that reflect the database (emails by status, reviews and photos waiting) are not kept per process:
they are read when the scrape comes, by the functions registered with `on_scrape`, each result kept
METRICS_CACHE_SECONDS so that several scrapers cost one query.
"""

from __future__ import annotations

import hmac
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterable

import structlog
from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.response import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from servicerw.core import db

log = structlog.get_logger(__name__)

# --- HTTP (recorded by core/observe.py for every request) -------------------------------------------

HTTP_LABELS = ["method", "route", "status"]
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time from the request reaching the app to the end of its answer, by method, route template and status",
    HTTP_LABELS,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HTTP_REQUESTS = Counter("http_requests", "Requests answered, by method, route template and status", HTTP_LABELS)
HTTP_IN_FLIGHT = Gauge(
    "http_requests_in_flight", "Requests being answered now (all workers)", multiprocess_mode="livesum"
)

# --- what the site is used for ----------------------------------------------------------------------

SEARCHES = Counter("servicerw_searches", "Searches run (pages, browse pages, API), by source", ["source"])
ZERO_RESULT_SEARCHES = Counter("servicerw_searches_zero_results", "Searches that found nothing, by source", ["source"])
INQUIRIES = Counter("servicerw_inquiries", "Messages sent to businesses (a form sent twice counts once)")
CACHE_HITS = Counter("servicerw_cache_hits", "Data cache reads that found a value, by cache (key prefix)", ["cache"])
CACHE_MISSES = Counter("servicerw_cache_misses", "Data cache reads that found nothing, by cache", ["cache"])

# --- the database pool (each process's own; livesum: the processes alive, added up) ------------------

DB_POOL_CONNECTIONS = Gauge(
    "servicerw_db_pool_connections",
    "Database connections open in the web processes' pools, by state (in_use, idle)",
    ["state"],
    multiprocess_mode="livesum",
)
DB_POOL_WAITING = Gauge(
    "servicerw_db_pool_waiting",
    "Queries waiting for a free pooled connection",
    multiprocess_mode="livesum",
)
DB_POOL_MAX = Gauge(
    "servicerw_db_pool_max_connections", "The most connections the pools may open", multiprocess_mode="livesum"
)

# --- email (counted where they are sent) ------------------------------------------------------------

EMAIL_SENDS = Counter(
    "servicerw_email_sends",
    "Emails handed to a provider, by provider and result (accepted, failed, skipped: circuit open)",
    ["provider", "result"],
)


def sample_pool() -> None:
    """This process's pool figures into the pool gauges (every second, and at each scrape)."""
    stats = db.pool_stats()
    DB_POOL_CONNECTIONS.labels("in_use").set(stats["in_use"])
    DB_POOL_CONNECTIONS.labels("idle").set(stats["idle"])
    DB_POOL_WAITING.set(stats["waiting"])
    DB_POOL_MAX.set(stats["max"])


async def pool_sampler_work() -> int:
    """One sample (for a `PollingWorker` that runs it every second in each web process)."""
    sample_pool()
    return 0


# --- read at scrape time ----------------------------------------------------------------------------

Reader = Callable[[], Awaitable[Iterable[Metric]]]
_readers: list[Reader] = []
_readings: dict[Reader, tuple[float, list[Metric]]] = {}


def on_scrape(read: Reader) -> Reader:
    """Register a coroutine function returning metric families (e.g. `GaugeMetricFamily`) read from the
    database when a scrape comes (once, however often it is registered)."""
    if read not in _readers:
        _readers.append(read)
    return read


async def _read_all(max_age: float) -> list[Metric]:
    families: list[Metric] = []
    now = time.monotonic()
    for read in _readers:
        kept = _readings.get(read)
        if kept is None or now - kept[0] >= max_age:
            try:
                kept = (now, list(await read()))
            except Exception as error:  # noqa: BLE001 - the counters are still worth answering
                log.warning("metrics_read_failed", reader=read.__name__, error=repr(error))
                continue
            _readings[read] = kept
        families.extend(kept[1])
    return families


class _Families:
    """A collector answering metric families already read (prometheus_client's collectors are synchronous;
    the database is read before, asynchronously)."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


# --- all processes --------------------------------------------------------------------------------

_PROCESS_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db")


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def process_alive(pid: int) -> bool:
    """Whether process `pid` exists (another user's process counts: signal 0 is refused, not unknown)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_dead_processes(path: str) -> list[int]:
    """Drop the live gauges (in flight, pool) of processes that are gone (a worker Granian replaced);
    returns their pids. Their counters and histograms stay in the sums."""
    dead = set()
    for name in os.listdir(path):
        match = _PROCESS_FILE.fullmatch(name)
        if match and not process_alive(int(match.group(1))):
            dead.add(int(match.group(1)))
    for pid in dead:
        mark_process_dead(pid, path)
    return sorted(dead)


def clean_multiprocess_dir(path: str) -> None:
    """Empty the directory of a previous run's files (`servicerw serve` at start): a pid reused by a new
    worker must not inherit an old count."""
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))


def exposition(families: list[Metric]) -> bytes:
    """Every process's metrics (or this process's, outside multiprocess mode) and the families read at
    scrape time, in Prometheus' text format."""
    extra = CollectorRegistry()
    extra.register(_Families(families))
    path = multiprocess_dir()
    if not path:
        return _generate_latest(REGISTRY) + _generate_latest(extra)
    mark_dead_processes(path)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=path)
    return _generate_latest(registry) + _generate_latest(extra)


def _authorized(request: Request) -> bool:
    server = request.app.state.settings.server
    if not server.metrics_token:
        return not server.production
    sent = request.headers.get("authorization", "")
    return hmac.compare_digest(sent.encode(), f"Bearer {server.metrics_token}".encode())


@get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response[bytes]:
    if not _authorized(request):
        raise NotFoundException()
    sample_pool()
    families = await _read_all(request.app.state.settings.server.metrics_cache_seconds)
    return Response(exposition(families), media_type=CONTENT_TYPE_LATEST, headers={"cache-control": "no-store"})
