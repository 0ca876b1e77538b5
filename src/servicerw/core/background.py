"""A background loop for the app and `servicerw worker`: call `work()` until it finds nothing, then wait."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress

import structlog

log = structlog.get_logger(__name__)


class PollingWorker:
    def __init__(self, name: str, work: Callable[[], Awaitable[int]], every: float = 1.0) -> None:
        """`work` does one batch and returns how many items it handled; `every` is the wait when idle."""
        self.name = name
        self.work = work
        self.every = every
        self._task: asyncio.Task | None = None

    async def run(self) -> None:
        while True:
            try:
                if not await self.work():
                    await asyncio.sleep(self.every)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - keep the loop alive; the work stays queued
                log.warning(f"{self.name}_error", error=repr(error))
                await asyncio.sleep(self.every * 5)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=self.name)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
