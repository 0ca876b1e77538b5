"""Photos through the whole pipeline on the real S3 endpoint (moto_server): upload, processing off the
request, GPS stripped, fixed sizes, cover/reorder/delete, quota, refusals, S3 outage (items 14-17)."""

import asyncio
import io
import re

import pytest
from PIL import Image

from servicerw.core.storage import S3Storage
from servicerw.settings import StorageSettings, get_settings
from tests.helpers import HTML, csrf, free_port, listing_form, owner, post_form, wait_for

pytestmark = pytest.mark.usefixtures("fresh_limits")  # the account forms' rate limits start from zero


def jpeg_with_gps(size=(1600, 1200)) -> bytes:
    img = Image.new("RGB", size, (30, 120, 200))
    exif = Image.Exif()
    exif[0x8825] = {1: "S", 2: (1.0, 57.0, 0.0), 3: "E", 4: (30.0, 3.0, 0.0)}  # GPS IFD: Kigali
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def png(size=(800, 600)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", size, (200, 50, 50, 128)).save(buf, "PNG")
    return buf.getvalue()


async def s3_keys(prefix: str) -> list[str]:
    storage = S3Storage(get_settings().storage)
    objects = await asyncio.to_thread(
        lambda: list(storage.client.list_objects(storage.bucket, prefix=prefix, recursive=True))
    )
    return [o.object_name for o in objects]


@pytest.fixture
async def business(client, db):
    await owner(client, "aline@example.rw")
    await post_form(client, "/dashboard/new", await listing_form(db))
    row = await db.fetchrow("SELECT id, slug FROM businesses")
    await db.execute("UPDATE businesses SET status = 'approved' WHERE id = $1", row["id"])
    return dict(row)


async def upload(client, business_id: int, *files: tuple[str, bytes, str]):
    token = await csrf(client, f"/dashboard/{business_id}/photos")
    return await client.post(
        f"/dashboard/{business_id}/photos",
        data={"_csrf_token": token},
        files=[("photos", f) for f in files],
        headers=HTML,
    )


async def wait_ready(db, business_id: int, n: int) -> list:
    async def processed():
        rows = await db.fetch("SELECT * FROM business_images WHERE business_id = $1 ORDER BY id", business_id)
        return rows if len(rows) == n and all(r["status"] != "pending" for r in rows) else None

    return await wait_for(processed, timeout=20, message=f"{n} photos processed")


async def test_two_photos_are_stored_processed_off_the_request_and_stripped_of_gps(client, db, business):
    response = await upload(
        client, business["id"], ("shop.jpg", jpeg_with_gps(), "image/jpeg"), ("sign.png", png(), "image/png")
    )
    assert response.status_code == 200 and response.text.count("received, being prepared") == 2
    rows = await wait_ready(db, business["id"], 2)
    assert [r["status"] for r in rows] == ["ready", "ready"]
    key = rows[0]["storage_key"]
    assert re.fullmatch(r"img/[0-9a-f]{2}/[0-9a-f]{30}", key)  # random, not the file name
    stored = sorted(await s3_keys(key))
    assert stored == sorted(f"{key}/{w}.{ext}" for w in (160, 320, 640, 1280) for ext in ("jpg", "webp"))
    storage = S3Storage(get_settings().storage)
    for name in stored:
        image = Image.open(io.BytesIO(await storage.get(name)))
        assert image.format in ("JPEG", "WEBP") and not image.getexif()  # GPS and all EXIF gone
    profile = (await client.get(f"/b/{business['slug']}", headers=HTML)).text
    assert "<picture>" in profile and 'type="image/webp"' in profile and 'loading="lazy"' in profile
    assert f"{key}/640.webp 640w" in profile and 'width="640" height="480"' in profile
    page = (await client.get(f"/dashboard/{business['id']}/photos", headers=HTML)).text
    assert "2 of 12 photos" in page and "Being prepared" not in page


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "not a JPEG"),
        ("photo.jpg", b"<html><body><script>alert(1)</script></body></html>", "not a JPEG"),
        ("anim.gif", b"GIF89a" + b"\0" * 100, "not a JPEG"),
        ("truncated.jpg", jpeg_with_gps()[:300], "could not be read"),
    ],
)
async def test_what_is_not_a_photo_is_refused_by_content(client, db, business, name, data, message):
    response = await upload(client, business["id"], (name, data, "image/jpeg"))
    assert response.status_code in (400, 415) and message in response.text
    # The positive signal: a real photo uploaded after it is processed. The worker takes pending photos
    # oldest first, so a refused file that had been queued would have been processed before it.
    assert (await upload(client, business["id"], ("real.png", png(), "image/png"))).status_code == 200

    async def later_photo_processed():
        row = await db.fetchrow("SELECT id, status FROM business_images ORDER BY id DESC LIMIT 1")
        return row if row and row["status"] != "pending" else None

    real = await wait_for(later_photo_processed, timeout=20, message="the later photo processed")
    assert real["status"] == "ready"
    assert (
        await db.fetchval("SELECT count(*) FROM business_images WHERE status = 'ready' AND id <> $1", real["id"]) == 0
    )
    assert await db.fetchval("SELECT count(*) FROM business_images") == 1  # the refused file left no row


