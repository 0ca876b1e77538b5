"""Capacity through real servers (`servicerw serve`, Granian) on the test services: the connection budget, a
pool that stays busy too long (503 + Retry-After, never 500), shedding beyond MAX_IN_FLIGHT, a graceful
SIGTERM, a rolling restart under load, and everything through a real PgBouncer in transaction mode.

Requests are made slow without touching the app: a connection of the test's own holds `LOCK TABLE
business_search` (every uncached search waits for it inside the server, holding its pooled connection) until
the test commits. The test knows the requests are in flight when PostgreSQL shows them waiting for that lock.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import asyncpg
import httpx
import pytest

from servicerw import cli
from servicerw.core import db as core_db
from servicerw.settings import DatabaseSettings
from tests.factories import make_business
from tests.helpers import HTML, free_port, port_open, wait_for, wait_for_sync
from tests.services import start_server

LOCKED = "LOCK TABLE business_search IN ACCESS EXCLUSIVE MODE"
# Valkey emptied before each test: a search cached by an earlier test would not wait for the lock.
pytestmark = pytest.mark.usefixtures("fresh_limits")


# Seconds a SIGTERMed server may take to exit. Measured under two busy loops on the two cores: 0.7-3.6 s. A stuck
# worker is killed SHUTDOWN_TIMEOUT + 5 s after the signal (`servicerw serve`: Granian's workers_kill_timeout), so the
# servers of these tests run with SHUTDOWN_TIMEOUT <= 15; the tests check the log for the app's `shutdown` line
# (`_shut_down_by_the_app`), not for the absence of Granian's "Killing worker": under load Granian sometimes reports
# that for a worker already exiting (README "Stopping and rolling restarts").
EXIT_WITHIN = 30


def env(**overrides: str) -> dict[str, str]:
    """The test services' environment (conftest), background work left to no one (it would take connections)."""
    return {**os.environ, "WEB_BACKGROUND": "false", **overrides}


async def waiting_for_lock(dsn: str, n: int) -> bool:
    """At least `n` queries of the server wait for the test's table lock (they hold their pooled connections)."""
    conn = await asyncpg.connect(dsn)
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
    finally:
        await conn.close()
    return count >= n


