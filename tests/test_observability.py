"""Metrics and logs on a real server: `servicerw serve --workers 2` (Granian), its stdout captured.

- /metrics adds up every worker's counters (prometheus-client multiprocess mode): N requests spread over both
  workers → the scrape says N, whichever worker answers it; route labels are templates, never raw paths.
- One JSON access-log line per request with its id; the id a trusted proxy sends comes back in `X-Request-ID`
  and in the log, a client's own is replaced; the 500 handler's line carries the same id.
"""

from __future__ import annotations

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import make_business
from tests.helpers import free_port, wait_for, wait_for_sync
from tests.services import start_server, stop_server

TOKEN = "obs-scrape-token"
POOL_MAX = 3


@pytest.fixture(scope="module")
def server(migrated_db, tmp_path_factory):
    """Two workers behind a "proxy" at 127.0.0.1 (TRUSTED_PROXIES); requests from 127.0.0.2 are untrusted
    clients. Yields (url, the log file, the metrics directory)."""
    folder = tmp_path_factory.mktemp("observability")
    metrics_dir = folder / "metrics"
    log_path = folder / "stdout.log"
    env = {
        **os.environ,
        "DATABASE_POOL_MAX": str(POOL_MAX),
        "TRUSTED_PROXIES": "127.0.0.1",
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "WEB_BACKGROUND": "false",
    }
    with open(log_path, "wb") as stdout:
        process, url = start_server(env, free_port(), workers=2, stdout=stdout)
        try:
            yield url, log_path, metrics_dir
        finally:
            stop_server(process)


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    response = httpx.get(url + "/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def per_process(metrics_dir, name: str, **labels) -> dict[int, float]:
    """The value each process recorded in its own file (counter_<pid>.db)."""
    counts = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        for family in MultiProcessCollector.merge([str(path)], accumulate=True):
            for sample in family.samples:
                if sample.name == name and sample.labels == labels:
                    counts[pid] = sample.value
    return counts


def log_lines(log_path) -> list[dict]:
    lines = []
    for raw in log_path.read_bytes().splitlines():
        if raw.startswith(b"{"):
            lines.append(json.loads(raw))
    return lines


def logged(log_path, request_id: str, event: str = "request") -> dict | None:
    for line in log_lines(log_path):
        if line.get("request_id") == request_id and line.get("event") == event:
            return line
    return None


# --- metrics --------------------------------------------------------------------------------------


def test_requests_spread_over_both_workers_add_up_in_any_workers_scrape(server):
    url, _log, metrics_dir = server
    labels = {"method": "GET", "route": "/healthz", "status": "200"}
    sent = 0

    def one(_i: int) -> int:
        return httpx.get(url + "/healthz", headers={"connection": "close"}).status_code

    def both_workers_served() -> bool:
        nonlocal sent
        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(one, range(40))) == {200}
        sent += 40
        served = per_process(metrics_dir, "http_requests_total", **labels)
        return len([count for count in served.values() if count]) >= 2

    wait_for_sync(both_workers_served, timeout=60, interval=0, message="requests answered by both workers")
    # A request is counted once its answer is sent: the client may have it a moment before.
    wait_for_sync(
        lambda: value(scrape(url), "http_requests_total", **labels) == sent, message=f"{sent} requests counted"
    )
    for _ in range(6):  # whichever worker answers the scrape sees every worker's requests
        samples = scrape(url)
        assert value(samples, "http_requests_total", **labels) == sent
        assert value(samples, "http_request_duration_seconds_count", **labels) == sent
        assert value(samples, "http_requests_in_flight") == 1  # the scrape itself


def test_routes_are_labelled_by_template_and_unknown_paths_by_one_label(server):
    url, _log, _dir = server
    for slug in ("no-such-business-1", "no-such-business-2", "no-such-business-3"):
        assert httpx.get(url + f"/b/{slug}").status_code == 404
    for path in ("/wp-login.php", "/.env", "/random/scan/1"):
        assert httpx.get(url + path).status_code == 404

    def counted():
        samples = scrape(url)
        by_template = value(samples, "http_requests_total", method="GET", route="/b/{slug:str}", status="404")
        unmatched = value(samples, "http_requests_total", method="GET", route="unmatched", status="404")
        return (by_template, unmatched) == (3, 3) and samples

    samples = wait_for_sync(counted, message="3 requests under /b/{slug:str} and 3 unmatched")
    routes = {dict(labels).get("route") for (name, labels) in samples if name == "http_requests_total"}
    assert not any("no-such-business" in route or "wp-login" in route for route in routes)


def test_pool_gauges_add_up_the_workers_pools(server):
    url, _log, _dir = server
    # Each worker samples its pool every second: both pools' maxima are in the sum.
    wait_for_sync(
        lambda: value(scrape(url), "servicerw_db_pool_max_connections") == 2 * POOL_MAX,
        timeout=20,
        message="servicerw_db_pool_max_connections == 2 workers x DATABASE_POOL_MAX",
    )
    samples = scrape(url)
    assert value(samples, "servicerw_db_pool_connections", state="in_use") >= 0
    assert value(samples, "servicerw_db_pool_waiting") == 0


