"""Durable email sending: the outbox worker against real HTTP peers (fake SendGrid and SES servers on
free ports, tests/fake_providers.py), a real SMTP server (aiosmtpd) and the real database.

Failover, the circuit breaker, retries with backoff and dead-lettering, concurrency, a worker killed with
SIGKILL mid-batch, and the delivery statistics and /metrics. Nothing is mocked; the breaker's clock is
the only thing a test moves by hand (no test waits for a cooldown or asserts a duration).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes, policy

import asyncpg
import pytest

from servicerw.core.breaker import CircuitBreaker
from servicerw.core.metrics import REGISTRY
from servicerw.notifications.providers import Outgoing, SmtpProvider
from servicerw.notifications.services import CLAIM, OutboxSender, delivery_stats, outbox_worker, queue_email
from servicerw.settings import EmailSettings
from tests.fake_providers import FakeSendGrid, FakeSes
from tests.helpers import free_port, wait_for

SENDGRID_KEY = "SG.test-key"


@pytest.fixture(scope="module")
def sendgrid():
    fake = FakeSendGrid(SENDGRID_KEY).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def ses():
    fake = FakeSes().start()
    yield fake
    fake.stop()


@pytest.fixture
def fakes(sendgrid, ses):
    sendgrid.reset()
    ses.reset()
    return sendgrid, ses


@pytest.fixture
async def pool(email_worker_paused, clean_db):
    """A pool of the test's own loop on the emptied test database, with the app's worker paused."""
    pool = await asyncpg.create_pool(clean_db, min_size=1, max_size=12)
    try:
        yield pool
    finally:
        await pool.close()


def email_settings(sendgrid: FakeSendGrid, ses: FakeSes, **overrides) -> EmailSettings:
    base = EmailSettings(
        providers=("sendgrid", "ses"),
        sender="ServiceRW <no-reply@servicerw.rw>",
        sendgrid_api_key=SENDGRID_KEY,
        sendgrid_url=sendgrid.url,
        ses_region=ses.region,
        ses_access_key_id=ses.credentials.access_key,
        ses_secret_access_key=ses.credentials.secret_key,
        ses_endpoint_url=ses.url,
        timeout=2.0,
        concurrency=10,
        max_attempts=3,
        backoff_base=0.01,
        backoff_max=0.05,
        lease=30.0,
        breaker_threshold=100,
        breaker_cooldown=30.0,
    )
    return replace(base, **overrides)


async def queue(pool, count: int, **fields) -> list[int]:
    async with pool.acquire() as conn, conn.transaction():
        return [
            await queue_email(
                conn,
                to=fields.get("to", f"user{i}@example.rw"),
                subject=fields.get("subject", f"Subject {i}"),
                body=fields.get("body", f"Hello {i}"),
                html=fields.get("html", ""),
                language="en",
                kind=fields.get("kind", "test"),
            )
            for i in range(count)
        ]


async def drain(sender: OutboxSender) -> None:
    """Send batches until nothing is due."""
    while await sender.send_pending():
        pass


async def rows(pool) -> list:
    return await pool.fetch("SELECT * FROM email_outbox ORDER BY id")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- the providers' requests ----------------------------------------------------------------------


async def test_sendgrid_gets_the_bearer_key_and_a_v3_payload_with_the_idempotency_key(pool, fakes):
    sendgrid, ses = fakes
    [email_id] = await queue(pool, 1, to="aline@example.rw", subject="Muraho", body="Text part", html="<p>HTML</p>")
    sender = OutboxSender(email_settings(sendgrid, ses, providers=("sendgrid",)), pool=pool)
    await drain(sender)
    await sender.close()

    row = (await rows(pool))[0]
    key = str(row["idempotency_key"])
    payload = sendgrid.delivered[key]
    assert payload["personalizations"] == [{"to": [{"email": "aline@example.rw"}]}]
    assert payload["from"] == {"email": "no-reply@servicerw.rw", "name": "ServiceRW"}
    assert payload["subject"] == "Muraho"
    assert payload["content"] == [
        {"type": "text/plain", "value": "Text part"},
        {"type": "text/html", "value": "<p>HTML</p>"},
    ]
    assert payload["custom_args"] == {"idempotency_key": key, "kind": "test"}
    assert row["id"] == email_id and row["status"] == "sent" and row["provider"] == "sendgrid"
    assert row["provider_message_id"] == f"sg-{key[:8]}" and row["attempts"] == 1 and row["last_error"] == ""
    assert row["created_at"] <= row["last_attempt_at"] <= row["sent_at"]
    assert sendgrid.refused == [] and ses.calls == 0


async def test_sendgrid_refuses_a_wrong_key_and_the_email_stays_queued(pool, fakes):
    sendgrid, ses = fakes
    await queue(pool, 1)
    sender = OutboxSender(
        email_settings(sendgrid, ses, providers=("sendgrid",), sendgrid_api_key="SG.wrong"), pool=pool
    )
    await sender.send_pending()
    await sender.close()
    row = (await rows(pool))[0]
    assert row["status"] == "pending" and row["attempts"] == 1 and "HTTP 401" in row["last_error"]
    assert sendgrid.delivered == {} and sendgrid.refused == ["auth: wrong or missing Bearer key"]


async def test_ses_gets_a_sigv4_signed_v2_request_that_the_server_verifies(pool, fakes):
    sendgrid, ses = fakes
    await queue(pool, 2, subject="Inquiry", body="Plain", html="<b>Rich</b>")
    sender = OutboxSender(email_settings(sendgrid, ses, providers=("ses",)), pool=pool)
    await drain(sender)
    await sender.close()

    assert ses.refused == [] and len(ses.delivered) == 2
    for row in await rows(pool):
        key = str(row["idempotency_key"])
        payload = ses.delivered[key]
        assert payload["FromEmailAddress"] == "ServiceRW <no-reply@servicerw.rw>"
        assert payload["Destination"] == {"ToAddresses": [row["to_address"]]}
        assert payload["Content"]["Simple"] == {
            "Subject": {"Data": "Inquiry", "Charset": "UTF-8"},
            "Body": {
                "Text": {"Data": "Plain", "Charset": "UTF-8"},
                "Html": {"Data": "<b>Rich</b>", "Charset": "UTF-8"},
            },
        }
        assert {"Name": "idempotency_key", "Value": key} in payload["EmailTags"]
        assert row["status"] == "sent" and row["provider"] == "ses" and row["provider_message_id"].startswith("ses-")


async def test_ses_refuses_a_request_signed_with_another_secret(pool, fakes):
    sendgrid, ses = fakes
    await queue(pool, 1)
    settings = email_settings(sendgrid, ses, providers=("ses",), ses_secret_access_key="not-the-secret")
    sender = OutboxSender(settings, pool=pool)
    await sender.send_pending()
    await sender.close()
    assert ses.delivered == {} and ses.refused == ["auth: signature does not match"]
    assert "HTTP 401" in (await rows(pool))[0]["last_error"]


async def test_smtp_keeps_the_key_as_message_id_and_reuses_its_connections(pool, fakes):
    from aiosmtpd.controller import Controller

    class Sink:
        def __init__(self) -> None:
            self.messages: list[bytes] = []
            self.sessions: set[int] = set()

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            self.sessions.add(id(session))
            self.messages.append(envelope.content)
            return "250 OK"

    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = email_settings(*fakes, providers=("smtp",), smtp_url=f"smtp://127.0.0.1:{port}", concurrency=4)
        await queue(pool, 40, body="A line of the body.\n" * 100)  # over 1,000 bytes: CRLF line ends matter
        sender = OutboxSender(settings, pool=pool)
        await drain(sender)
        await sender.close()
    finally:
        controller.stop()
    assert len(sink.messages) == 40
    assert len(sink.sessions) <= 4  # one connection per concurrency slot, not one per email
    keys = {str(r["idempotency_key"]) for r in await rows(pool)}
    parsed = [message_from_bytes(m, policy=policy.default) for m in sink.messages]
    assert {p["Message-ID"][1:].split("@")[0] for p in parsed} == keys
    assert all(p.get_content() == "A line of the body.\n" * 100 for p in parsed)


# --- failover and the circuit breaker -------------------------------------------------------------


async def test_primary_answering_500_every_email_is_delivered_by_the_backup(pool, fakes):
    sendgrid, ses = fakes
    sendgrid.mode = "error"
    await queue(pool, 25)
    sender = OutboxSender(email_settings(sendgrid, ses), pool=pool)
    await drain(sender)
    await sender.close()
    emails = await rows(pool)
    assert {r["status"] for r in emails} == {"sent"} and {r["provider"] for r in emails} == {"ses"}
    assert all(r["attempts"] == 1 and "sendgrid: HTTP 500" in r["last_error"] for r in emails)
    assert set(ses.delivered) == {str(r["idempotency_key"]) for r in emails}
    assert sendgrid.delivered == {} and sendgrid.calls == 25


async def test_primary_timing_out_the_backup_sends(pool, fakes):
    sendgrid, ses = fakes
    sendgrid.mode = "hang"
    await queue(pool, 5)
    sender = OutboxSender(email_settings(sendgrid, ses, timeout=0.5), pool=pool)
    await drain(sender)
    await sender.close()
    emails = await rows(pool)
    assert {(r["status"], r["provider"]) for r in emails} == {("sent", "ses")}
    assert all("sendgrid: no answer within 0.5 s" in r["last_error"] for r in emails)
    assert len(ses.delivered) == 5 and sendgrid.delivered == {}


async def test_breaker_opens_after_n_failures_then_one_trial_after_the_cooldown_closes_it(pool, fakes):
    sendgrid, ses = fakes
    sendgrid.mode = "error"
    clock = Clock()
    settings = email_settings(sendgrid, ses, concurrency=1, breaker_threshold=3, breaker_cooldown=30)
    sender = OutboxSender(settings, pool=pool, clock=clock)
    breaker = sender.chain.breaker("sendgrid")
    skipped = REGISTRY.get_sample_value("servicerw_email_sends_total", {"provider": "sendgrid", "result": "skipped"})

    await queue(pool, 6)
    await drain(sender)
    assert sendgrid.calls == 3 and len(ses.delivered) == 6  # open after 3 failures: 3 emails went straight to SES
    assert breaker.state == "open"
    after = REGISTRY.get_sample_value("servicerw_email_sends_total", {"provider": "sendgrid", "result": "skipped"})
    assert after - (skipped or 0) == 3

    sendgrid.mode = "ok"  # recovered, but the circuit is open until the cooldown has passed
    await queue(pool, 2)
    await drain(sender)
    assert sendgrid.calls == 3 and len(ses.delivered) == 8

    sendgrid.mode = "error"
    clock.now += 31  # half-open: one trial, which fails and opens the circuit again
    await queue(pool, 2)
    await drain(sender)
    assert sendgrid.calls == 4 and len(ses.delivered) == 10 and breaker.state == "open"

    sendgrid.mode = "ok"
    clock.now += 31  # the trial succeeds: closed, the primary sends again
    await queue(pool, 4)
    await drain(sender)
    await sender.close()
    assert breaker.state == "closed" and sendgrid.calls == 8 and len(sendgrid.delivered) == 4
    latest = await pool.fetch("SELECT provider FROM email_outbox ORDER BY id DESC LIMIT 4")
    assert {r["provider"] for r in latest} == {"sendgrid"}


def test_breaker_half_open_lets_a_single_trial_through():
    clock = Clock()
    breaker = CircuitBreaker("test", threshold=2, cooldown=10, clock=clock)
    breaker.failure("boom")
    assert breaker.state == "closed" and breaker.allow()
    breaker.failure("boom")
    assert breaker.state == "open" and not breaker.allow() and breaker.retry_in == 10
    clock.now += 10
    assert breaker.state == "half-open"
    assert [breaker.allow() for _ in range(5)] == [True, False, False, False, False]
    clock.now += 10  # the trial never reported back (its caller was cancelled): another may go
    assert breaker.allow() and not breaker.allow()
    breaker.success()
    assert breaker.state == "closed" and all(breaker.allow() for _ in range(5))


# --- retries, dead letters ------------------------------------------------------------------------


async def test_retries_with_backoff_then_dead_with_the_last_error(pool, fakes):
    sendgrid, ses = fakes
    sendgrid.mode = "error"
    settings = email_settings(
        sendgrid, ses, providers=("sendgrid",), max_attempts=4, backoff_base=0.05, backoff_max=0.1
    )
    sender = OutboxSender(settings, pool=pool)
    await queue(pool, 1)
    for attempt, backoff in enumerate((0.05, 0.1, 0.1, None), start=1):
        await wait_for(sender.send_pending, timeout=60)  # until the retry is due
        row = (await rows(pool))[0]
        assert row["attempts"] == attempt
        if backoff:  # retried no sooner than half the exponential delay (jitter takes up to half off)
            assert row["status"] == "pending"
            assert (row["send_after"] - row["last_attempt_at"]).total_seconds() >= backoff / 2
    await sender.close()
    assert row["status"] == "dead" and row["sent_at"] is None and row["provider"] == "sendgrid"
    assert "sendgrid: HTTP 500" in row["last_error"] and sendgrid.calls == 4


def test_backoff_is_exponential_with_jitter_and_capped(fakes):
    sender = OutboxSender(email_settings(*fakes, backoff_base=1, backoff_max=8), providers=[])
    for attempts, full in ((1, 1), (2, 2), (3, 4), (4, 8), (5, 8), (9, 8)):
        delays = [sender.backoff(attempts) for _ in range(200)]
        assert all(full / 2 <= d <= full for d in delays) and len(set(delays)) > 100


async def test_an_open_circuit_on_every_provider_does_not_use_up_attempts(pool, fakes):
    sendgrid, ses = fakes
    sendgrid.mode = "error"
    settings = email_settings(sendgrid, ses, providers=("sendgrid",), breaker_threshold=1, breaker_cooldown=600)
    sender = OutboxSender(settings, pool=pool)
    await queue(pool, 2)
    await sender.send_pending()  # both tried at once, both failed: the circuit is open
    await pool.execute("UPDATE email_outbox SET send_after = now()")  # due again at once
    await sender.send_pending()
    await sender.close()
    for row in await rows(pool):
        assert row["status"] == "pending" and row["attempts"] == 1 and row["last_error"] == "sendgrid: circuit open"
        assert (row["send_after"] - row["last_attempt_at"]).total_seconds() > 500  # back when it half-opens
    assert sendgrid.calls == 2


# --- concurrency, crash -----------------------------------------------------------------------------


async def test_the_worker_keeps_ten_emails_in_flight_at_once(pool, fakes):
    sendgrid, ses = fakes
    sendgrid.gate = 10  # each request is held until 10 are in flight (or 10 s pass)
    await queue(pool, 30)
    worker = outbox_worker(email_settings(sendgrid, ses, providers=("sendgrid",), concurrency=10), pool=pool)
    worker.start()
    try:

        async def all_sent():
            return await pool.fetchval("SELECT count(*) FROM email_outbox WHERE status = 'sent'") == 30

        await wait_for(all_sent, timeout=30, message="the 30 emails sent")
    finally:
        await worker.stop()
    assert sendgrid.max_in_flight == 10 and sendgrid.calls == len(sendgrid.delivered) == 30


def _start_worker(sendgrid: FakeSendGrid, log) -> subprocess.Popen:
    env = {
        **os.environ,
        "EMAIL_PROVIDERS": "sendgrid",
        "SENDGRID_URL": sendgrid.url,
        "SENDGRID_API_KEY": SENDGRID_KEY,
        "EMAIL_CONCURRENCY": "10",
        "EMAIL_TIMEOUT": "2",
        "EMAIL_LEASE": "5",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "servicerw.cli", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
    )


async def test_a_worker_killed_mid_batch_loses_nothing_and_sends_each_key_once(pool, fakes, tmp_path):
    sendgrid, _ses = fakes
    sendgrid.delay = 0.2
    await queue(pool, 300, kind="killed")
    log = (tmp_path / "worker.log").open("wb")
    worker = _start_worker(sendgrid, log)
    try:

        async def some_delivered_and_more_in_flight():
            return len(sendgrid.delivered) >= 60 and sendgrid.in_flight > 0

        await wait_for(some_delivered_and_more_in_flight, timeout=60)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        worker.kill()
    in_doubt = [r["id"] for r in await pool.fetch("SELECT id FROM email_outbox WHERE status = 'sending'")]
    assert 1 <= len(in_doubt) <= 10  # claimed, maybe sent, not recorded: the emails in flight at the kill
    assert await pool.fetchval("SELECT count(*) FROM email_outbox WHERE status = 'sent'") < 300

    worker = _start_worker(sendgrid, log)
    try:

        async def all_sent():
            return await pool.fetchval("SELECT count(*) FROM email_outbox WHERE status = 'sent'") == 300

        await wait_for(all_sent, timeout=60)
        worker.send_signal(signal.SIGTERM)  # graceful: the batch in hand finishes first
        assert worker.wait(30) == 0, (tmp_path / "worker.log").read_text()[-3000:]
    finally:
        worker.kill()
        log.close()
    keys = {str(r["idempotency_key"]) for r in await rows(pool)}
    assert set(sendgrid.delivered) == keys  # every email delivered, each key accepted once
    # Sent again only if the fake had accepted them before the kill: at most the emails in flight then.
    assert 1 <= sendgrid.duplicates <= len(in_doubt)
    again = await pool.fetch("SELECT attempts FROM email_outbox WHERE id = ANY($1::int[])", in_doubt)
    assert {r["attempts"] for r in again} == {2}  # claimed again once their lease had expired


# --- statistics and metrics -----------------------------------------------------------------------


async def _insert(pool, status: str, provider: str, count: int, age: timedelta = timedelta(hours=1)) -> None:
    await pool.execute(
        """INSERT INTO email_outbox (to_address, subject, body_text, status, provider, created_at, send_after)
           SELECT 'x@example.rw', 's', 'b', $1, $2, now() - $4::interval, now() + interval '1 day'
           FROM generate_series(1, $3)""",
        status,
        provider,
        count,
        age,
    )


def _sample(text: str, name: str, labels: str) -> float:
    return float(re.search(rf"^{name}\{{{labels}\}} (\S+)$", text, re.M).group(1))


async def test_delivery_stats_and_metrics_report_the_outbox(pool, fakes, client, app):
    await _insert(pool, "sent", "sendgrid", 6)
    await _insert(pool, "dead", "sendgrid", 2)
    await _insert(pool, "sent", "ses", 2)
    await _insert(pool, "pending", "", 3)
    await _insert(pool, "pending", "sendgrid", 1)  # tried once, waiting for a retry
    await _insert(pool, "sending", "", 1)
    await _insert(pool, "sent", "smtp", 5, age=timedelta(days=2))  # outside the window

    stats = await delivery_stats(24, pool=pool)
    assert (stats.overall.sent, stats.overall.dead, stats.overall.pending, stats.overall.in_flight) == (8, 2, 4, 1)
    assert stats.overall.rate == 0.8
    assert set(stats.providers) == {"sendgrid", "ses"}
    assert (stats.providers["sendgrid"].sent, stats.providers["sendgrid"].dead) == (6, 2)
    assert stats.providers["sendgrid"].pending == 1 and stats.providers["sendgrid"].rate == 0.75
    assert stats.providers["ses"].rate == 1.0
    assert (await delivery_stats(72, pool=pool)).overall.sent == 13

    accepted = {"provider": "sendgrid", "result": "accepted"}
    before = REGISTRY.get_sample_value("servicerw_email_sends_total", accepted) or 0
    await queue(pool, 1)
    sender = OutboxSender(email_settings(*fakes), pool=pool)
    await drain(sender)
    await sender.close()

    from dataclasses import replace

    original = app.state.settings  # the database's gauges read now, not a scrape's of a few seconds ago
    app.state.settings = replace(original, server=replace(original.server, metrics_cache_seconds=0))
    try:
        response = await client.get("/metrics")
    finally:
        app.state.settings = original
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert _sample(text, "servicerw_email_sends_total", 'provider="sendgrid",result="accepted"') == before + 1
    assert _sample(text, "servicerw_email_delivery_rate", 'provider="all"') == pytest.approx(9 / 11)
    assert _sample(text, "servicerw_email_delivery_rate", 'provider="sendgrid"') == pytest.approx(7 / 9)
    assert _sample(text, "servicerw_email_delivery_rate", 'provider="ses"') == 1.0
    assert _sample(text, "servicerw_email_outbox", 'status="pending"') == 4
    assert _sample(text, "servicerw_email_outbox", 'status="sending"') == 1
    assert _sample(text, "servicerw_email_outbox", 'status="dead"') == 2


async def test_metrics_ask_for_the_token_when_one_is_set(app, client):
    """The app reads its settings from what create_app was given (app.state.settings), not a global."""
    from dataclasses import replace

    original = app.state.settings
    app.state.settings = replace(original, server=replace(original.server, metrics_token="scrape-me"))
    try:
        assert (await client.get("/metrics")).status_code == 404
        assert (await client.get("/metrics", headers={"authorization": "Bearer nope"})).status_code == 404
        assert (await client.get("/metrics", headers={"authorization": "Bearer scrape-me"})).status_code == 200
    finally:
        app.state.settings = original


async def test_the_claim_query_reads_the_partial_index(pool):
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL enable_seqscan = off")
        select = CLAIM.split("AS (", 1)[1].split(")\nUPDATE", 1)[0]
        plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN " + select.replace("$1", "10")))
    assert "idx_email_outbox_due" in plan


def test_smtp_message_has_both_parts_the_key_and_no_header_injection():
    settings = EmailSettings(providers=("smtp",), smtp_url="smtp://127.0.0.1:1", sender="Serivisi Ré <no-reply@x.rw>")
    outgoing = Outgoing(
        to="a@example.rw",
        subject="Réinitialiser\r\nBcc: evil@example.com",
        text="Muraho é",
        html="<p>é</p>",
        idempotency_key="k-1",
        language="fr",
    )
    parsed = message_from_bytes(SmtpProvider(settings).message(outgoing).as_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == "<k-1@servicerw>" and parsed["Content-Language"] == "fr"
    assert parsed["Bcc"] is None and parsed["Subject"] == "Réinitialiser Bcc: evil@example.com"
    assert parsed["From"].addresses[0].display_name == "Serivisi Ré" and parsed["Date"]
    assert parsed.get_body(("plain",)).get_content() == "Muraho é"
    assert parsed.get_body(("html",)).get_content() == "<p>é</p>"


# --- waking the worker: LISTEN/NOTIFY -------------------------------------------------------------


def _never_polls(worker):
    worker.every = 3600.0  # idle waits of an hour: only a notification can make it send
    return worker


async def _sent(pool, count: int) -> bool:
    return await pool.fetchval("SELECT count(*) FROM email_outbox WHERE status = 'sent'") == count


async def test_a_committed_email_wakes_an_idle_worker_and_a_rolled_back_one_does_not(pool, fakes):
    sendgrid, ses = fakes
    worker = _never_polls(outbox_worker(email_settings(sendgrid, ses, providers=("sendgrid",)), pool=pool))
    worker.start()
    try:
        await wait_for(lambda: worker.listener.connected, timeout=10, message="the worker listening")
        async with pool.acquire() as conn:
            with pytest.raises(RuntimeError):
                async with conn.transaction():
                    await queue_email(conn, to="gone@example.rw", subject="s", body="b", language="en", kind="t")
                    raise RuntimeError("the caller's transaction fails")
        await queue(pool, 3)
        await wait_for(lambda: _sent(pool, 3), timeout=10, message="the 3 committed emails sent without a poll")
    finally:
        await worker.stop()
    assert [r["to_address"] for r in await rows(pool)] == [f"user{i}@example.rw" for i in range(3)]
    assert len(sendgrid.delivered) == 3


async def test_the_listen_connection_cut_reconnects_and_nothing_queued_meanwhile_is_lost(pool, fakes, clean_db):
    sendgrid, ses = fakes
    # A direct LISTEN connection (EMAIL_LISTEN_URL), so that its backend can be told apart and terminated.
    settings = email_settings(sendgrid, ses, providers=("sendgrid",), listen_url=clean_db)
    worker = outbox_worker(settings, pool=pool)
    worker.listener.retry = 0.2
    worker.start()
    try:
        await wait_for(lambda: worker.listener.connected, timeout=10, message="the worker listening")
        await queue(pool, 2)
        await wait_for(lambda: _sent(pool, 2), timeout=10, message="2 emails sent")
        worker.every = 3600.0  # from now on only notifications (and the reconnection's catch-up) send
        listening = await pool.fetch(
            """SELECT pid FROM pg_stat_activity
               WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'LISTEN%'"""
        )
        assert len(listening) == 1
        await pool.execute("SELECT pg_terminate_backend($1)", listening[0]["pid"])
        await queue(pool, 3)  # committed while nobody listens: picked up when the listener is back
        await wait_for(lambda: worker.listener.connections == 2, timeout=10, message="the listener reconnected")
        await wait_for(lambda: _sent(pool, 5), timeout=10, message="the 3 emails queued during the cut sent")
        await queue(pool, 1)
        await wait_for(lambda: _sent(pool, 6), timeout=10, message="the next email sent on its notification")
    finally:
        await worker.stop()
    assert sendgrid.calls == len(sendgrid.delivered) == 6  # each email once


async def test_listen_off_leaves_the_worker_polling(pool, fakes):
    sendgrid, ses = fakes
    worker = outbox_worker(email_settings(sendgrid, ses, providers=("sendgrid",), listen_url="off"), pool=pool)
    assert worker.listener is None
    worker.every = 0.05
    worker.start()
    try:
        await queue(pool, 2)
        await wait_for(lambda: _sent(pool, 2), timeout=10, message="2 emails sent by polling")
    finally:
        await worker.stop()