class TableLock:
    """`LOCK TABLE business_search` held in a transaction of the test's own until `release()`."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    async def __aenter__(self) -> TableLock:
        self.conn = await asyncpg.connect(self.dsn)
        self.tx = self.conn.transaction()
        await self.tx.start()
        await self.conn.execute(LOCKED)
        return self

    async def release(self) -> None:
        if self.tx is not None:
            await self.tx.commit()
            self.tx = None

    async def __aexit__(self, *exc) -> None:
        await self.release()
        await self.conn.close()


def test_the_connection_budget_is_split_between_the_web_processes(monkeypatch):
    monkeypatch.delenv("DATABASE_POOL_MAX", raising=False)
    monkeypatch.setenv("DATABASE_CONNECTIONS", "30")
    monkeypatch.setenv("WORKERS", "2")
    settings = DatabaseSettings()
    assert settings.pool_max == 15
    assert settings.connect_kwargs()["max_size"] == 15
    assert settings.connect_kwargs("worker")["max_size"] == 4  # `servicerw worker`: its own small share
    monkeypatch.setenv("WORKERS", "4")
    assert DatabaseSettings().connect_kwargs()["max_size"] == 7
    monkeypatch.setenv("DATABASE_POOL_MAX", "10")  # an explicit maximum wins
    assert DatabaseSettings().connect_kwargs()["max_size"] == 10
    monkeypatch.setenv("DATABASE_STATEMENT_CACHE", "0")  # behind PgBouncer in transaction mode
    assert DatabaseSettings().connect_kwargs()["statement_cache_size"] == 0


def test_granian_admits_every_connection_unless_told_otherwise(monkeypatch):
    """Idle keep-alive visitors must not hold up new ones (Granian's own default, backlog / workers, left those
    unread): every connection is handed to the app, whose MAX_IN_FLIGHT sheds real overload."""
    monkeypatch.delenv("SERVER_BACKPRESSURE", raising=False)
    monkeypatch.delenv("SERVER_BACKLOG", raising=False)
    assert cli._admission() == {"backpressure": 16384}
    monkeypatch.setenv("SERVER_BACKPRESSURE", "512")
    monkeypatch.setenv("SERVER_BACKLOG", "2048")
    assert cli._admission() == {"backpressure": 512, "backlog": 2048}


async def test_pool_stats_report_the_running_pool(client):
    assert (await client.get("/healthz")).status_code == 200
    stats = core_db.pool_stats()
    assert set(stats) == {"size", "idle", "in_use", "waiting", "max"}
    assert stats["max"] == 10  # DATABASE_POOL_MAX of the tests
    assert 1 <= stats["size"] <= 10
    assert stats["in_use"] == stats["size"] - stats["idle"]
    assert stats["waiting"] >= 0  # the app's background loops share the pool: some may be waiting right now


@pytest.fixture
def one_connection_server(migrated_db):
    server, url = start_server(env(DATABASE_POOL_MAX="1", DATABASE_POOL_TIMEOUT="0.5", MAX_IN_FLIGHT="0"), free_port())
    yield url
    _stop(server)


async def test_a_request_that_cannot_get_a_connection_in_time_gets_503_with_retry_after(db, one_connection_server):
    """The server's only connection is held by a search waiting for a lock: the next requests that need the
    database wait DATABASE_POOL_TIMEOUT, then get 503 + Retry-After (page, htmx fragment, API problem),
    not 500; once the connection is free again everything answers."""
    await make_business(db, business_name="Amazi Plumbing", slug="amazi-plumbing")
    dsn = os.environ["DATABASE_URL"]
    async with httpx.AsyncClient(base_url=one_connection_server, headers=HTML, timeout=30) as client:
        async with TableLock(dsn) as lock:
            held = asyncio.create_task(client.get("/search", params={"q": "amazi"}))
            await wait_for(lambda: waiting_for_lock(dsn, 1), message="the search waiting for the lock")

            page = await client.get("/search", params={"q": "plumbing"})
            assert page.status_code == 503
            assert page.headers["retry-after"].isdecimal()
            assert "text/html" in page.headers["content-type"]
            assert "briefly unavailable" in page.text

            fragment = await client.get("/search", params={"q": "pipes"}, headers={"HX-Request": "true"})
            assert fragment.status_code == 503 and "retry-after" in fragment.headers

            api = await client.get("/api/v1/search", params={"q": "tank"}, headers={"accept": "application/json"})
            assert api.status_code == 503
            assert api.headers["content-type"].startswith("application/problem+json")
            assert api.json()["status"] == 503 and "retry-after" in api.headers

            assert (await client.get("/healthz")).status_code == 200
            await lock.release()
            first = await held
        assert first.status_code == 200 and "Amazi Plumbing" in first.text
        again = await client.get("/search", params={"q": "plumbing"})
        assert again.status_code == 200


@pytest.fixture
def two_in_flight_server(migrated_db):
    server, url = start_server(env(MAX_IN_FLIGHT="2"), free_port())
    yield url
    _stop(server)


async def test_beyond_max_in_flight_requests_are_refused_at_once_and_health_still_answers(db, two_in_flight_server):
    """Two searches wait inside the server (MAX_IN_FLIGHT=2): 60 concurrent requests more are all answered
    503 + Retry-After at once (none waits for the lock, none fails otherwise), while /healthz, /readyz and
    /metrics answer 200; once the two finish, pages answer again."""
    await make_business(db, business_name="Amazi Plumbing", slug="amazi-plumbing")
    dsn = os.environ["DATABASE_URL"]
    async with httpx.AsyncClient(base_url=two_in_flight_server, headers=HTML, timeout=30) as client:
        async with TableLock(dsn) as lock:
            held = [asyncio.create_task(client.get("/search", params={"q": q})) for q in ("amazi", "plumbing")]
            await wait_for(lambda: waiting_for_lock(dsn, 2), message="two searches waiting for the lock")

            burst = await asyncio.wait_for(
                asyncio.gather(
                    *(client.get(path) for path in ["/", "/b/amazi-plumbing", "/search?q=x", "/api/v1/categories"] * 15)
                ),
                timeout=10,  # refused at once: nothing waits for the lock that is still held
            )
            assert {r.status_code for r in burst} == {503}
            assert all(r.headers["retry-after"] == "1" for r in burst)
            # The client connects again for its next request (a flood is paced by connecting, not by the loop).
            assert all(r.headers["connection"] == "close" for r in burst)
            assert all(r.headers["x-content-type-options"] == "nosniff" for r in burst)
            api = burst[3]
            assert api.headers["content-type"].startswith("application/problem+json") and api.json()["status"] == 503
            assert "briefly unavailable" in burst[0].text

            for path in ("/healthz", "/readyz", "/metrics"):
                assert (await client.get(path)).status_code == 200, path
            await lock.release()
            assert [r.status_code for r in await asyncio.gather(*held)] == [200, 200]
        assert (await client.get("/b/amazi-plumbing")).status_code == 200


def _serve(extra: dict[str, str], workers: int = 1) -> tuple[subprocess.Popen, str, int]:
    port = free_port()
    server, url = start_server(env(**extra), port, timeout=120, workers=workers)
    return server, url, port


def _kill(server: subprocess.Popen) -> None:
    """Kill a server that did not stop, and its Granian workers (they outlive a SIGKILLed main process)."""
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(server.pid)], capture_output=True, text=True).stdout
    server.kill()
    for pid in children.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    server.wait()


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        _kill(server)


async def test_sigterm_lets_the_requests_in_flight_finish_before_the_pool_closes(db, migrated_db):
    """Eight searches are in flight (waiting for a lock) in a 2-worker server when it gets SIGTERM: it stops
    accepting connections at once, and every one of the eight is answered 200 once the lock is released; then
    the server exits cleanly."""
    await make_business(db, business_name="Amazi Plumbing", slug="amazi-plumbing")
    dsn = os.environ["DATABASE_URL"]
    server, url, port = _serve({"SHUTDOWN_TIMEOUT": "15"}, workers=2)
    try:
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=url, headers=HTML, timeout=30, limits=limits) as client:
            async with TableLock(dsn) as lock:
                queries = ["amazi", "plumbing", "pipes", "tank", "water", "kigali", "repair", "sink"]
                in_flight = [asyncio.create_task(client.get("/search", params={"q": q})) for q in queries]
                await wait_for(lambda: waiting_for_lock(dsn, 8), timeout=20, message="8 searches in flight")
                server.send_signal(signal.SIGTERM)
                await wait_for(lambda: not port_open("127.0.0.1", port), timeout=10, message="no longer accepting")
                await asyncio.sleep(0.5)  # the requests stay in flight a little longer after the signal
                await lock.release()
                responses = await asyncio.gather(*in_flight)
        assert [r.status_code for r in responses] == [200] * 8
        assert all("Amazi Plumbing" in r.text for r in responses[:1])
        assert await asyncio.to_thread(server.wait, EXIT_WITHIN) == 0
    finally:
        if server.poll() is None:
            _kill(server)


def _serve_logged(log: Path, extra: dict[str, str] | None = None) -> tuple[subprocess.Popen, str, int]:
    """`_serve` (1 worker) with the server's output in `log` (quoted by a failing assertion)."""
    port = free_port()
    with log.open("wb") as out:
        server, url = start_server(env(**(extra or {})), port, timeout=120, stdout=out, stderr=out)
    return server, url, port


