"""A background loop for the app and `servicerw worker`: call `work()` until it finds nothing, then wait."""

from __future__ import annotations

import asyncio
from contextlib import suppress

import structlog

log = structlog.get_logger(__name__)


class PollingWorker:
    name = "worker"
    every = 1.0  # seconds to wait when there was nothing to do

    async def work(self) -> int:  # pragma: no cover - overridden
        """Do one batch; return how many items were handled."""
        raise NotImplementedError

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
        task = getattr(self, "_task", None)
        if task:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
