"""The email outbox: queueing in the caller's transaction, and the worker that delivers it. SMS rows
(`channel = 'sms'`, queued by `queue_sms`) share it: same claim, lease, retries and failover, through the
SMS providers of the chain (a provider only sends its own channel).

Delivery: a worker claims due rows in one short statement (FOR UPDATE SKIP LOCKED, so several workers
share the queue), marks them 'sending' with a lease, sends them concurrently through the provider chain
(EMAIL_PROVIDERS in order, each behind a circuit breaker: when one fails or times out the next one
sends) and records each result as soon as it is known. A failed email is retried with exponential backoff
and jitter, then marked dead after EMAIL_MAX_ATTEMPTS. A worker killed mid-send leaves its rows
'sending': when the lease expires they are sent again with the same idempotency key, so a provider that
had already accepted one can recognise it. Only the emails in flight at the crash can be sent twice.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg
import structlog
from prometheus_client.core import GaugeMetricFamily

from servicerw.core import db
from servicerw.core.background import NotifyListener, PollingWorker
from servicerw.core.breaker import CircuitBreaker
from servicerw.core.metrics import EMAIL_SENDS, on_scrape
from servicerw.notifications.providers import Outgoing, Provider, SendError, build_providers, build_sms_providers
from servicerw.settings import EmailSettings, SmsSettings

log = structlog.get_logger(__name__)


async def queue_email(conn, *, to: str, subject: str, body: str, language: str, kind: str, html: str = "") -> int:
    """Insert an email into the outbox on `conn`, inside the caller's transaction: if that transaction
    rolls back, the email never existed."""
    return await conn.fetchval(
        """INSERT INTO email_outbox (to_address, subject, body_text, body_html, language, kind)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
        to,
        subject[:200],
        body,
        html,
        language,
        kind,
    )


async def queue_sms(conn, *, to: str, text: str, language: str, kind: str, send_after=None) -> int:
    """Insert an SMS into the outbox on `conn`, inside the caller's transaction (`send_after`: not before)."""
    return await conn.fetchval(
        """INSERT INTO email_outbox (channel, to_address, subject, body_text, language, kind, send_after)
           VALUES ('sms', $1, '', $2, $3, $4, coalesce($5, now())) RETURNING id""",
        to,
        text,
        language,
        kind,
        send_after,
    )


async def record_delivery_report(provider: str, message_id: str, delivered: bool, *, pool=None) -> bool:
    """A provider's delivery report for one of our SMS: delivered or failed. False when no SMS sent by that
    provider has that id (a report for someone else's message, or a forged one)."""
    result = await (pool or db.engine().pool).execute(
        """UPDATE email_outbox SET delivery_status = $3, delivered_at = now()
           WHERE channel = 'sms' AND provider_message_id = $2 AND provider = $1 AND provider_message_id <> ''""",
        provider,
        message_id[:200],
        "delivered" if delivered else "failed",
    )
    return result != "UPDATE 0"


# --- the provider chain ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    provider: str
    message_id: str
    errors: tuple[str, ...] = ()  # what the providers before it answered


class DeliveryFailed(Exception):
    def __init__(self, errors: list[str], last_tried: str) -> None:
        super().__init__("; ".join(errors) or "no provider for this channel")
        self.errors = errors
        self.last_tried = last_tried  # "" when every circuit was open: nothing was tried


