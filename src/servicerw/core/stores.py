"""Key-value stores (rate limits, sessions, cache) on Valkey that fail open.

Litestar's stock ValkeyStore turns every request into a 500 when Valkey is down, and waits the
client's 5 s default timeout when Valkey is frozen. This store wraps it: short socket timeouts, and on
any Valkey error it answers from an in-process MemoryStore and skips Valkey for a few seconds
(core/breaker.py), so pages keep working and throttling continues per process.

Counters (`incr`) are atomic: one round trip runs INCR and, for a new key, EXPIRE (a Lua script), and the
caller decides on the count it gets back. While Valkey is unreachable they count in this process only
(`Count.shared` is False): core/throttle.Limiter then divides its limit by the number of processes.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from litestar.stores.base import NamespacedStore
from litestar.stores.memory import MemoryStore
from litestar.stores.valkey import ValkeyStore
from valkey.asyncio import BlockingConnectionPool, Valkey
from valkey.exceptions import ValkeyError

from servicerw.core.breaker import CircuitBreaker
from servicerw.settings import ValkeySettings

# INCRBY, and the expiry set by the request that created the counter: one atomic step on the server, one
# round trip. `redis.call` is understood by Valkey and Redis alike. (The API's budgets, which count costs;
# the log-in limits use `_INCR` below, which counts hits and returns the window's end too.)
_INCR_BY = """
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return n
"""


class AmountCounters:
    """Counters with an expiry in this process (what `incr_by` falls back to without Valkey). No await between
    reading and writing: atomic within the event loop."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}

    def incr(self, key: str, amount: int, expires_in: int) -> int:
        now = time.monotonic()
        count, until = self._counts.get(key, (0, 0.0))
        if until <= now:
            count, until = 0, now + expires_in
            if len(self._counts) > 10000:  # forget expired counters now and then
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        self._counts[key] = (count + amount, until)
        return count + amount


@dataclass(frozen=True, slots=True)
class Count:
    value: int  # the count after this increment
    expires_in: int  # seconds until the window ends
    shared: bool  # counted in Valkey (every process sees it), else in this process only


# INCR, and EXPIRE when the key is new (or somehow has no expiry): a fixed window from the first hit.
_INCR = """
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
"""