async def test_database_gauges_count_what_waits_and_the_business_counters_move(server, db):
    url, _log, _dir = server
    business = await make_business(db)
    user = await db.fetchval("INSERT INTO users (email, full_name) VALUES ('r@example.rw', 'R') RETURNING id")
    await db.execute(
        "INSERT INTO reviews (business_id, user_id, rating, body, status) VALUES ($1, $2, 4, 'Good', 'pending')",
        business["id"],
        user,
    )
    await db.execute(
        """INSERT INTO email_outbox (to_address, subject, body_text, status, send_after)
           SELECT 'x@example.rw', 's', 'b', 'pending', now() + interval '1 day' FROM generate_series(1, 3)"""
    )
    before = scrape(url)
    async with httpx.AsyncClient() as client:
        assert (await client.get(url + "/search", params={"q": "zzqxv-nothing-matches"})).status_code == 200

    def counted():
        samples = scrape(url)
        return (
            value(samples, "servicerw_reviews_pending") == 1
            and value(samples, "servicerw_email_outbox_waiting", status="pending") == 3
            and samples
        )

    samples = await wait_for(counted, timeout=20, message="the database gauges after METRICS_CACHE_SECONDS")
    assert value(samples, "servicerw_photos_pending") == 0
    searches = value(samples, "servicerw_searches_total", source="search")
    assert searches == value(before, "servicerw_searches_total", source="search") + 1
    zero = value(samples, "servicerw_searches_zero_results_total", source="search")
    assert zero == value(before, "servicerw_searches_zero_results_total", source="search") + 1
    assert value(samples, "servicerw_cache_misses_total", cache="search") >= 1
    # the three email series of before are still there
    assert ("servicerw_email_outbox", (("status", "pending"),)) in samples


def test_metrics_need_the_token(server):
    url, _log, _dir = server
    assert httpx.get(url + "/metrics").status_code == 404
    assert httpx.get(url + "/metrics", headers={"authorization": "Bearer wrong"}).status_code == 404


# --- logs -----------------------------------------------------------------------------------------


def test_a_trusted_proxys_request_id_comes_back_and_is_logged_with_the_request(server):
    url, log_path, _dir = server
    response = httpx.get(
        url + "/b/no-such-place?token=secret-value",
        headers={"x-request-id": "edge-7f3a.42:1", "x-forwarded-for": "203.0.113.9"},
    )
    assert response.status_code == 404
    assert response.headers["x-request-id"] == "edge-7f3a.42:1"
    line = wait_for_sync(lambda: logged(log_path, "edge-7f3a.42:1"), message="the access-log line")
    assert line["method"] == "GET"
    assert line["route"] == "/b/{slug:str}"
    assert line["path"] == "/b/no-such-place"  # the query string (tokens) is not logged
    assert line["status"] == 404
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["client"] == "203.0.113.9"  # X-Forwarded-For, believed from the trusted proxy
    assert line["level"] == "info" and "timestamp" in line


def test_an_untrusted_clients_request_id_is_replaced(server):
    url, log_path, _dir = server
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2")) as untrusted:
        response = untrusted.get(url + "/healthz", headers={"x-request-id": "forged", "x-forwarded-for": "1.2.3.4"})
    assert response.status_code == 200
    given = response.headers["x-request-id"]
    assert given != "forged" and re.fullmatch(r"[0-9a-f]{32}", given)
    line = wait_for_sync(lambda: logged(log_path, given), message="the access-log line")
    assert line["client"] == "127.0.0.2" and line["route"] == "/healthz"
    assert not any(line.get("request_id") == "forged" for line in log_lines(log_path))


@pytest.mark.parametrize("sent", ["has spaces", "x" * 65, "quote\"'", "<script>"])
def test_a_request_id_that_is_not_short_and_safe_is_replaced_even_from_the_proxy(server, sent):
    url, _log, _dir = server
    response = httpx.get(url + "/healthz", headers={"x-request-id": sent})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


def test_every_answer_has_its_own_id_404_and_head_included(server):
    url, log_path, _dir = server
    ids = {httpx.get(url + "/nothing-here").headers["x-request-id"] for _ in range(3)}
    ids.add(httpx.head(url + "/healthz").headers["x-request-id"])
    assert len(ids) == 4
    lines = [wait_for_sync(lambda i=i: logged(log_path, i), message="logged") for i in ids]
    assert sorted(line["method"] for line in lines) == ["GET", "GET", "GET", "HEAD"]
    assert {line["route"] for line in lines} == {"unmatched", "/healthz"}


async def test_a_server_error_is_logged_with_the_requests_id(server, db):
    """A table gone under the profile page: the 500 handler's line and the access line share the id."""
    url, log_path, _dir = server
    business = await make_business(db)
    await db.execute("SET lock_timeout = '10s'")
    await db.execute("ALTER TABLE reviews RENAME TO reviews_hidden_by_test")
    try:
        async with httpx.AsyncClient() as client:
            response = await client.get(url + f"/b/{business['slug']}", headers={"x-request-id": "boom-1"})
    finally:
        await db.execute("ALTER TABLE reviews_hidden_by_test RENAME TO reviews")
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "boom-1"
    assert "Traceback" not in response.text
    error = await wait_for(lambda: logged(log_path, "boom-1", "unhandled_error"), message="the error's line")
    assert error["level"] == "error" and "reviews" in error["error"]
    access = await wait_for(lambda: logged(log_path, "boom-1"), message="the access-log line")
    assert access["status"] == 500 and access["route"] == "/b/{slug:str}"
