"""A background loop for the app and `servicerw worker`: call `work()` until it finds nothing, then wait."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress

import structlog

log = structlog.get_logger(__name__)


class PollingWorker:
    def __init__(
        self,
        name: str,
        work: Callable[[], Awaitable[int]],
        every: float = 1.0,
        on_stop: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """`work` does one batch and returns how many items it handled; `every` is the wait when idle;
        `on_stop` releases what the work holds (connections), after the last batch."""
        self.name = name
        self.work = work
        self.every = every
        self.on_stop = on_stop
        self._task: asyncio.Task | None = None
        self._stopping: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None  # the loop it runs on, while it runs

    async def _pause(self, seconds: float) -> None:
        if self._stopping is not None:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), seconds)

    async def run(self) -> None:
        while self._stopping is None or not self._stopping.is_set():
            try:
                if not await self.work():
                    await self._pause(self.every)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - keep the loop alive; the work stays queued
                log.warning(f"{self.name}_error", error=repr(error))
                await self._pause(self.every * 5)

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self.run(), name=self.name)

    async def stop(self, grace: float = 10.0) -> None:
        """Let the batch in hand finish (for up to `grace` seconds) so that its results are recorded,
        then stop. Cancelled work stays queued: it is picked up again later."""
        if self._task is not None:
            assert self._stopping is not None
            self._stopping.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace)
            except TimeoutError:
                self._task.cancel()
                with suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
            self.loop = None
        if self.on_stop is not None:
            await self.on_stop()