class ProviderChain:
    """Providers in order of preference, each behind its own circuit breaker."""

    def __init__(self, providers: list[Provider], settings: EmailSettings, clock: Callable[[], float] = time.monotonic):
        self.timeout = settings.timeout
        self.links = [
            (
                provider,
                CircuitBreaker(
                    f"{provider.channel}:{provider.name}",
                    threshold=settings.breaker_threshold,
                    cooldown=settings.breaker_cooldown,
                    clock=clock,
                ),
            )
            for provider in providers
        ]

    def breaker(self, name: str) -> CircuitBreaker:
        return next(breaker for provider, breaker in self.links if provider.name == name)

    @property
    def retry_in(self) -> float:
        """Seconds until some provider's circuit lets a call through."""
        return min((breaker.retry_in for _p, breaker in self.links), default=0.0)

    async def send(self, outgoing: Outgoing) -> Delivery:
        errors: list[str] = []
        last_tried = ""
        for provider, breaker in self.links:
            if provider.channel != outgoing.channel:
                continue
            if not breaker.allow():
                EMAIL_SENDS.labels(provider.name, "skipped").inc()
                errors.append(f"{provider.name}: circuit open")
                continue
            last_tried = provider.name
            try:
                # The provider's own timeouts (httpx, smtplib) are per operation; this bounds the whole call.
                async with asyncio.timeout(self.timeout):
                    message_id = await provider.send(outgoing)
            except Exception as error:  # noqa: BLE001 - SendError, timeout, or a bug: the next provider sends
                breaker.failure(error)
                EMAIL_SENDS.labels(provider.name, "failed").inc()
                if isinstance(error, TimeoutError):
                    errors.append(f"{provider.name}: no answer within {self.timeout:g} s")
                elif isinstance(error, SendError):
                    errors.append(str(error))
                else:
                    errors.append(f"{provider.name}: {error!r}")
                    log.exception("email_provider_error", provider=provider.name)
                continue
            breaker.success()
            EMAIL_SENDS.labels(provider.name, "accepted").inc()
            return Delivery(provider.name, message_id or "", tuple(errors))
        raise DeliveryFailed(errors, last_tried)

    async def close(self) -> None:
        for provider, _breaker in self.links:
            await provider.close()


# --- the worker -----------------------------------------------------------------------------------

CLAIM = """
WITH due AS (
    SELECT id FROM email_outbox
    WHERE status IN ('pending', 'sending') AND send_after <= now()
    ORDER BY send_after
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE email_outbox o
SET status = 'sending', attempts = o.attempts + 1, last_attempt_at = now(),
    send_after = now() + make_interval(secs => $2)
FROM due WHERE o.id = due.id
RETURNING o.id, o.channel, o.to_address, o.subject, o.body_text, o.body_html, o.language, o.kind, o.idempotency_key,
          o.attempts
"""
# Each result is written only if the row is still this claim's (a row whose lease ran out may have been
# claimed again by another worker, with attempts + 1).
SENT = """
UPDATE email_outbox SET status = 'sent', sent_at = now(), provider = $3, provider_message_id = $4, last_error = $5
WHERE id = $1 AND attempts = $2 AND status = 'sending'
"""
FAILED = """
UPDATE email_outbox SET status = $3, provider = $4, last_error = $5, send_after = now() + make_interval(secs => $6)
WHERE id = $1 AND attempts = $2 AND status = 'sending'
"""
NOT_TRIED = """
UPDATE email_outbox SET status = 'pending', attempts = attempts - 1, last_error = $3,
    send_after = now() + make_interval(secs => $4)
WHERE id = $1 AND attempts = $2 AND status = 'sending'
"""