class LocalCounters:
    """Fixed-window counters in this process (no await between read and write: atomic under asyncio)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self.max_keys = max_keys

    def incr(self, key: str, window: int, now: float | None = None) -> Count:
        now = time.monotonic() if now is None else now
        value, ends = self._counts.get(key, (0, 0.0))
        if ends <= now:
            value, ends = 0, now + window
            if len(self._counts) >= self.max_keys:
                self._sweep(now)
        self._counts[key] = (value + 1, ends)
        return Count(value + 1, max(1, round(ends - now)), shared=False)

    def reset(self, key: str) -> None:
        self._counts.pop(key, None)

    def mirror(self, key: str, count: Count, now: float | None = None) -> None:
        """Remember a count read from Valkey (the fallback starts from it, not from zero)."""
        now = time.monotonic() if now is None else now
        if key not in self._counts and len(self._counts) >= self.max_keys:
            self._sweep(now)
        self._counts[key] = (count.value, now + count.expires_in)

    def _sweep(self, now: float) -> None:
        self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        while len(self._counts) >= self.max_keys:  # all live: forget the oldest windows (fail open)
            self._counts.pop(next(iter(self._counts)))


class BoundedMemoryStore(MemoryStore):
    """Litestar's MemoryStore keeps every key until it is read after expiring: as the fallback of a Valkey that
    is unreachable (or too slow under load) it grew by every page's cached data for the hour of its TTL. This one
    forgets the oldest keys beyond `max_entries` (MemoryStore has no size bound of its own)."""

    __slots__ = ("max_entries",)

    def __init__(self, max_entries: int) -> None:
        super().__init__()
        self.max_entries = max_entries

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        await super().set(key, value, expires_in)
        while len(self._store) > self.max_entries:  # dicts keep insertion order: the oldest key first
            self._store.pop(next(iter(self._store)))


# Keys the in-process fallback keeps per namespace while Valkey is skipped, and the embedded default keeps when
# VALKEY_URL is not set (development, the demo).
FALLBACK_ENTRIES = 1000
MEMORY_ENTRIES = 5000


class FailOpenStore(NamespacedStore):
    def __init__(
        self,
        valkey: Valkey,
        namespace: str = "SERVICERW",
        *,
        breaker: CircuitBreaker,
        fallback: MemoryStore | None = None,
    ) -> None:
        self.valkey = valkey
        self.namespace = namespace
        self.primary = ValkeyStore(valkey, namespace=namespace, handle_client_shutdown=False)
        self.fallback = fallback or BoundedMemoryStore(FALLBACK_ENTRIES)
        self.breaker = breaker
        self.local_counters = LocalCounters()
        self._incr = valkey.register_script(_INCR)
        self.amount_counters = AmountCounters()
        self._incr_by = valkey.register_script(_INCR_BY)

    @classmethod
    def from_settings(
        cls, settings: ValkeySettings, timeout: float | None = None, name: str = "valkey"
    ) -> FailOpenStore:
        timeout = settings.socket_timeout if timeout is None else timeout
        # At most VALKEY_MAX_CONNECTIONS connections per client and process (the client's default is unbounded:
        # one per concurrent command, 98 seen under load); a command waits up to `timeout` for a free one.
        pool = BlockingConnectionPool.from_url(
            settings.url,
            max_connections=settings.max_connections,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry_on_timeout=False,
        )
        client = Valkey.from_pool(pool)
        return cls(client, breaker=CircuitBreaker(name, threshold=1, cooldown=settings.retry_after))

    def with_namespace(self, namespace: str) -> FailOpenStore:
        return FailOpenStore(self.valkey, f"{self.namespace}_{namespace}", breaker=self.breaker)

    @property
    def healthy(self) -> bool:
        return self.breaker.state == "closed"

    async def _call(self, name: str, *args):
        return await self._either(
            lambda: getattr(self.primary, name)(*args), lambda: getattr(self.fallback, name)(*args)
        )

    async def _either(self, primary: Callable[[], Awaitable], fallback: Callable[[], Awaitable]):
        if self.breaker.allow():
            try:
                result = await primary()
            except (ValkeyError, OSError, TimeoutError) as error:
                self.breaker.failure(error)
            else:
                self.breaker.success()
                return result
        return await fallback()

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        await self._call("set", key, value, expires_in)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        if renew_for is not None:
            # ValkeyStore renews through a Lua script calling `server.call`, which only Valkey knows;
            # GETEX (Redis >= 6.2 and Valkey) does the same in one command on either server.
            seconds = int(renew_for.total_seconds()) if isinstance(renew_for, timedelta) else int(renew_for)
            full_key = self.primary._make_key(key)
            return await self._either(
                lambda: self.valkey.getex(full_key, ex=seconds), lambda: self.fallback.get(key, renew_for)
            )
        return await self._call("get", key, renew_for)

    async def delete(self, key: str) -> None:
        await self._call("delete", key)

    async def incr(self, key: str, window: int) -> Count:
        """Add one to the counter `key` (a window of `window` seconds from its first hit) and return it."""
        if self.breaker.allow():
            try:
                value, ttl = await self._incr(keys=[self.primary._make_key(key)], args=[int(window)])
            except (ValkeyError, OSError, TimeoutError) as error:
                self.breaker.failure(error)
            else:
                self.breaker.success()
                count = Count(int(value), max(1, int(ttl)), shared=True)
                # Mirrored here: should Valkey fail in this window, this process goes on from the count it saw.
                self.local_counters.mirror(key, count)
                return count
        return self.local_counters.incr(key, window)

    async def reset(self, key: str) -> None:
        """Forget the counter `key` (in Valkey when reachable, and in this process)."""
        self.local_counters.reset(key)
        await self._either(lambda: self.primary.delete(key), lambda: self.fallback.delete(key))

    async def delete_all(self) -> None:
        await self._call("delete_all")

    async def exists(self, key: str) -> bool:
        return await self._call("exists", key)

    async def expires_in(self, key: str) -> int | None:
        return await self._call("expires_in", key)

    async def incr_by(self, key: str, amount: int, expires_in: int) -> int:
        """Add `amount` to a counter and return its new value; the counter is created with an expiry of
        `expires_in` seconds. Atomic across every process sharing the Valkey server, in one round trip (a
        Lua script); per process when Valkey is unreachable (the breaker then skips it for a while)."""
        full_key = self.primary._make_key(key)
        return int(
            await self._either(
                lambda: self._incr_by(keys=[full_key], args=[amount, expires_in]),
                lambda: _now(self.amount_counters.incr(key, amount, expires_in)),
            )
        )

    async def ping(self) -> bool:
        try:
            alive = bool(await self.valkey.ping())
        except (ValkeyError, OSError, TimeoutError) as error:
            self.breaker.failure(error)
            return False
        self.breaker.success()
        return alive

    async def close(self) -> None:
        await self.valkey.aclose()


class MemoryNamespacedStore(NamespacedStore):
    """The embedded default when VALKEY_URL is not set: one MemoryStore per namespace."""

    def __init__(self, namespace: str = "SERVICERW") -> None:
        self.namespace = namespace
        self._store = BoundedMemoryStore(MEMORY_ENTRIES)
        self._counters = LocalCounters()
        self._amounts = AmountCounters()

    def with_namespace(self, namespace: str) -> MemoryNamespacedStore:
        return MemoryNamespacedStore(f"{self.namespace}_{namespace}")

    async def incr_by(self, key: str, amount: int, expires_in: int) -> int:
        return self._amounts.incr(key, amount, expires_in)

    async def set(self, key, value, expires_in=None):
        await self._store.set(key, value, expires_in)

    async def get(self, key, renew_for=None):
        return await self._store.get(key, renew_for)

    async def delete(self, key):
        await self._store.delete(key)

    async def incr(self, key: str, window: int) -> Count:
        return self._counters.incr(key, window)

    async def reset(self, key: str) -> None:
        self._counters.reset(key)

    async def delete_all(self):
        await self._store.delete_all()

    async def exists(self, key):
        return await self._store.exists(key)

    async def expires_in(self, key):
        return await self._store.expires_in(key)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None


async def _now(value):
    return value


def build_store(settings: ValkeySettings) -> FailOpenStore | MemoryNamespacedStore:
    if settings.url:
        return FailOpenStore.from_settings(settings)
    return MemoryNamespacedStore()


def build_counter_store(settings: ValkeySettings) -> FailOpenStore | MemoryNamespacedStore:
    """The store of the log-in limits: its own connections and circuit, with a longer timeout
    (`counter_timeout`) than pages' caches get. A count must not fall back to this process only because the
    machine is busy: a connection that takes 300 ms to open under load is not a Valkey outage."""
    if settings.url:
        return FailOpenStore.from_settings(settings, timeout=settings.counter_timeout, name="valkey-counters")
    return MemoryNamespacedStore()
