"""Read replicas: which reads may go to a streaming standby, and which standby.

- Routing is explicit. A service read method that tolerates lag (search, suggestions, profiles, browse
  pages, public reviews, statistics) carries `@lag_tolerant`; `core/db.fetch` and Piccolo's pool queries
  (`RetryingPostgresEngine._run_in_pool`) then ask `choose()` for a replica. Everything else — writes,
  transactions (they hold a primary connection), sessions, log-in, the outbox, owners' pages — never asks
  and stays on the primary. `@on_primary` pins a call (and what it calls) to the primary even when an
  enclosing method is lag-tolerant (a visitor's own review standing, an owner's preview).
- Read your writes: `read_your_writes` (middleware) pins every unsafe request (POST, PUT, PATCH, DELETE) to
  the primary, and answers it with a short cookie that pins the same browser's requests for the next
  `window()` seconds (longer than the lag any replica in use can have), so an owner's page right after a
  save, or the profile they just changed, comes from the primary.
- Health: one background task per process checks every replica each `DATABASE_REPLICA_CHECK_INTERVAL`
  seconds (not per query): down, not reachable within 2 s, or lagging more than `DATABASE_REPLICA_MAX_LAG`
  seconds → skipped. A read that fails on a replica (it died mid-query) is retried on the primary by
  `core/db` and the replica is marked down until the next good check.
- Lag: 0 when the replica has replayed the primary's current WAL position (sampled just before); else the
  smaller of `now() - pg_last_xact_replay_timestamp()` and the age of the newest primary position sample
  the replica has replayed (so an idle primary does not look like lag, and a replica that stopped
  replaying does).
- Pools: one asyncpg pool per replica per process, at most `DATABASE_POOL_MAX` connections (the primary's
  per-process size), opened on demand (min 0), so a replica that is down at boot never stops start-up.

This module imports no domain (core rule) and does not run queries for the app: `core/db` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
import structlog

from servicerw.settings import DatabaseSettings

log = structlog.get_logger(__name__)

# None: not decided (primary); "replica": inside a lag-tolerant read; "primary": pinned to the primary.
_ROUTE: ContextVar[str | None] = ContextVar("servicerw_read_route", default=None)
CHECK_TIMEOUT = 2.0  # seconds a health check may take before the replica counts as down
APPLICATION_NAME = "servicerw-read"  # shown in the replicas' pg_stat_activity
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


@contextlib.contextmanager
def _routed(route: str):
    token = _ROUTE.set(route)
    try:
        yield
    finally:
        _ROUTE.reset(token)


def pinned_to_primary():
    """Everything read inside reads the primary."""
    return _routed("primary")


def lag_tolerant(method: F) -> F:
    """Marks a read method whose queries may be answered by a replica (unless the call is pinned)."""

    @functools.wraps(method)
    async def wrapper(*args, **kwargs):
        if _ROUTE.get() is not None:  # already decided by the caller (pinned, or lag-tolerant itself)
            return await method(*args, **kwargs)
        with _routed("replica"):
            return await method(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def on_primary(method: F) -> F:
    """Marks a read that must see the latest writes: it and what it calls read the primary."""

    @functools.wraps(method)
    async def wrapper(*args, **kwargs):
        with _routed("primary"):
            return await method(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def parse_lsn(text: str | None) -> int | None:
    """'16/B374D848' → an integer position (None stays None)."""
    if not text:
        return None
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


@dataclass
class Replica:
    name: str  # host:port/db — never the password
    url: str
    pool: asyncpg.Pool | None = None
    up: bool = False
    lag: float = math.inf
    checked_at: float = 0.0
    error: str = ""

    def usable(self, max_lag: float) -> bool:
        return self.pool is not None and self.up and self.lag <= max_lag

    def in_use(self) -> int:
        return 0 if self.pool is None else self.pool.get_size() - self.pool.get_idle_size()


def _name(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or ''}"


@dataclass
class ReplicaSet:
    settings: DatabaseSettings
    replicas: list[Replica] = field(default_factory=list)
    # (monotonic time, primary WAL position) of the recent checks, oldest first.
    samples: deque = field(default_factory=lambda: deque(maxlen=512))
    primary: asyncpg.Pool | None = None  # for the primary's WAL position
    _task: asyncio.Task | None = None
    _turn: int = 0

    def __post_init__(self) -> None:
        self.replicas = [Replica(name=_name(url), url=url) for url in self.settings.replica_urls]

    async def start(self, primary: asyncpg.Pool) -> None:
        kwargs = self.settings.connect_kwargs()
        kwargs.pop("dsn")
        kwargs["min_size"] = 0  # on demand: a replica that is down at boot does not stop start-up
        kwargs["server_settings"] = {**kwargs["server_settings"], "application_name": APPLICATION_NAME}
        for replica in self.replicas:
            replica.pool = asyncpg.create_pool(replica.url, **kwargs)
            await replica.pool  # with min_size 0 this connects nothing
        self.primary = primary
        await self.check()
        self._task = asyncio.create_task(self._loop(), name="replica-checks")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for replica in self.replicas:
            if replica.pool is not None:
                replica.pool.terminate()
                replica.pool = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.replica_check_interval)
            try:
                await self.check()
            except Exception:  # noqa: BLE001 - the loop must outlive any surprise; the replicas stay as they were
                log.exception("replica check failed")

    async def check(self) -> None:
        """One round: the primary's WAL position, then each replica's state and lag (concurrently)."""
        now = time.monotonic()
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                async with self.primary.acquire() as conn:
                    position = parse_lsn(await conn.fetchval("SELECT pg_current_wal_lsn()::text"))
            self.samples.append((now, position))
        except Exception:  # noqa: BLE001 - primary trouble: judge the replicas by their replay time alone
            position = None
        horizon = now - max(60.0, 3 * self.settings.replica_max_lag)
        while self.samples and self.samples[0][0] < horizon:
            self.samples.popleft()
        await asyncio.gather(*(self._check_one(replica, position) for replica in self.replicas))

    async def _check_one(self, replica: Replica, position: int | None) -> None:
        was_usable = replica.usable(self.settings.replica_max_lag)
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                async with replica.pool.acquire() as conn:
                    row = await conn.fetchrow(
                        """SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS replayed,
                                  extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS behind"""
                    )
        except Exception as error:  # noqa: BLE001 - any failure means: not usable now
            replica.up, replica.lag, replica.error = False, math.inf, f"{type(error).__name__}: {error}"[:200]
            with contextlib.suppress(Exception):
                await replica.pool.expire_connections()
        else:
            replica.up, replica.error = True, ""
            replica.lag = self._lag(row, position)
        replica.checked_at = time.time()
        usable = replica.usable(self.settings.replica_max_lag)
        if usable != was_usable:
            log.warning(
                "replica in use" if usable else "replica skipped",
                replica=replica.name,
                lag=None if math.isinf(replica.lag) else round(replica.lag, 3),
                error=replica.error or None,
            )

    def _lag(self, row: asyncpg.Record, position: int | None) -> float:
        if not row["standby"]:
            return 0.0  # a server that is not replaying (a read-only endpoint in front of a primary): current
        replayed = parse_lsn(row["replayed"])
        if replayed is None:
            return math.inf
        if position is not None and replayed >= position:
            return 0.0
        now = time.monotonic()
        bounds = [now - t for t, lsn in self.samples if lsn is not None and lsn <= replayed]
        if row["behind"] is not None:
            bounds.append(max(0.0, row["behind"]))
        return min(bounds) if bounds else math.inf

    def choose(self) -> Replica | None:
        usable = [r for r in self.replicas if r.usable(self.settings.replica_max_lag)]
        if not usable:
            return None
        # The least busy replica; ties taken in turn.
        self._turn += 1
        return min(usable, key=lambda r: (r.in_use(), (self.replicas.index(r) - self._turn) % len(self.replicas)))

    def failed(self, replica: Replica, error: BaseException) -> None:
        """A read failed on `replica` (it is retried on the primary). A lost connection marks the replica down
        until the next good check; a query refused by the standby (e.g. a conflict with recovery) does not."""
        lost = not isinstance(error, asyncpg.PostgresError) or isinstance(
            error, (asyncpg.PostgresConnectionError, asyncpg.AdminShutdownError, asyncpg.CannotConnectNowError)
        )
        log.warning("replica read failed, read again on the primary", replica=replica.name, error=str(error)[:200])
        if lost:
            replica.up, replica.lag, replica.error = False, math.inf, f"{type(error).__name__}: {error}"[:200]
            if replica.pool is not None:
                task = asyncio.ensure_future(replica.pool.expire_connections())
                task.add_done_callback(lambda t: t.exception())

    def state(self) -> list[dict[str, Any]]:
        """For /readyz: each replica's name, whether reads go to it, and its lag in seconds."""
        max_lag = self.settings.replica_max_lag
        return [
            {
                "replica": r.name,
                "state": "in use" if r.usable(max_lag) else ("lagging" if r.up else "down"),
                "lag_seconds": None if math.isinf(r.lag) else round(r.lag, 3),
            }
            for r in self.replicas
        ]