def _tail(log: Path, lines: int = 15) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _shut_down_by_the_app(log: Path) -> bool:
    """The server's log shows the app's shutdown done (drain, pool and stores closed), whatever Granian logs
    afterwards (a "Killing worker" for a worker already exiting, README)."""
    return '"event":"shutdown"' in log.read_text(errors="replace")


async def test_a_rolling_restart_under_load_fails_no_request(db, migrated_db, tmp_path):
    """Two instances behind a client that, like a load balancer, sends each request to the next instance when a
    connection is refused. Under continuous load both are replaced one after the other (the new instances
    started and ready, an old one taken out of the rotation and, once the requests sent to it are answered, sent
    SIGTERM; then the other): every request is answered 200, and each old instance exits 0 within EXIT_WITHIN
    seconds, its shutdown done by the app."""
    business = await make_business(db, business_name="Amazi Plumbing", slug="amazi-plumbing")
    # Four instances at once at most: small pools on the shared PostgreSQL.
    extra = {"DATABASE_POOL_MAX": "4", "SHUTDOWN_TIMEOUT": "10"}
    logs = [tmp_path / f"{name}.log" for name in ("old-1", "old-2", "new-1", "new-2")]
    old = await asyncio.gather(*(asyncio.to_thread(_serve_logged, log, extra) for log in logs[:2]))
    instances = list(old)
    urls = [url for _, url, _ in old]
    statuses: list[int] = []
    failures: list[str] = []
    sending: dict[int, str] = {}  # user → the instance its request was sent to, until it is answered
    stop = asyncio.Event()
    paths = ["/", f"/b/{business['slug']}", "/search?q=amazi", "/search?q=plumbing&page=1", "/c/plumbers"]

    async def user(n: int) -> None:
        limits = httpx.Limits(max_keepalive_connections=0)  # a new connection per request: refusals are clean
        async with httpx.AsyncClient(headers=HTML, timeout=30, limits=limits) as client:
            i = n
            while not stop.is_set():
                path = paths[i % len(paths)]
                for attempt in range(6):
                    target = sending[n] = urls[(i + attempt) % len(urls)]
                    try:
                        response = await client.get(target + path)
                    except httpx.ConnectError:
                        continue  # refused: the next instance
                    except httpx.HTTPError as error:
                        failures.append(f"{target}{path}: {error!r}")
                    else:
                        statuses.append(response.status_code)
                        if response.status_code != 200:
                            failures.append(f"{target}{path}: {response.status_code}")
                    finally:
                        sending.pop(n, None)
                    break
                else:
                    failures.append(f"{path}: no instance accepted")
                i += 1
                await asyncio.sleep(0.1)  # steady load that leaves the (shared) cores room to start instances

    users = [asyncio.create_task(user(n)) for n in range(6)]
    try:
        # The new instances start (and get ready) while the old ones serve the load.
        new = await asyncio.gather(*(asyncio.to_thread(_serve_logged, log, extra) for log in logs[2:]))
        instances.extend(new)
        await wait_for(lambda: len(statuses) >= 30, timeout=60, message="load running")
        for index in (0, 1):
            server, old_url, _ = old[index]
            # As Kubernetes does (endpoint removed, preStop): new requests go elsewhere, the requests already sent
            # to the old instance are answered, then SIGTERM. (A request sent at the moment of the signal may be
            # closed unanswered: README "Stopping and rolling restarts".)
            urls[index] = new[index][1]
            await wait_for(lambda u=old_url: u not in sending.values(), timeout=30, message="sent requests answered")
            server.send_signal(signal.SIGTERM)
            try:
                code = await asyncio.to_thread(server.wait, EXIT_WITHIN)
            except subprocess.TimeoutExpired:
                code = f"still running after {EXIT_WITHIN} s"
            assert code == 0, f"old instance {index + 1}: {code}\n{_tail(logs[index])}"
            assert _shut_down_by_the_app(logs[index]), _tail(logs[index])
            target = len(statuses) + 30
            await wait_for(lambda t=target: len(statuses) >= t, timeout=60, message="load on the new instance")
    finally:
        stop.set()
        await asyncio.gather(*users)
        for server, _, _ in instances:
            if server.poll() is None:
                _stop(server)
    assert failures == [], "\n".join(failures[:10] + [_tail(log) for log in logs])
    assert set(statuses) == {200}
    assert len(statuses) >= 90


