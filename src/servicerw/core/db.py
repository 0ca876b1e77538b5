"""The database pool (asyncpg through Piccolo's engine), configured as the plan says."""

from __future__ import annotations

import asyncio

import asyncpg
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

from servicerw.core import replicas
from servicerw.settings import DatabaseSettings


def engine() -> PostgresEngine:
    found = engine_finder()
    if found is None:  # pragma: no cover - piccolo_conf always defines DB
        raise RuntimeError("Piccolo engine not configured (PICCOLO_CONF=servicerw.piccolo_conf)")
    return found  # type: ignore[return-value]


class PoolExhausted(TimeoutError):
    """No pooled connection became free within DATABASE_POOL_TIMEOUT: the app answers 503 + Retry-After."""


class BoundedPool(asyncpg.Pool):
    """asyncpg's pool where every acquire waits at most `acquire_timeout` seconds (asyncpg waits forever unless
    each caller passes a timeout: Piccolo's engine, its transactions and our services pass none), and which
    counts the coroutines waiting for a connection (`pool_stats`). asyncpg has no hook for either: `_acquire`
    is the one method every acquire goes through (pinned asyncpg 0.32)."""

    def __init__(self, *args, acquire_timeout: float, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.acquire_timeout = acquire_timeout
        self.waiting = 0

    async def _acquire(self, timeout):  # noqa: ASYNC109 - asyncpg's own signature
        self.waiting += 1
        try:
            return await super()._acquire(self.acquire_timeout if timeout is None else timeout)
        except TimeoutError as error:
            raise PoolExhausted(f"no database connection free within {timeout or self.acquire_timeout:g} s") from error
        finally:
            self.waiting -= 1


def pool_stats() -> dict[str, int]:
    """This process's pool: connections open (`size`), `idle`, `in_use`, coroutines `waiting` to acquire one,
    and the most it may open (`max`). All 0 before the pool starts."""
    pool = engine().pool
    if pool is None:
        return {"size": 0, "idle": 0, "in_use": 0, "waiting": 0, "max": 0}
    size, idle = pool.get_size(), pool.get_idle_size()
    return {
        "size": size,
        "idle": idle,
        "in_use": size - idle,
        "waiting": getattr(pool, "waiting", 0),
        "max": pool.get_max_size(),
    }


async def start_pool(settings: DatabaseSettings, role: str = "web") -> None:
    """Start the pool or fail loudly: a site without its database must not pretend to run. `role`: "web" (its
    share of DATABASE_CONNECTIONS) or "worker" (DATABASE_WORKER_CONNECTIONS)."""
    if not settings.url:
        raise RuntimeError("DATABASE_URL is not set (the `servicerw demo` command provides an embedded one)")
    db = engine()
    kwargs = settings.connect_kwargs(role)
    db.config = {"dsn": kwargs.pop("dsn"), **({"ssl": kwargs.pop("ssl")} if "ssl" in kwargs else {})}
    try:
        if db.pool is None:
            # Piccolo's start_connection_pool calls asyncpg.create_pool, which is `Pool(...)`: ours instead.
            db.pool = await BoundedPool(
                **db.config,
                **kwargs,
                loop=None,
                connection_class=asyncpg.Connection,
                record_class=asyncpg.Record,
                acquire_timeout=settings.pool_timeout,
            )
        async with db.pool.acquire() as conn:
            await conn.fetchval("SELECT 1")
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        await close_pool()
        raise RuntimeError(f"Cannot reach the database at DATABASE_URL: {error}") from error


async def close_pool(timeout: float | None = None) -> bool:  # noqa: ASYNC109 - the shutdown's deadline
    """Close the pool once its connections are released. asyncpg's close waits for every acquired connection
    without a limit (a task that still holds one would keep a stopping process alive for good): with `timeout`,
    what is still held after it is cut (the pool terminated) and this returns False."""
    db = engine()
    if db.pool is None:
        return True
    try:
        async with asyncio.timeout(timeout):
            await db.close_connection_pool()
    except TimeoutError:
        if db.pool is not None:
            db.pool.terminate()
            db.pool = None
        return False
    return True


async def ping(limit_seconds: float = 2.0) -> bool:
    db = engine()
    if db.pool is None:
        return False
    try:
        async with asyncio.timeout(limit_seconds):
            async with db.pool.acquire() as conn:
                return await conn.fetchval("SELECT 1") == 1
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        return False


# A connection lost under the query (pg_terminate_backend, a database restart, a network cut) or none to be had:
# asyncpg raises one of these (ConnectionDoesNotExistError, AdminShutdownError, InternalClientError, ...).
LOST_CONNECTION = (
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    ConnectionError,
    OSError,
)


def lost_connection(error: BaseException) -> bool:
    """Whether `error` says the connection was lost (not that the query or its arguments were wrong:
    asyncpg's client-side DataError is an InterfaceError too, and a ValueError)."""
    return isinstance(error, LOST_CONNECTION) and not isinstance(error, (ValueError, PoolExhausted))


async def renew_pool() -> None:
    """The pool's other idle connections were most likely lost too (all the app's backends terminated, a
    restart): every connection is replaced on its next acquire."""
    pool = engine().pool
    if pool is not None:
        await pool.expire_connections()


def _is_read(query: str) -> bool:
    head = query.lstrip().upper()
    return head.startswith(("SELECT", "WITH")) and "FOR UPDATE" not in head and "INSERT" not in head


class RetryingPostgresEngine(PostgresEngine):
    """Piccolo's engine whose pool queries (`Table.raw`, the query builder) that only read are retried once,
    on fresh connections, when the connection was lost; a write is not retried (it may have happened):
    its error reaches the app, which answers 503."""

    async def _run_in_pool(self, query: str, args=None):
        replica = replicas.choose() if _is_read(query) else None
        if replica is not None:  # a lag-tolerant read (core/replicas.py): the replica, else the primary
            try:
                async with replica.pool.acquire() as conn:
                    return await conn.fetch(query, *(args or ()))
            except Exception as error:
                if not _retry_on_primary(error):
                    raise
                replicas.failed(replica, error)
        try:
            return await super()._run_in_pool(query, args)
        except Exception as error:
            if not lost_connection(error):
                raise
            await renew_pool()
            if not _is_read(query):
                raise
        return await super()._run_in_pool(query, args)


def _retry_on_primary(error: BaseException) -> bool:
    """Whether a read that failed on a replica is read again on the primary: always, unless its arguments
    were wrong (asyncpg's client-side DataError, a ValueError), which the primary would refuse the same way."""
    return not isinstance(error, ValueError)


async def _fetch_on(pool, sql: str, args: tuple, settings: dict[str, str] | None) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        if not settings:
            return await conn.fetch(sql, *args)
        async with conn.transaction(readonly=True):
            for name, value in settings.items():
                await conn.execute("SELECT set_config($1, $2, true)", name, value)
            return await conn.fetch(sql, *args)


async def fetch(sql: str, *args, settings: dict[str, str] | None = None) -> list[asyncpg.Record]:
    """A read-only query on the pool, retried once when the connection dropped (e.g. a Postgres restart
    leaves dead connections in the pool: the first use fails, the retry gets a fresh one). `settings`
    are planner settings local to the query's own read-only transaction (SET LOCAL). Inside a lag-tolerant
    read (core/replicas.py) a usable replica answers; if it fails, the primary does."""
    replica = replicas.choose()
    if replica is not None:
        try:
            return await _fetch_on(replica.pool, sql, args, settings)
        except Exception as error:
            if not _retry_on_primary(error):
                raise
            replicas.failed(replica, error)
    pool = engine().pool
    for attempt in (1, 2):
        try:
            return await _fetch_on(pool, sql, args, settings)
        except Exception as error:
            if attempt == 2 or not lost_connection(error):
                raise
            await renew_pool()
    raise AssertionError("unreachable")


async def fetchrow(sql: str, *args, settings: dict[str, str] | None = None) -> asyncpg.Record | None:
    rows = await fetch(sql, *args, settings=settings)
    return rows[0] if rows else None


async def execute(sql: str, *args) -> str:
    async with engine().pool.acquire() as conn:
        return await conn.execute(sql, *args)