# The process's replica set (like Piccolo's engine pool: one per process), started by the app's lifespan.
_current: ReplicaSet | None = None


async def start(settings: DatabaseSettings, primary: asyncpg.Pool) -> None:
    global _current
    if not settings.replica_urls:
        return
    replica_set = ReplicaSet(settings)
    await replica_set.start(primary)
    _current = replica_set


async def close() -> None:
    global _current
    if _current is not None:
        replica_set, _current = _current, None
        await replica_set.close()


def choose() -> Replica | None:
    """The replica for the current read, or None (the primary): only inside a lag-tolerant read that is not
    pinned, with replicas configured and one of them usable."""
    if _current is None or _ROUTE.get() != "replica":
        return None
    return _current.choose()


def failed(replica: Replica, error: BaseException) -> None:
    if _current is not None:
        _current.failed(replica, error)


def state() -> list[dict[str, Any]] | None:
    return None if _current is None else _current.state()


def window(settings: DatabaseSettings) -> float:
    """Seconds after a write during which the writer reads the primary: a replica in use is at most
    `replica_max_lag` behind as of its last check, which is at most one interval (+ the check's time) old."""
    if not settings.replica_urls:
        return 0.0
    return settings.replica_max_lag + settings.replica_check_interval + CHECK_TIMEOUT


