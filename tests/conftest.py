"""Test harness: real PostgreSQL (schema from the migrations), a real Valkey-protocol server and a real
S3 endpoint (moto_server). Services are started here when not configured; nothing is mocked.

- PostgreSQL: see tests/services.py (TEST_DATABASE_ADMIN_URL, else 127.0.0.1:5432, else embedded).
  Each run makes and migrates a database of its own, `servicerw_test_<pid>` (TEST_DATABASE_NAME overrides
  the name), and drops it when it ends; two runs on one server never touch each other's. At start, the
  databases left by killed runs on this host (their process is gone) are dropped.
- TEST_VALKEY_URL: default a `valkey-server` (or `redis-server`) of the run's own on a free port.
- TEST_S3_ENDPOINT_URL: default a `moto_server` started on a free port.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import pytest

from tests.helpers import free_port, port_open, wait_for_sync
from tests.services import (
    database_url,
    drop_abandoned_databases,
    drop_database,
    postgres_admin_url,
    recreate_database,
    run_database_name,
)

ADMIN_URL = postgres_admin_url()
TEST_DB = run_database_name("servicerw_test", "TEST_DATABASE_NAME")
TEST_DATABASE_URL = database_url(ADMIN_URL, TEST_DB)
DATA_TABLES = (
    "email_outbox",
    "account_tokens",
    "search_queries",
    "business_analytics",
    "customer_inquiries",
    "reviews",
    "business_images",
    "businesses",
    "users",
)


def _wait_for_port(port: int, process: subprocess.Popen, what: str) -> None:
    def listening() -> bool:
        if port_open("127.0.0.1", port):
            return True
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode}")
        return False

    wait_for_sync(listening, timeout=30, interval=0.1, message=f"{what} listening on port {port}")


_processes: list[subprocess.Popen] = []


def _valkey_url() -> str:
    """A Valkey-protocol server of this test run's own (tests flush it), so that two runs on one machine
    never disturb each other; the shared one on 6379 (db 15) only when no server binary is installed."""
    if os.environ.get("TEST_VALKEY_URL"):
        return os.environ["TEST_VALKEY_URL"]
    binary = shutil.which("valkey-server") or shutil.which("redis-server")
    if not binary:
        if port_open("127.0.0.1", 6379):
            return "redis://127.0.0.1:6379/15"
        raise RuntimeError("No Valkey-protocol server: install redis-server or set TEST_VALKEY_URL")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _processes.append(proc)
    _wait_for_port(port, proc, "valkey/redis server")
    return f"redis://127.0.0.1:{port}/0"


def _s3_endpoint() -> str:
    if os.environ.get("TEST_S3_ENDPOINT_URL"):
        return os.environ["TEST_S3_ENDPOINT_URL"]
    port = free_port()
    moto = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _processes.append(proc)
    _wait_for_port(port, proc, "moto_server")
    return f"http://127.0.0.1:{port}"


async def _recreate_database() -> None:
    await drop_abandoned_databases(ADMIN_URL)
    await recreate_database(ADMIN_URL, TEST_DB)


class MailSink:
    """A real SMTP server (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list = []
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


mail_sink = MailSink()


def pytest_configure(config):
    """Point every setting at the test services before any servicerw module reads them."""
    os.environ["DATABASE_URL"] = TEST_DATABASE_URL
    os.environ["DATABASE_POOL_MAX"] = "10"
    os.environ["PICCOLO_CONF"] = "servicerw.piccolo_conf"
    os.environ["VALKEY_URL"] = _valkey_url()
    os.environ["S3_ENDPOINT_URL"] = _s3_endpoint()
    os.environ.setdefault("S3_ACCESS_KEY", "testing")
    os.environ.setdefault("S3_SECRET_KEY", "testing")
    os.environ["S3_BUCKET"] = "servicerw-test"
    os.environ.pop("SERVICERW_ENV", None)
    mail_sink.controller.start()
    os.environ["SMTP_URL"] = f"smtp://127.0.0.1:{mail_sink.controller.port}"
    asyncio.run(_recreate_database())


def pytest_unconfigure(config):
    """Stop the run's services and drop its database (the sessions still connected to it are ended)."""
    mail_sink.controller.stop()
    for proc in _processes:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
    asyncio.run(drop_database(ADMIN_URL, TEST_DB))


@pytest.fixture(scope="session")
async def migrated_db() -> str:
    """The DSN of the test database, with the schema built by `servicerw migrate` (the migrations)."""
    from servicerw.cli import _migrate

    await _migrate()
    from servicerw.core.storage import S3Storage
    from servicerw.settings import get_settings

    await S3Storage(get_settings().storage).ensure_bucket()
    return TEST_DATABASE_URL


async def truncate_data(dsn: str) -> None:
    """Empty the data tables. The app's background writers (analytics flush, photo and email workers)
    may hold locks at that moment: a deadlock or lock timeout is retried."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        for attempt in range(10):
            try:
                await conn.execute("SET lock_timeout = '2s'")
                await conn.execute(f"TRUNCATE {', '.join(DATA_TABLES)} RESTART IDENTITY CASCADE")
                return
            except (asyncpg.DeadlockDetectedError, asyncpg.LockNotAvailableError):
                if attempt == 9:
                    raise
                await asyncio.sleep(0.2)
    finally:
        await conn.close()


_running_clients: list = []


@pytest.fixture
async def clean_db(migrated_db: str) -> str:
    """The migrated test database with every non-reference table emptied (categories and places stay).
    The app's analytics buffer is written first: late page views of the previous test would otherwise
    land on this test's businesses (ids restart at 1); the page cache is emptied."""
    if _running_clients:  # the app runs once any test has used the client, whether this one does or not
        await _running_clients[0].post("/__test__/flush-analytics")
    await truncate_data(migrated_db)
    return migrated_db


@pytest.fixture
async def db(clean_db: str):
    """An asyncpg connection to the clean test database, for arranging data and checking results."""
    import asyncpg

    conn = await asyncpg.connect(clean_db)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def app(migrated_db: str):
    from litestar import post

    from servicerw.app import create_app
    from servicerw.settings import get_settings

    get_settings.cache_clear()
    application = create_app()

    @post("/__test__/flush-analytics", status_code=204, opt={"exclude_from_csrf": True})
    async def flush_analytics() -> None:
        await application.state.analytics.flush()
        application.state.page_cache.clear()  # pages of the previous test's data (ids restart at 1)

    application.register(flush_analytics)
    return application


@pytest.fixture(scope="session")
async def client(app):
    """An HTTP client for the app, with its lifespan (database pool, stores) running."""
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        _running_clients.append(test_client)
        yield test_client
        _running_clients.clear()


@pytest.fixture(autouse=True)
def _fresh_cookies(request):
    """The client is shared by the session: each test starts without cookies (language, …)."""
    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies.clear()


@pytest.fixture
async def fresh_limits():
    """Rate-limit counters and sessions live in Valkey: the test starts from zero (modules whose tests use
    the account forms request it for every test with `pytestmark = pytest.mark.usefixtures("fresh_limits")`)."""
    from valkey.asyncio import Valkey

    from servicerw.settings import get_settings

    client = Valkey.from_url(get_settings().valkey.url)
    await client.flushdb()
    await client.aclose()


@pytest.fixture
async def email_worker_paused(app, client):
    """The app's outbox worker stopped for one test (it would send the rows the test queues), started
    again afterwards. The app runs on the test client's own thread and loop: the worker is stopped there."""
    worker = app.state.email_worker
    loop = worker.loop
    if loop is None:
        yield
        return
    await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(worker.stop(), loop))

    async def start() -> None:
        worker.start()

    try:
        yield
    finally:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(start(), loop))


@pytest.fixture
def mail_sink_messages() -> list:
    """What the SMTP sink received (emptied for each test)."""
    mail_sink.messages.clear()
    return mail_sink.messages


@pytest.fixture
def valkey_server():
    """A Valkey-protocol server of one test's own, which the test may stop (kill) or freeze (SIGSTOP):
    yields the process and its URL."""
    import signal

    port = free_port()
    binary = shutil.which("valkey-server") or shutil.which("redis-server")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_port(port, proc, "valkey/redis server")
    yield proc, f"redis://127.0.0.1:{port}/0"
    proc.send_signal(signal.SIGCONT)
    proc.kill()
    proc.wait()


@pytest.fixture(scope="session")
def invalidate_route(app):
    """A route (test only) that calls the cache invalidation hook inside the app (the app runs on the test
    client's own event loop, so tests cannot call its stores directly)."""
    from litestar import post
    from litestar.params import Body

    @post("/__test__/invalidate", status_code=204, opt={"exclude_from_csrf": True})
    async def invalidate(data: Annotated[dict, Body()]) -> None:
        await app.state.cache.invalidate_business(data["slug"])

    app.register(invalidate)