class OutboxSender:
    def __init__(
        self,
        settings: EmailSettings,
        *,
        pool=None,
        providers: list[Provider] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`pool`: an asyncpg pool (default: the app's); `clock`: for the circuit breakers."""
        self.settings = settings
        self._pool = pool
        self.chain = ProviderChain(providers if providers is not None else build_providers(settings), settings, clock)
        self._in_flight: set[asyncio.Task] = set()  # the worker's sends (pump)
        self._slot_freed = asyncio.Event()
        # A send tries the providers of its own channel only.
        longest = max(
            (sum(p.channel == c.channel for p, _b in self.chain.links) for c, _b in self.chain.links), default=0
        )
        if settings.lease <= settings.timeout * longest:
            raise ValueError(
                f"EMAIL_LEASE ({settings.lease:g} s) must exceed EMAIL_TIMEOUT x providers "
                f"({settings.timeout:g} x {longest} s): a slow send would be claimed twice"
            )

    @property
    def pool(self):
        return self._pool or db.engine().pool

    def backoff(self, attempts: int) -> float:
        """Exponential, with 'equal jitter' so that emails that failed together do not retry together."""
        delay = min(self.settings.backoff_max, self.settings.backoff_base * 2 ** max(0, attempts - 1))
        return delay / 2 + random.uniform(0, delay / 2)

    async def claim(self, limit: int) -> list:
        return await self.pool.fetch(CLAIM, limit, self.settings.lease)

    async def send_pending(self) -> int:
        """One batch: claim up to EMAIL_CONCURRENCY due emails and send them at once; returns how many."""
        rows = await self.claim(self.settings.concurrency)
        results = await asyncio.gather(*(self._deliver(row) for row in rows), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):  # a result not recorded: the row is retried after its lease
                log.warning("outbox_record_failed", error=repr(result))
        return len(rows)

    async def _deliver(self, row) -> None:
        outgoing = Outgoing(
            to=row["to_address"],
            subject=row["subject"],
            text=row["body_text"],
            html=row["body_html"],
            language=row["language"],
            kind=row["kind"],
            idempotency_key=str(row["idempotency_key"]),
            channel=row["channel"],
        )
        id_, attempts = row["id"], row["attempts"]
        try:
            delivery = await self.chain.send(outgoing)
        except DeliveryFailed as failed:
            error = str(failed)[:1000]
            if not failed.last_tried:  # every circuit open: not an attempt, wait for one to half-open
                await self.pool.execute(NOT_TRIED, id_, attempts, error, max(1.0, self.chain.retry_in))
                return
            dead = attempts >= self.settings.max_attempts
            delay = 0.0 if dead else self.backoff(attempts)
            status = "dead" if dead else "pending"
            await self.pool.execute(FAILED, id_, attempts, status, failed.last_tried, error, delay)
            (log.error if dead else log.info)("email_" + ("dead" if dead else "retry"), id=id_, error=error)
            return
        await self.pool.execute(
            SENT, id_, attempts, delivery.provider, delivery.message_id[:200], "; ".join(delivery.errors)[:1000]
        )

    async def pump(self) -> int:
        """The worker's step: keep up to EMAIL_CONCURRENCY sends in flight, claiming due emails as slots free
        up (no batch waits for its slowest send). Returns how many it claimed (or 1 after waiting for a
        free slot, so the worker asks again at once); 0 when nothing is due."""
        free = self.settings.concurrency - len(self._in_flight)
        if free <= 0:
            self._slot_freed.clear()
            await self._slot_freed.wait()
            return 1
        rows = await self.claim(free)
        for row in rows:
            task = asyncio.create_task(self._deliver(row))
            self._in_flight.add(task)
            task.add_done_callback(self._done)
        return len(rows)

    def _done(self, task: asyncio.Task) -> None:
        self._in_flight.discard(task)
        self._slot_freed.set()
        if not task.cancelled() and task.exception() is not None:  # not recorded: retried after its lease
            log.warning("outbox_record_failed", error=repr(task.exception()))

    async def finish(self, grace: float = 10.0) -> None:
        """Let the sends in flight record their results (for up to `grace` seconds), then close the providers.
        A send cancelled here stays 'sending' and is sent again when its lease expires."""
        if self._in_flight:
            _done, pending = await asyncio.wait(set(self._in_flight), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        await self.close()

    async def close(self) -> None:
        await self.chain.close()


NOTIFY_CHANNEL = "email_outbox"  # NOTIFYed on commit by the email_outbox_notify trigger (migrations)


def outbox_listener(settings: EmailSettings, sender: OutboxSender) -> NotifyListener | None:
    """LISTEN on a direct connection (EMAIL_LISTEN_URL) or on one held from the sender's pool."""
    if settings.listen_url.lower() == "off":
        return None
    if settings.listen_url:
        url = settings.listen_url

        async def connect():
            return await asyncpg.connect(url, timeout=10)

        async def release(conn) -> None:
            await conn.close(timeout=5)

        return NotifyListener(NOTIFY_CHANNEL, connect, release)

    async def acquire():
        return await sender.pool.acquire(timeout=10)

    async def give_back(conn) -> None:
        await sender.pool.release(conn, timeout=5)

    return NotifyListener(NOTIFY_CHANNEL, acquire, give_back)


def outbox_worker(settings: EmailSettings, *, pool=None, sms: SmsSettings | None = None) -> PollingWorker:
    """Sends the outbox (emails, and SMS through SMS_PROVIDERS); started by the app (and by `servicerw
    worker`). Woken by NOTIFY when a message is queued; polls every second besides (retries coming due, and
    whenever LISTEN is down). Up to EMAIL_CONCURRENCY sends in flight, each slot refilled as soon as it is free."""
    providers = build_providers(settings) + build_sms_providers(settings, sms or SmsSettings())
    sender = OutboxSender(settings, pool=pool, providers=providers)
    return PollingWorker(
        "outbox_worker", sender.pump, on_stop=sender.finish, listener=outbox_listener(settings, sender)
    )


# --- delivery statistics --------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryCounts:
    sent: int = 0
    dead: int = 0
    pending: int = 0  # waiting for their first try or a retry
    in_flight: int = 0  # claimed by a worker ('sending')

    @property
    def rate(self) -> float | None:
        """sent / (sent + dead); None before any email is finished."""
        done = self.sent + self.dead
        return self.sent / done if done else None


@dataclass(frozen=True)
class DeliveryStats:
    hours: int
    overall: DeliveryCounts
    # By provider: the one that sent the email, or the last one tried for the others (emails never tried
    # yet count only in `overall`).
    providers: dict[str, DeliveryCounts] = field(default_factory=dict)


_COUNT_FIELD = {"sent": "sent", "dead": "dead", "pending": "pending", "sending": "in_flight"}


async def delivery_stats(hours: int = 24, *, pool=None, channel: str = "email") -> DeliveryStats:
    """What became of the emails (or SMS) queued in the last `hours` hours, overall and by provider."""
    rows = await (pool or db.engine().pool).fetch(
        """SELECT provider, status, count(*) AS n FROM email_outbox
           WHERE created_at >= now() - make_interval(hours => $1) AND channel = $2 GROUP BY provider, status""",
        hours,
        channel,
    )
    overall: dict[str, int] = {}
    by_provider: dict[str, dict[str, int]] = {}
    for row in rows:
        name = _COUNT_FIELD[row["status"]]
        overall[name] = overall.get(name, 0) + row["n"]
        if row["provider"]:
            counts = by_provider.setdefault(row["provider"], {})
            counts[name] = counts.get(name, 0) + row["n"]
    return DeliveryStats(
        hours=hours,
        overall=DeliveryCounts(**overall),
        providers={name: DeliveryCounts(**counts) for name, counts in sorted(by_provider.items())},
    )


@on_scrape
async def email_metrics() -> list[GaugeMetricFamily]:
    """The delivery rate and the outbox by status over the last 24 hours, read when a scrape comes."""
    stats = await delivery_stats(24)
    rate = GaugeMetricFamily(
        "servicerw_email_delivery_rate",
        "Sent / (sent + dead) of the emails queued in the last 24 hours, by provider ('all': every email)",
        labels=["provider"],
    )
    for name, counts in [("all", stats.overall), *stats.providers.items()]:
        if counts.rate is not None:
            rate.add_metric([name], counts.rate)
    queue = GaugeMetricFamily(
        "servicerw_email_outbox",
        "Emails queued in the last 24 hours, by status (pending, sending, sent, dead)",
        labels=["status"],
    )
    for status, name in _COUNT_FIELD.items():
        queue.add_metric([status], getattr(stats.overall, name))
    return [rate, queue]
