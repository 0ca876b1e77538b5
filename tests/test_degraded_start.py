"""Valkey and S3 unreachable at boot: `servicerw serve` starts anyway (degraded), says so loudly, answers pages,
and /readyz names what is down; the database stays required."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.factories import make_business
from tests.helpers import HTML, free_port
from tests.services import start_server, stop_server


@pytest.fixture(scope="module")
def degraded_server(migrated_db, tmp_path_factory):
    """The app with VALKEY_URL and S3_ENDPOINT_URL on ports where nothing listens."""
    closed_valkey, closed_s3 = free_port(), free_port()
    env = {
        **os.environ,
        "VALKEY_URL": f"redis://127.0.0.1:{closed_valkey}/0",
        "S3_ENDPOINT_URL": f"http://127.0.0.1:{closed_s3}",
    }
    log_path = tmp_path_factory.mktemp("degraded") / "server.log"
    with log_path.open("wb") as log:
        server, url = start_server(env, free_port(), stderr=log, stdout=log)
    yield url, log_path
    stop_server(server)


async def test_pages_answer_and_readyz_reports_valkey_and_storage_down(db, degraded_server):
    url, log_path = degraded_server
    shop = await make_business(db, slug="degraded-plumbing", business_name="Degraded Plumbing")
    async with httpx.AsyncClient(base_url=url, headers=HTML, timeout=30) as client:
        for path in ("/", f"/b/{shop['slug']}", "/search?q=plumbing"):
            response = await client.get(path)
            assert response.status_code == 200, path
        profile = await client.get(f"/b/{shop['slug']}")
        assert "Degraded Plumbing" in profile.text
        ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "up", "valkey": "down", "storage": "s3:down"}
    log = log_path.read_text(encoding="utf-8", errors="replace")
    assert "starting degraded: Valkey (VALKEY_URL) unreachable" in log
    assert "starting degraded: S3 (S3_ENDPOINT_URL) unreachable" in log
    assert "starting_degraded" in log  # each web process says it too


def test_an_unreachable_database_still_stops_the_server(migrated_db):
    """The database is required: a clear message and exit code 2, not a half-started server."""
    env = {**os.environ, "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/servicerw"}
    servicerw = str(Path(sys.executable).with_name("servicerw"))
    result = subprocess.run(
        [servicerw, "serve", "--port", str(free_port())], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "database (DATABASE_URL) unreachable" in result.stderr
