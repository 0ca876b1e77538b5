"""A circuit breaker for calls to a service that may be down (Valkey, email providers).

closed: calls go through; `threshold` failures in a row open it. open: calls are refused for `cooldown`
seconds. half-open (after the cooldown): one trial call goes through, the others are still refused; the
trial's success closes the breaker, its failure opens it for another cooldown.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

log = structlog.get_logger(__name__)


class CircuitBreaker:
    def __init__(
        self, name: str, *, threshold: int = 1, cooldown: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.name = name
        self.threshold = max(1, threshold)
        self.cooldown = cooldown
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self._trial_started: float | None = None

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "open" if self.clock() - self.opened_at < self.cooldown else "half-open"

    @property
    def retry_in(self) -> float:
        """Seconds until a call may go through again (0 when closed or half-open)."""
        if self.opened_at is None:
            return 0.0
        return max(0.0, self.opened_at + self.cooldown - self.clock())

    def allow(self) -> bool:
        """May a call go through now? Every caller that gets True must report success() or failure()."""
        state = self.state
        if state != "half-open":
            return state == "closed"
        now = self.clock()
        # One trial at a time; a trial whose outcome never came (its caller was cancelled) expires.
        if self._trial_started is not None and now - self._trial_started < self.cooldown:
            return False
        self._trial_started = now
        return True

    def success(self) -> None:
        if self.opened_at is not None:
            log.info("circuit_closed", name=self.name)
        self.failures = 0
        self.opened_at = None
        self._trial_started = None

    def failure(self, error: BaseException | str) -> None:
        self.failures += 1
        if self.opened_at is None and self.failures < self.threshold:
            return
        if self.opened_at is None:
            log.warning("circuit_open", name=self.name, error=str(error) or repr(error), cooldown=self.cooldown)
        self.opened_at = self.clock()
        self._trial_started = None
