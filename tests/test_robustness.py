"""One bad record or row never blocks the others, a frozen S3 costs seconds not a minute, and a lost
database connection costs no 500 (issue 13)."""

import asyncio
import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from servicerw.analytics.services import AnalyticsWriter
from servicerw.core.storage import S3Storage
from servicerw.media.services import original_key
from servicerw.settings import StorageSettings, get_settings
from tests.factories import make_business
from tests.helpers import HTML, csrf, free_port, listing_form, owner, port_open, post_form, wait_for, wait_for_sync

pytestmark = pytest.mark.usefixtures("fresh_limits")


def png(size=(640, 480)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (20, 140, 90)).save(buf, "PNG")
    return buf.getvalue()


async def s3_keys(prefix: str) -> list[str]:
    storage = S3Storage(get_settings().storage)
    objects = await asyncio.to_thread(
        lambda: list(storage.client.list_objects(storage.bucket, prefix=prefix, recursive=True))
    )
    return [o.object_name for o in objects]


# --- analytics ------------------------------------------------------------------------------------


def _search(writer: AnalyticsWriter, query: str, **overrides) -> None:
    values = dict(
        query=query,
        corrected="",
        filters={"q": query},
        result_count=1,
        latency_ms=1.5,
        language="en",
        page=1,
        source="search",
    )
    values.update(overrides)
    writer.search(**values)


async def test_one_bad_analytics_record_never_loses_the_others(client, db, app):
    from litestar import post

    shop = await make_business(db)

    @post("/__test__/analytics-bad-record", opt={"exclude_from_csrf": True})
    async def flush_with_bad_records() -> dict:  # in the app, on its event loop and pool
        writer = AnalyticsWriter()  # not started: flushed here
        for _ in range(30):
            writer.event(shop["id"], "profile_view", "profile", {"from": "a\x00b"})
        _search(writer, "x\x00y")  # NUL cannot be stored: dropped from the text, the record kept
        _search(writer, "too far", page=2**40)  # cannot be stored at all (integer column): dropped alone
        _search(writer, "fundi")
        await writer.flush()
        return {"dropped": writer.dropped}

    app.register(flush_with_bad_records)
    assert (await client.post("/__test__/analytics-bad-record")).json() == {"dropped": 1}
    assert await db.fetchval("SELECT count(*) FROM business_analytics WHERE event_type = 'profile_view'") == 30
    queries = {r["query"] for r in await db.fetch("SELECT query FROM search_queries")}
    assert queries == {"xy", "fundi"}


async def test_a_search_with_a_nul_byte_keeps_the_profile_views(client, db):
    shop = await make_business(db)
    for _ in range(30):
        assert (await client.get(f"/b/{shop['slug']}", headers=HTML)).status_code == 200
    assert (await client.get("/search?q=x%00y", headers=HTML)).status_code == 400
    await client.post("/__test__/flush-analytics")
    views = "SELECT count(*) FROM business_analytics WHERE event_type = 'profile_view' AND business_id = $1"
    assert await db.fetchval(views, shop["id"]) == 30


# --- the photo queue ------------------------------------------------------------------------------


@pytest.fixture
async def business(client, db):
    await owner(client, "aline@example.rw")
    await post_form(client, "/dashboard/new", await listing_form(db))
    return dict(await db.fetchrow("UPDATE businesses SET status = 'approved' RETURNING id, slug"))


async def _pending(db, business_id: int, key: str) -> int:
    return await db.fetchval(
        "INSERT INTO business_images (business_id, storage_key, status) VALUES ($1, $2, 'pending') RETURNING id",
        business_id,
        key,
    )


async def test_a_photo_whose_original_is_missing_fails_and_the_queue_goes_on(client, db, business):
    storage = S3Storage(get_settings().storage)
    missing = await _pending(db, business["id"], "img/zz/missing-original")
    await storage.put(original_key("img/zz/good-one"), png(), "application/octet-stream")
    good = await _pending(db, business["id"], "img/zz/good-one")

    async def statuses():
        rows = await db.fetch("SELECT id, status FROM business_images ORDER BY id")
        done = {r["id"]: r["status"] for r in rows}
        return done if "pending" not in done.values() else None

    assert await wait_for(statuses, timeout=20) == {missing: "failed", good: "ready"}


