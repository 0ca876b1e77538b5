"""A background loop for the app and `servicerw worker`: call `work()` until it finds nothing, then wait.

A worker can also be woken before its wait is over: `wake()`, called by a `NotifyListener` when PostgreSQL
delivers a NOTIFY on its channel (LISTEN on a dedicated connection). The polling stays as the fallback:
a notification lost with its connection costs at most one idle wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class PollingWorker:
    def __init__(
        self,
        name: str,
        work: Callable[[], Awaitable[int]],
        every: float = 1.0,
        on_stop: Callable[[], Awaitable[None]] | None = None,
        listener: NotifyListener | None = None,
    ) -> None:
        """`work` does one batch and returns how many items it handled; `every` is the wait when idle;
        `on_stop` releases what the work holds (connections), after the last batch."""
        self.name = name
        self.work = work
        self.every = every
        self.on_stop = on_stop
        self.listener = listener
        self._task: asyncio.Task | None = None
        self._stopping: asyncio.Event | None = None
        self._woken: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None  # the loop it runs on, while it runs

    def wake(self) -> None:
        """Do a batch now rather than at the end of the idle wait (on the worker's loop)."""
        if self._woken is not None:
            self._woken.set()

    async def _pause(self, seconds: float, wakeable: bool = False) -> None:
        if self._stopping is None:
            return
        waits = [asyncio.ensure_future(self._stopping.wait())]
        if wakeable and self._woken is not None:
            waits.append(asyncio.ensure_future(self._woken.wait()))
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits:
                waiter.cancel()

    async def run(self) -> None:
        while self._stopping is None or not self._stopping.is_set():
            try:
                if self._woken is not None:
                    self._woken.clear()  # a notification from now on wakes the next wait
                if not await self.work():
                    await self._pause(self.every, wakeable=True)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - keep the loop alive; the work stays queued
                log.warning(f"{self.name}_error", error=repr(error))
                await self._pause(self.every * 5)

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._woken = asyncio.Event()
        self._task = asyncio.create_task(self.run(), name=self.name)
        if self.listener is not None:
            self.listener.start(self.wake)

    async def stop(self, grace: float = 10.0) -> None:
        """Let the batch in hand finish (for up to `grace` seconds) so that its results are recorded,
        then stop. Cancelled work stays queued: it is picked up again later."""
        if self.listener is not None:
            await self.listener.stop()
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


# A connection for LISTEN: returned by `connect`, given back to `release` (a pool's acquire/release, or
# asyncpg.connect/close for a direct connection).
Connect = Callable[[], Awaitable[Any]]
Release = Callable[[Any], Awaitable[None]]


class NotifyListener:
    """LISTEN on `channel` on a connection of its own and call `on_notify` for every notification.

    When the connection drops (or stops answering the `check_every` ping) it is given back and another one
    is taken after `retry` seconds; meanwhile the worker polls as before. Each (re)connection also calls
    `on_notify` once: what was committed while nobody listened is picked up at once.
    """

    def __init__(
        self, channel: str, connect: Connect, release: Release, *, check_every: float = 10.0, retry: float = 1.0
    ) -> None:
        self.channel = channel
        self.connect = connect
        self.release = release
        self.check_every = check_every
        self.retry = retry
        self.connected = False
        self.connections = 0  # how many times a LISTEN connection was set up (reconnects show here)
        self._task: asyncio.Task | None = None

    def start(self, on_notify: Callable[[], None]) -> None:
        self._task = asyncio.create_task(self._run(on_notify), name=f"listen_{self.channel}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self, on_notify: Callable[[], None]) -> None:
        while True:
            try:
                await self._listen(on_notify)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - lost or refused connection: poll, then reconnect
                log.info("listen_lost", channel=self.channel, error=repr(error))
            self.connected = False
            await asyncio.sleep(self.retry)

    async def _listen(self, on_notify: Callable[[], None]) -> None:
        conn = await self.connect()
        lost = asyncio.Event()

        def notified(*_args) -> None:
            on_notify()

        def terminated(_conn) -> None:
            lost.set()

        try:
            conn.add_termination_listener(terminated)
            await conn.add_listener(self.channel, notified)
            self.connected = True
            self.connections += 1
            on_notify()
            while True:
                with suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self.check_every)
                if lost.is_set() or conn.is_closed():
                    raise ConnectionError("LISTEN connection closed")
                async with asyncio.timeout(self.check_every):  # a half-open connection answers nothing
                    await conn.fetchval("SELECT 1")
        finally:
            self.connected = False
            conn.remove_termination_listener(terminated)
            with suppress(Exception):
                if not conn.is_closed():
                    await conn.remove_listener(self.channel, notified)  # UNLISTEN before it goes back
            with suppress(Exception):
                await self.release(conn)
