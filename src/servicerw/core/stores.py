"""Key-value stores (rate limits, sessions, cache) on Valkey that fail open.

Litestar's stock ValkeyStore turns every request into a 500 when Valkey is down, and waits the
client's 5 s default timeout when Valkey is frozen. This store wraps it: short socket timeouts, and on
any Valkey error it answers from an in-process MemoryStore and skips Valkey for a few seconds
(core/breaker.py), so pages keep working and throttling continues per process.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from litestar.stores.base import NamespacedStore
from litestar.stores.memory import MemoryStore
from litestar.stores.valkey import ValkeyStore
from valkey.asyncio import Valkey
from valkey.exceptions import ValkeyError

from servicerw.core.breaker import CircuitBreaker
from servicerw.settings import ValkeySettings

# INCRBY, and the expiry set by the request that created the counter: one atomic step on the server, one
# round trip. `redis.call` is understood by Valkey and Redis alike.
_INCR_SCRIPT = """
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return n
"""


class LocalCounters:
    """Counters with an expiry in this process (what `incr` falls back to without Valkey). No await between
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
        self.fallback = fallback or MemoryStore()
        self.breaker = breaker
        self.counters = LocalCounters()
        self._incr = valkey.register_script(_INCR_SCRIPT)

    @classmethod
    def from_settings(cls, settings: ValkeySettings) -> FailOpenStore:
        client = Valkey.from_url(
            settings.url,
            socket_timeout=settings.socket_timeout,
            socket_connect_timeout=settings.socket_timeout,
            retry_on_timeout=False,
        )
        return cls(client, breaker=CircuitBreaker("valkey", threshold=1, cooldown=settings.retry_after))

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

    async def delete_all(self) -> None:
        await self._call("delete_all")

    async def exists(self, key: str) -> bool:
        return await self._call("exists", key)

    async def expires_in(self, key: str) -> int | None:
        return await self._call("expires_in", key)

    async def incr(self, key: str, amount: int, expires_in: int) -> int:
        """Add `amount` to a counter and return its new value; the counter is created with an expiry of
        `expires_in` seconds. Atomic across every process sharing the Valkey server, in one round trip (a
        Lua script); per process when Valkey is unreachable (the breaker then skips it for a while)."""
        full_key = self.primary._make_key(key)
        return int(
            await self._either(
                lambda: self._incr(keys=[full_key], args=[amount, expires_in]),
                lambda: _now(self.counters.incr(key, amount, expires_in)),
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
        self._store = MemoryStore()

    def with_namespace(self, namespace: str) -> MemoryNamespacedStore:
        return MemoryNamespacedStore(f"{self.namespace}_{namespace}")

    async def incr(self, key: str, amount: int, expires_in: int) -> int:
        if not hasattr(self, "_counters"):
            self._counters = LocalCounters()
        return self._counters.incr(key, amount, expires_in)

    async def set(self, key, value, expires_in=None):
        await self._store.set(key, value, expires_in)

    async def get(self, key, renew_for=None):
        return await self._store.get(key, renew_for)

    async def delete(self, key):
        await self._store.delete(key)

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