async def test_the_original_of_a_rejected_photo_is_deleted(client, db, business):
    storage = S3Storage(get_settings().storage)
    await storage.put(original_key("img/zz/not-a-photo"), b"GIF89a this is no photo", "application/octet-stream")
    image = await _pending(db, business["id"], "img/zz/not-a-photo")
    await wait_for(lambda: db.fetchval("SELECT status = 'failed' FROM business_images WHERE id = $1", image))
    assert await s3_keys("img/zz/not-a-photo") == []


@pytest.fixture
def frozen_s3():
    """A moto_server of this test's own, frozen (SIGSTOP) once it listens; yields its URL."""
    port = free_port()
    moto = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_sync(lambda: port_open("127.0.0.1", port), timeout=30, message="moto_server listening")
        proc.send_signal(signal.SIGSTOP)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.kill()
        proc.wait()


async def test_an_upload_to_a_frozen_s3_answers_503_in_seconds(client, db, business, app, frozen_s3):
    photos = app.state.photos
    original = photos.storage
    photos.storage = S3Storage(
        StorageSettings(endpoint_url=frozen_s3, access_key="a", secret_key="b", bucket="servicerw-test")
    )
    try:
        token = await csrf(client, f"/dashboard/{business['id']}/photos")
        started = time.monotonic()
        response = await client.post(
            f"/dashboard/{business['id']}/photos",
            data={"_csrf_token": token},
            files=[("photos", (f"p{i}.png", png(), "image/png")) for i in range(6)],
            headers=HTML,
        )
        elapsed = time.monotonic() - started
    finally:
        photos.storage = original
    assert response.status_code == 503 and "storage is unavailable" in response.text
    assert elapsed < 15, elapsed  # one S3 timeout per file was 6 x 10 s
    assert await db.fetchval("SELECT count(*) FROM business_images") == 0


# --- lost database connections --------------------------------------------------------------------

TERMINATE = """SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
               WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"""


def _terminate_when_running(marker: str) -> threading.Thread:
    """A thread that terminates the app's connections once its query `marker` runs (the test client blocks
    the test's event loop during a request: the termination must come from elsewhere)."""
    import asyncpg

    async def terminate() -> None:
        conn = await asyncpg.connect(os.environ["DATABASE_URL"])
        try:
            running = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()"
            await wait_for(lambda: conn.fetchval(running, f"%{marker}%"), message="the query running")
            await conn.fetchval(TERMINATE)
        finally:
            await conn.close()

    thread = threading.Thread(target=lambda: asyncio.run(terminate()), daemon=True)
    thread.start()
    return thread


async def test_reads_are_retried_once_when_their_connection_is_terminated(client, db, app):
    from litestar import get
    from litestar.params import FromPath

    from servicerw.businesses.tables import Business
    from servicerw.core import db as app_db

    @get("/__test__/slow-read/{kind:str}")
    async def slow_read(kind: FromPath[str]) -> dict:  # in the app, on its event loop and pool
        if kind == "raw":
            rows = await Business.raw("SELECT 2 AS n, pg_sleep(0.5) /* raw-marker */").run()
        else:
            rows = await app_db.fetch("SELECT 1 AS n, pg_sleep(0.5) /* read-marker */")
        return {"n": rows[0]["n"]}

    app.register(slow_read)
    for kind, marker, expected in (("fetch", "read-marker */", 1), ("raw", "raw-marker */", 2)):
        terminator = _terminate_when_running(marker)
        response = await client.get(f"/__test__/slow-read/{kind}")
        terminator.join()
        assert response.status_code == 200, kind
        assert response.json() == {"n": expected}


async def test_pages_answer_between_terminations_of_the_apps_connections(client, db, business):
    for path in ("/", "/dashboard", f"/b/{business['slug']}", f"/dashboard/{business['id']}/edit", "/search?q=x"):
        await db.fetchval(TERMINATE)
        response = await client.get(path, headers=HTML, follow_redirects=False)
        assert response.status_code == 200, path


async def test_a_write_whose_connection_is_terminated_gets_a_503(client, db, app):
    from litestar import post

    from servicerw.core import db as app_db

    @post("/__test__/slow-write", status_code=204, opt={"exclude_from_csrf": True})
    async def slow_write() -> None:
        await app_db.execute("SELECT pg_sleep(0.5) /* write-marker */")

    app.register(slow_write)
    terminator = _terminate_when_running("write-marker */")
    response = await client.post("/__test__/slow-write", headers=HTML)
    terminator.join()
    assert response.status_code == 503
    assert "briefly unavailable" in response.text
    assert (await client.get("/", headers=HTML)).status_code == 200