async def test_a_900_megapixel_png_is_refused_before_decoding(client, db, business):
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 30000, 30000, 1, 0, 0, 0, 0)
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )
    response = await upload(client, business["id"], ("bomb.png", bomb, "image/png"))
    assert response.status_code == 400 and "could not be read" in response.text
    assert await db.fetchval("SELECT count(*) FROM business_images") == 0


async def test_size_limit_and_quota(client, db, business):
    big = b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024 + 10)
    response = await upload(client, business["id"], ("huge.jpg", big, "image/jpeg"))
    assert response.status_code == 413 and "at most 12 photos of 10 MB" in response.text
    small = png((40, 30))
    for _ in range(2):
        await upload(client, business["id"], *[(f"p{i}.png", small, "image/png") for i in range(6)])
    response = await upload(client, business["id"], ("one-more.png", small, "image/png"))
    assert response.status_code == 413
    assert await db.fetchval("SELECT count(*) FROM business_images") == 12


async def test_cover_reorder_and_delete_which_removes_the_objects(client, db, business):
    await upload(client, business["id"], ("a.png", png(), "image/png"), ("b.png", png(), "image/png"))
    first, second = await wait_ready(db, business["id"], 2)
    token = await csrf(client, f"/dashboard/{business['id']}/photos")
    base = f"/dashboard/{business['id']}/photos"
    await client.post(f"{base}/{second['id']}/cover", data={"_csrf_token": token}, headers=HTML)
    assert await db.fetchval("SELECT id FROM business_images WHERE is_cover") == second["id"]
    await client.post(f"{base}/{second['id']}/up", data={"_csrf_token": token}, headers=HTML)
    order = [r["id"] for r in await db.fetch("SELECT id FROM business_images ORDER BY position")]
    assert order == [second["id"], first["id"]]
    assert await s3_keys(first["storage_key"])
    response = await client.post(f"{base}/{first['id']}/delete", data={"_csrf_token": token}, headers=HTML)
    assert response.status_code in (200, 303)
    assert await s3_keys(first["storage_key"]) == []  # objects really gone
    assert await db.fetchval("SELECT count(*) FROM business_images") == 1


async def test_the_cached_profile_follows_cover_and_delete_at_once(client, db, business):
    await upload(client, business["id"], ("a.png", png(), "image/png"), ("b.png", png(), "image/png"))
    first, second = await wait_ready(db, business["id"], 2)
    profile = f"/b/{business['slug']}"
    page = (await client.get(profile, headers=HTML)).text  # now cached
    assert page.index(first["storage_key"]) < page.index(second["storage_key"])
    token = await csrf(client, f"/dashboard/{business['id']}/photos")
    base = f"/dashboard/{business['id']}/photos"
    await client.post(f"{base}/{second['id']}/cover", data={"_csrf_token": token}, headers=HTML)
    page = (await client.get(profile, headers=HTML)).text
    assert page.index(second["storage_key"]) < page.index(first["storage_key"])
    await client.post(f"{base}/{second['id']}/delete", data={"_csrf_token": token}, headers=HTML)
    page = (await client.get(profile, headers=HTML)).text
    assert first["storage_key"] in page and second["storage_key"] not in page


async def test_other_owners_cannot_touch_the_photos(client, db, business):
    await upload(client, business["id"], ("a.png", png(), "image/png"))
    (image,) = await wait_ready(db, business["id"], 1)
    await owner(client, "bosco@example.rw")
    assert (await client.get(f"/dashboard/{business['id']}/photos", headers=HTML)).status_code == 404
    token = await csrf(client, "/dashboard/new")
    for action in ("delete", "cover", "up"):
        response = await client.post(
            f"/dashboard/{business['id']}/photos/{image['id']}/{action}", data={"_csrf_token": token}, headers=HTML
        )
        assert response.status_code == 404
    assert await s3_keys(image["storage_key"])
    response = await client.post(
        f"/dashboard/{business['id']}/photos",
        data={"_csrf_token": token},
        files=[("photos", ("x.png", png(), "image/png"))],
        headers=HTML,
    )
    assert response.status_code == 404


async def test_upload_fails_clearly_when_s3_is_down_and_nothing_is_half_written(client, db, business, app):
    port = free_port()  # nothing listens there
    photos = app.state.photos
    original = photos.storage
    photos.storage = S3Storage(
        StorageSettings(
            endpoint_url=f"http://127.0.0.1:{port}", access_key="a", secret_key="b", bucket="servicerw-test"
        )
    )
    try:
        response = await upload(client, business["id"], ("a.png", png(), "image/png"))
        assert response.status_code == 503 and "storage is unavailable" in response.text
        assert await db.fetchval("SELECT count(*) FROM business_images") == 0
        assert (await client.get(f"/b/{business['slug']}", headers=HTML)).status_code == 200
    finally:
        photos.storage = original


async def test_photo_upload_needs_the_csrf_token(client, db, business):
    response = await client.post(
        f"/dashboard/{business['id']}/photos", files=[("photos", ("a.png", png(), "image/png"))], headers=HTML
    )
    assert response.status_code == 403