# --- PgBouncer ----------------------------------------------------------------------------------------


@pytest.fixture
def pgbouncer(migrated_db):
    """A real PgBouncer (Debian package) in transaction pooling mode on a free port, in front of the run's test
    database; yields its database URL."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(binary).exists():
        raise RuntimeError("pgbouncer is not installed (`just services` installs it)")
    dbname = migrated_db.rsplit("/", 1)[1]
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="servicerw-pgbouncer-"))
    (workdir / "users.txt").write_text('"postgres" ""\n')
    # The app's per-connection planner settings cannot travel as startup parameters through PgBouncer: they are
    # accepted and ignored there, and set on every server connection by connect_query instead (README).
    settings = "SET jit = off; SET max_parallel_workers_per_gather = 0; SET random_page_cost = 1.1"
    (workdir / "pgbouncer.ini").write_text(
        f"""[databases]
{dbname} = host=127.0.0.1 port=5432 dbname={dbname} connect_query='{settings}'

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir}/users.txt
pool_mode = transaction
default_pool_size = 5
max_client_conn = 200
ignore_startup_parameters = extra_float_digits,jit,max_parallel_workers_per_gather,random_page_cost,plan_cache_mode
logfile = {workdir}/pgbouncer.log
pidfile = {workdir}/pgbouncer.pid
"""
    )
    command = [binary, str(workdir / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        shutil.chown(workdir, "postgres")
        for path in workdir.iterdir():
            shutil.chown(path, "postgres")
        command[1:1] = ["-u", "postgres"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def listening() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"pgbouncer exited: {proc.stderr.read().decode()}")
        return port_open("127.0.0.1", port)

    wait_for_sync(listening, timeout=15, message="pgbouncer listening")
    yield f"postgresql://postgres@127.0.0.1:{port}/{dbname}"
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(workdir, ignore_errors=True)


async def test_pages_a_write_a_search_and_a_transaction_work_through_pgbouncer(db, pgbouncer):
    shop = await make_business(db, business_name="Amazi Plumbing", slug="amazi-plumbing")
    server, url, _ = _serve({"DATABASE_URL": pgbouncer, "DATABASE_STATEMENT_CACHE": "false"}, workers=2)
    try:
        async with httpx.AsyncClient(base_url=url, headers=HTML, timeout=30) as client:
            for _ in range(3):  # several times: each query may get another server connection
                pages = await asyncio.gather(
                    client.get("/"),
                    client.get("/b/amazi-plumbing"),
                    client.get("/search", params={"q": "amazi"}),
                    client.get("/search", params={"q": "plumbing", "page": "1"}),
                    client.get("/api/v1/categories"),
                    client.get("/readyz"),
                )
                assert [p.status_code for p in pages] == [200] * 6
            assert "Amazi Plumbing" in pages[2].text
            # A write in a transaction (the inquiry and its two emails in the outbox, together).
            page = (await client.get("/b/amazi-plumbing")).text
            key = re.search(r'name="key" value="([^"]+)"', page).group(1)
            form = {
                "_csrf_token": re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1),
                "key": key,
                "name": "Claudine Mukamana",
                "phone": "0788 555 123",
                "email": "claudine@example.rw",
                "preferred_contact": "phone",
                "message": "My kitchen sink leaks. Can you come on Saturday morning?",
            }
            sent = await client.post("/b/amazi-plumbing/inquiries", data=form)
            assert sent.status_code == 303
            assert (await client.get(sent.headers["location"])).status_code == 200
        assert await db.fetchval("SELECT count(*) FROM customer_inquiries WHERE business_id = $1", shop["id"]) == 1
        assert await db.fetchval("SELECT count(*) FROM email_outbox WHERE kind LIKE 'inquiry_%'") == 2
    finally:
        _stop(server)


async def test_a_request_whose_client_has_gone_still_finishes_before_the_pool_closes(db, migrated_db, tmp_path):
    """A search's client gives up (timeout) while the search waits inside the server; then SIGTERM. Granian has
    no open connection left to wait for, the app does: the search finishes (its query is in the search log),
    nothing meets a closed pool, the log shows no error, and the server exits 0."""
    await make_business(db, business_name="Amazi Plumbing", slug="amazi-plumbing")
    dsn = os.environ["DATABASE_URL"]
    port = free_port()
    log = tmp_path / "server.log"
    server = _spawn_logged(port, log)
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_for(lambda: port_open("127.0.0.1", port), timeout=120, message="the server listening")
        async with httpx.AsyncClient(base_url=url, headers=HTML, timeout=30) as client:
            await wait_for(lambda: _ready(client), timeout=60, message="the server ready")
            async with TableLock(dsn) as lock:
                with pytest.raises(httpx.TimeoutException):
                    await client.get("/search", params={"q": "amazi"}, timeout=2)  # the client gives up
                await wait_for(lambda: waiting_for_lock(dsn, 1), message="the search still waiting inside")
                server.send_signal(signal.SIGTERM)
                await wait_for(lambda: not port_open("127.0.0.1", port), timeout=10, message="no longer accepting")
                await asyncio.sleep(0.5)
                await lock.release()
        assert await asyncio.to_thread(server.wait, EXIT_WITHIN) == 0
    finally:
        if server.poll() is None:
            _kill(server)
    assert _shut_down_by_the_app(log), _tail(log)
    text = log.read_text()
    assert "pool is clos" not in text and "unhandled_error" not in text and "pool isn't" not in text, text[-2000:]
    assert await db.fetchval("SELECT count(*) FROM search_queries WHERE query = 'amazi'") == 1


async def test_a_request_stuck_past_the_shutdown_timeout_does_not_keep_the_server_up(db, migrated_db, tmp_path):
    """A search waits for a lock that outlives the server (its client has given up); then SIGTERM with
    SHUTDOWN_TIMEOUT=2. The drain gives up on it after 2 s, the connection it holds is cut rather than waited
    for (asyncpg's pool close would wait for ever), and the server exits 0, its shutdown done by the app."""
    await make_business(db, business_name="Amazi Plumbing", slug="amazi-plumbing")
    dsn = os.environ["DATABASE_URL"]
    port = free_port()
    log = tmp_path / "server.log"
    server = _spawn_logged(port, log, shutdown_timeout="2")
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_for(lambda: port_open("127.0.0.1", port), timeout=120, message="the server listening")
        async with httpx.AsyncClient(base_url=url, headers=HTML, timeout=30) as client:
            await wait_for(lambda: _ready(client), timeout=60, message="the server ready")
            async with TableLock(dsn):  # held until the server has exited
                with pytest.raises(httpx.TimeoutException):
                    await client.get("/search", params={"q": "amazi"}, timeout=2)  # the client gives up
                await wait_for(lambda: waiting_for_lock(dsn, 1), message="the search still waiting inside")
                server.send_signal(signal.SIGTERM)
                assert await asyncio.to_thread(server.wait, EXIT_WITHIN) == 0
    finally:
        if server.poll() is None:
            _kill(server)
    text = log.read_text()
    assert "shutdown_requests_cut" in text and "shutdown_connections_cut" in text, _tail(log)
    assert _shut_down_by_the_app(log), _tail(log)


def _spawn_logged(port: int, log: Path, shutdown_timeout: str = "15") -> subprocess.Popen:
    """`servicerw serve` (1 worker) with its output in `log`."""
    servicerw = str(Path(sys.executable).with_name("servicerw"))
    with log.open("wb") as out:
        return subprocess.Popen(
            [servicerw, "serve", "--port", str(port), "--workers", "1"],
            env=env(SHUTDOWN_TIMEOUT=shutdown_timeout),
            stdout=out,
            stderr=out,
        )


async def _ready(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/readyz")).status_code == 200
    except httpx.HTTPError:
        return False
