"""Fixed-window counters in a key-value store (the fail-open Valkey store: per process when Valkey is down).

`Throttle` (get, then set: inquiries, claims, reports) counts only some events after the fact; `Limiter`
(the account forms) counts atomically before the work it guards.

Hand-written beside Litestar's RateLimitConfig because these limits count only some events (failed
log-ins, created inquiries, not retries) and the form is shown again with a message and what was typed,
instead of a bare 429.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from litestar.stores.base import Store

from servicerw.core.stores import Count


class Throttle:
    def __init__(self, store: Store, limit: int, window: int) -> None:
        self.store = store
        self.limit = limit
        self.window = window

    async def exceeded(self, key: str) -> bool:
        raw = await self.store.get(key)
        return raw is not None and int(raw) >= self.limit

    async def hit(self, key: str) -> None:
        raw = await self.store.get(key)
        await self.store.set(key, str(int(raw or 0) + 1), expires_in=self.window)


class Counters(Protocol):
    """What `Limiter` needs from a store (core/stores.py: FailOpenStore, MemoryNamespacedStore)."""

    async def incr(self, key: str, window: int) -> Count: ...

    async def reset(self, key: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the window ends


class Limiter:
    """At most `limit` events per `window` seconds per key, counted atomically BEFORE the guarded work
    (INCR, then decide on the count it returned): 20 simultaneous attempts against a limit of 10 let exactly
    10 through, in one process or many.

    While Valkey is unreachable the counters are per process; each process then allows `limit // processes`
    (at least 1), so N processes together never allow more than the limit (ARCHITECTURE.md, "Sessions, CSRF,
    throttling")."""

    def __init__(self, counters: Counters, limit: int, window: int, processes: int = 1) -> None:
        self.counters = counters
        self.limit = limit
        self.window = window
        self.processes = max(1, processes)

    @property
    def local_limit(self) -> int:
        return max(1, self.limit // self.processes)

    async def take(self, key: str) -> Verdict:
        count = await self.counters.incr(key, self.window)
        allowed = count.value <= (self.limit if count.shared else self.local_limit)
        return Verdict(allowed, count.expires_in)

    async def clear(self, key: str) -> None:
        await self.counters.reset(key)
