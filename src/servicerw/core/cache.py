"""Data cache on the (fail-open) Valkey store, with the plan's lifetimes.

Values are JSON. Search results are cached under a version number that any change to a business bumps
(`invalidate_business`), so no search can serve a stale listing for long; profiles are deleted by slug.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.stores.base import Store

from servicerw.core.metrics import CACHE_HITS, CACHE_MISSES

PROFILE_TTL = 3600  # business profiles: 1 hour
SEARCH_TTL = 15 * 60  # search results: 15 minutes
REFERENCE_TTL = 24 * 3600  # categories and locations: 24 hours
LANGUAGES = ("rw", "en", "fr")


def digest(*parts: Any) -> str:
    raw = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()


class Cache:
    def __init__(self, store: Store, stale_window: float = 0.0) -> None:
        self.store = store
        # With read replicas (core/replicas.py), a visitor may refill an entry from a replica that has not yet
        # replayed the change just invalidated: the invalidation is repeated once `stale_window` seconds later
        # (longer than the lag of any replica in use), which drops such a stale refill.
        self.stale_window = stale_window
        self._repeats: set[asyncio.Task] = set()
        # Called with the version's name after each bump in this process (the page cache forgets its copy).
        self.bump_listeners: list[Callable[[str], None]] = []

    async def get(self, key: str) -> Any | None:
        raw = await self.store.get(key)
        kind = key.partition(":")[0]  # profile, search, counts, insights…: a few names, fixed by the code
        if raw is None:
            CACHE_MISSES.labels(kind).inc()
            return None
        CACHE_HITS.labels(kind).inc()
        return json.loads(raw)

    async def set(self, key: str, value: Any, ttl: int) -> None:
        await self.store.set(key, json.dumps(value, separators=(",", ":"), default=str), expires_in=ttl)

    async def get_or_load(self, key: str, ttl: int, loader: Callable[[], Awaitable[Any]]) -> tuple[Any, bool]:
        """The cached value and True, or the freshly loaded (and now cached) value and False."""
        cached = await self.get(key)
        if cached is not None:
            return cached, True
        value = await loader()
        await self.set(key, value, ttl)
        return value, False

    async def version(self, name: str) -> str:
        value = await self.store.get(f"version:{name}")
        return value.decode() if value else "0"

    async def bump(self, name: str) -> None:
        await self.store.set(f"version:{name}", str(time.time_ns()), expires_in=7 * 24 * 3600)
        for listener in self.bump_listeners:
            listener(name)

    @staticmethod
    def profile_key(slug: str, lang: str) -> str:
        return f"profile:{lang}:{slug}"

    async def invalidate_business(self, slug: str, old_slug: str | None = None) -> None:
        """The hook to call whenever a business changes (owner edit, moderation, new review...)."""
        await self._invalidate(slug, old_slug)
        if self.stale_window > 0:
            task = asyncio.create_task(self._invalidate_later(slug, old_slug))
            self._repeats.add(task)
            task.add_done_callback(self._repeats.discard)

    async def _invalidate_later(self, slug: str, old_slug: str | None) -> None:
        await asyncio.sleep(self.stale_window)
        await self._invalidate(slug, old_slug)

    async def _invalidate(self, slug: str, old_slug: str | None) -> None:
        for lang in LANGUAGES:
            await self.store.delete(self.profile_key(slug, lang))
            if old_slug:
                await self.store.delete(self.profile_key(old_slug, lang))
        await self.bump("search")
