"""Cross-cutting behaviour: health, security headers, static files, compression, fail-open stores, S3."""

import gzip
import re
import socket
import uuid

import pytest

from servicerw.core.storage import S3Storage, StorageUnavailable
from servicerw.core.stores import FailOpenStore
from servicerw.settings import StorageSettings, ValkeySettings, get_settings

SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options")


async def test_healthz_answers_while_the_process_lives(client):
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_reports_database_valkey_and_storage(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "up", "valkey": "up", "storage": "s3:up"}


async def test_security_headers_are_on_every_response_including_errors(client, db):
    for url, status in (("/", 200), ("/no-such-page", 404), ("/search?page=-1", 400), ("/healthz", 200)):
        response = await client.get(url, headers={"accept": "text/html"})
        assert response.status_code == status
        for header in SECURITY_HEADERS:
            assert header in response.headers, (url, header)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    response = await client.post("/", headers={"accept": "text/html"})
    assert response.status_code == 405 and "content-security-policy" in response.headers


async def test_static_files_have_hashed_names_long_cache_and_precompression(client, db):
    page = (await client.get("/", headers={"accept": "text/html"})).text
    css = re.search(r'href="(/static/css/app\.[0-9a-f]{10}\.css)"', page).group(1)
    js = re.search(r'data-later="(/static/js/htmx-2\.0\.11\.min\.[0-9a-f]{10}\.js)"', page).group(1)
    response = await client.get(js, headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-encoding"] == "gzip"
    assert response.content.startswith(b"var htmx") or b"htmx" in response.content[:200]
    response = await client.get(css, headers={"accept-encoding": "br"})
    assert response.headers["content-encoding"] == "br" and b"body{" in response.content
    assert (await client.get("/static/css/app.0000000000.css")).status_code == 404
    licence = await client.get("/static/js/htmx-LICENSE.txt")
    assert licence.status_code == 200 and "max-age=3600" in licence.headers["cache-control"]


async def test_pages_are_compressed_with_gzip_when_brotli_is_not_accepted(client, db):
    response = await client.get("/", headers={"accept": "text/html", "accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.compress(response.content)  # decoded fine by the client


async def test_500_page_is_generic_without_traceback(app, client):
    from litestar import get

    @get("/boom-test-only", sync_to_thread=False)
    def boom() -> str:
        raise RuntimeError("secret internal detail")

    app.register(boom)
    response = await client.get("/boom-test-only", headers={"accept": "text/html", "accept-language": "en"})
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "secret internal detail" not in response.text and "Traceback" not in response.text
    assert "content-security-policy" in response.headers


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_store_fails_open_to_memory_when_valkey_is_unreachable():
    store = FailOpenStore.from_settings(ValkeySettings(url=f"redis://127.0.0.1:{_closed_port()}/0"))
    await store.set("k", b"v", expires_in=60)
    assert await store.get("k") == b"v"  # answered from the in-process fallback
    assert not store.healthy and not await store.ping()
    await store.close()


async def test_store_uses_valkey_when_it_is_up():
    settings = get_settings().valkey
    store = FailOpenStore.from_settings(settings).with_namespace("test")
    key = f"k-{uuid.uuid4()}"
    await store.set(key, b"shared", expires_in=60)
    other = FailOpenStore.from_settings(settings).with_namespace("test")  # another process, same Valkey
    assert await other.get(key) == b"shared"
    await store.delete(key)
    await store.close()
    await other.close()


async def test_readyz_stays_ready_when_valkey_is_down(app, client):
    """Valkey trouble degrades features; it must not take the site out of the load balancer."""
    original = app.state.store
    app.state.store = FailOpenStore.from_settings(ValkeySettings(url=f"redis://127.0.0.1:{_closed_port()}/0"))
    try:
        response = await client.get("/readyz")
        assert response.status_code == 200 and response.json()["valkey"] == "down"
        assert (await client.get("/", headers={"accept": "text/html"})).status_code == 200
    finally:
        app.state.store = original


async def test_objects_really_land_in_the_s3_endpoint(migrated_db):
    storage = S3Storage(get_settings().storage)
    key = f"test/{uuid.uuid4()}.txt"
    await storage.put(key, b"hello", "text/plain")
    assert await storage.get(key) == b"hello"
    assert storage.url(key).endswith(f"/servicerw-test/{key}")
    await storage.delete(key)
    with pytest.raises(StorageUnavailable):
        await storage.get(key)


async def test_unreachable_s3_is_reported_not_raised():
    storage = S3Storage(
        StorageSettings(
            endpoint_url=f"http://127.0.0.1:{_closed_port()}",
            access_key="a",
            secret_key="b",
            bucket="unreachable-bucket",
        )
    )
    assert await storage.ping() is False
    with pytest.raises(StorageUnavailable):
        await storage.put("k", b"v", "text/plain")
