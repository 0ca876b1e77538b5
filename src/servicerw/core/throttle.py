"""Fixed-window counters in a key-value store (the fail-open Valkey store: per process when Valkey is down).

Hand-written beside Litestar's RateLimitConfig because these limits count only some events (failed
log-ins, created inquiries, not retries) and the form is shown again with a message and what was typed,
instead of a bare 429.
"""

from __future__ import annotations

from litestar.stores.base import Store


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