def read_your_writes(settings: DatabaseSettings, *, production: bool, exclude: tuple[str, ...] = ()):
    """ASGI middleware factory (only installed when replicas are configured): unsafe requests, and those of
    a browser that wrote within `window()` seconds (a cookie holding the time until which it reads the
    primary), read the primary. The cookie carries nothing but that time; paths in `exclude` (the API, whose
    clients send no cookies) get none."""
    seconds = math.ceil(window(settings))
    cookie = ("__Host-" if production else "") + "rw_primary"
    attributes = f"Path=/; Max-Age={seconds}; HttpOnly; SameSite=Lax" + ("; Secure" if production else "")
    name = cookie.encode()

    def pinned_until(scope) -> float:
        for key, value in scope.get("headers", ()):
            if key == b"cookie":
                for part in value.split(b";"):
                    left, _, right = part.strip().partition(b"=")
                    if left == name:
                        with contextlib.suppress(ValueError):
                            return float(right.decode("ascii"))
        return 0.0

    def factory(app):
        async def middleware(scope, receive, send):
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            unsafe = scope["method"] in UNSAFE_METHODS
            if not unsafe and pinned_until(scope) <= time.time():
                await app(scope, receive, send)
                return
            wants_cookie = unsafe and not scope["path"].startswith(exclude)

            async def send_with_cookie(message):
                if message["type"] == "http.response.start" and wants_cookie:
                    until = int(time.time()) + seconds
                    value = f"{cookie}={until}; {attributes}".encode()
                    message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", value)]}
                await send(message)

            with pinned_to_primary():
                await app(scope, receive, send_with_cookie)

        return middleware

    return factory
