"""Data saver (issue 14, deliverable 1): `Save-Data: on` or the footer's toggle (a cookie that wins both ways)
means no photo is downloaded until tapped; placeholders say what a tap costs (sizes recorded by the photo
worker); the page cache keeps the two versions apart; a profile without photos stays under 10 KB on the wire.
The real app, PostgreSQL, Valkey and S3 (moto_server)."""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image

from servicerw.core.storage import S3Storage
from servicerw.settings import get_settings
from tests.factories import make_business
from tests.helpers import HTML, csrf, listing_form, owner, post_form, wait_for

pytestmark = pytest.mark.usefixtures("fresh_limits")

SAVE_DATA = {"save-data": "on"}
IMG_WITH_SRC = re.compile(r"<img\b[^>]*\ssrc=", re.I)
SIZES = {"320.webp": 9_000, "320.jpg": 14_000, "640.webp": 38_500, "640.jpg": 61_000, "1280.webp": 121_000}


async def get(client, url: str, cookies: dict[str, str] | None = None, **headers):
    client.cookies.clear()  # a new anonymous visitor
    for name, value in (cookies or {}).items():
        client.cookies.set(name, value)
    return await client.get(url, headers={**HTML, **headers})


async def shop_with_photos(db, slug: str = "keza-salon") -> dict:
    shop = await make_business(db, business_name="Keza Salon", slug=slug, is_featured=True)
    for n in range(2):
        await db.execute(
            """INSERT INTO business_images (business_id, storage_key, status, width, height, position, variant_bytes)
               VALUES ($1, $2, 'ready', 1600, 1200, $3, $4::jsonb)""",
            shop["id"],
            f"img/ab/{n:030d}",
            n,
            json.dumps(SIZES),
        )
    return shop


async def test_with_save_data_the_profile_and_cards_download_no_photo_and_say_what_a_tap_costs(client, db):
    await shop_with_photos(db)
    saver = await get(client, "/b/keza-salon", **SAVE_DATA)
    assert saver.status_code == 200
    assert not IMG_WITH_SRC.search(saver.text) and "<picture" not in saver.text
    # 38,500 bytes: 38 KB (rounded up), the 640 px WebP a tap loads; the box keeps the photo's 4:3 shape.
    assert saver.text.count("Photo, 38 KB — tap to load") == 2
    links = re.findall(r'<a class="ds-photo" href="([^"]+)"', saver.text)
    assert len(links) == 2 and all(link.endswith("/640.webp") for link in links)
    assert saver.text.count('<svg width="640" height="480" viewBox="0 0 640 480"') == 2
    assert "Data saver: on" in saver.text and "/data-saver?on=0&amp;next=/b/keza-salon" in saver.text

    home = await get(client, "/", **SAVE_DATA)
    assert not IMG_WITH_SRC.search(home.text)
    card = r'<a class="ds-photo" href="[^"]+/320\.webp"[^>]*aria-label="Photo, 9 KB — tap to load"'
    assert re.search(card, home.text)

    # Without Save-Data: the photos, with widths the browser can choose from and a box that fits a phone.
    plain = await get(client, "/b/keza-salon")
    assert "tap to load" not in plain.text and plain.text.count("<picture>") == 2
    assert 'sizes="(max-width: 752px) 85vw, 640px"' in plain.text
    assert re.search(r'srcset="[^"]+/320\.webp 320w, [^"]+/640\.webp 640w, [^"]+/1280\.webp 1280w"', plain.text)
    assert "Data saver: off" in plain.text and "/data-saver?on=1&amp;next=/b/keza-salon" in plain.text


async def test_the_toggle_remembers_the_choice_and_it_wins_over_the_browsers_header_both_ways(client, db):
    await shop_with_photos(db)
    client.cookies.clear()
    turned_on = await client.get("/data-saver?on=1&next=/b/keza-salon", headers=HTML, follow_redirects=False)
    assert turned_on.status_code == 303 and turned_on.headers["location"] == "/b/keza-salon"
    cookie = turned_on.headers["set-cookie"]
    assert cookie.startswith("data_saver=on;") and "Max-Age=31536000" in cookie and "HttpOnly" in cookie
    page = await client.get("/b/keza-salon", headers=HTML)  # the cookie alone, no Save-Data header
    assert "tap to load" in page.text and not IMG_WITH_SRC.search(page.text)

    # Turned off, the photos come back although the browser keeps asking to save data.
    off = await client.get("/data-saver?on=0&next=/b/keza-salon", headers=HTML, follow_redirects=False)
    assert off.headers["set-cookie"].startswith("data_saver=off;")
    page = await client.get("/b/keza-salon", headers={**HTML, **SAVE_DATA})
    assert "tap to load" not in page.text and page.text.count("<picture>") == 2

    # `next` goes nowhere but this site; a value that is not yes/no is a clear 400, never a 500.
    away = await client.get("/data-saver?on=1&next=https://evil.example/x", headers=HTML, follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/"
    bad = await client.get("/data-saver?on=maybe", headers=HTML, follow_redirects=False)
    assert bad.status_code == 400


async def test_the_page_cache_keeps_the_data_saver_page_apart_and_says_it_varies_by_save_data(client, db):
    await shop_with_photos(db)
    seen = []
    for _round in range(2):
        for headers, cookies, saving in (
            ({}, {}, False),
            (SAVE_DATA, {}, True),
            ({}, {"data_saver": "on"}, True),
            (SAVE_DATA, {"data_saver": "off"}, False),
        ):
            response = await get(client, "/b/keza-salon", cookies, **headers)
            assert response.status_code == 200
            assert ("tap to load" in response.text) is saving
            assert ("<picture>" in response.text) is not saving
            assert "Save-Data" in response.headers["vary"] and "Cookie" in response.headers["vary"]
            seen.append(response.headers["x-cache"])
    # The first visit of each state renders; the cookie and the header give the same page (one entry per state).
    assert seen[:2] == ["miss", "miss"] and all(s.startswith("hit") for s in seen[2:])

    # A browser revalidating its copy: 304 only for the same state (the 304 names Save-Data in Vary too).
    client.cookies.clear()
    first = await client.get("/b/keza-salon", headers=HTML)
    etag = first.headers["etag"]
    same = await client.get("/b/keza-salon", headers={**HTML, "if-none-match": etag})
    assert same.status_code == 304 and "Save-Data" in same.headers["vary"]
    switched = await client.get("/b/keza-salon", headers={**HTML, **SAVE_DATA, "if-none-match": etag})
    assert switched.status_code == 200 and "tap to load" in switched.text


async def test_a_profile_without_photos_costs_under_10_kb_on_the_wire_in_data_saver_mode(client, db):
    shop = await make_business(
        db,
        business_name="Ubumwe Plumbing & Water Tanks",
        slug="ubumwe-plumbing",
        description_en=(
            "Plumbing for homes, shops and offices across Gasabo: leaking pipes, blocked drains, new bathrooms, "
            "water tanks and pumps installed and repaired. We come the same day in Kimironko, Remera and "
            "Kacyiru, give a price before we start, and guarantee our work for three months."
        ),
        services=[
            {"name_en": n, "name_rw": n, "name_fr": n, "price_rwf": p}
            for n, p in (("Pipe repair", 15000), ("Drain unblocking", 10000), ("Water tank installation", 60000))
        ],
        review_count=3,
        average_rating=4.3,
    )
    for i in range(3):
        user = await db.fetchval(
            "INSERT INTO users (email, full_name) VALUES ($1, 'Eric Habimana') RETURNING id", f"r{i}@example.rw"
        )
        await db.execute(
            "INSERT INTO reviews (business_id, user_id, rating, body, status) VALUES ($1, $2, 4, $3, 'approved')",
            shop["id"],
            user,
            "They came on time, fixed the leak under the sink and cleaned up after.",
        )
    for lang in ("rw", "en", "fr"):
        response = await get(
            client,
            "/b/ubumwe-plumbing",
            **SAVE_DATA,
            **{"accept-encoding": "gzip, deflate, br, zstd", "accept-language": lang},
        )
        assert response.status_code == 200 and "They came on time" in response.text
        # What the phone receives: the compressed body as sent (Content-Length) plus the status line and headers.
        body = int(response.headers["content-length"])
        headers = len("HTTP/1.1 200 OK\r\n") + sum(len(k) + len(v) + 4 for k, v in response.headers.items()) + 2
        print(f"profile without photos, data saver, {lang}: body {body} B + headers {headers} B = {body + headers} B")
        assert response.headers["content-encoding"] in ("gzip", "br")
        assert body + headers <= 10 * 1024


def jpeg(size=(1600, 1200)) -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize(size).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


async def test_the_photo_worker_records_each_variants_size_which_the_placeholder_shows(client, db):
    await owner(client, "aline@example.rw")
    await post_form(client, "/dashboard/new", await listing_form(db))
    shop = await db.fetchrow("SELECT id, slug FROM businesses")
    await db.execute("UPDATE businesses SET status = 'approved' WHERE id = $1", shop["id"])
    token = await csrf(client, f"/dashboard/{shop['id']}/photos")
    uploaded = await client.post(
        f"/dashboard/{shop['id']}/photos",
        data={"_csrf_token": token},
        files=[("photos", ("shop.jpg", jpeg(), "image/jpeg"))],
        headers=HTML,
    )
    assert uploaded.status_code == 200

    async def ready():
        query = "SELECT * FROM business_images WHERE business_id = $1 AND status = 'ready'"
        return await db.fetchrow(query, shop["id"])

    row = await wait_for(ready, timeout=20, message="the photo processed")
    sizes = json.loads(row["variant_bytes"])
    assert set(sizes) == {f"{w}.{ext}" for w in (160, 320, 640, 1280) for ext in ("webp", "jpg")}
    storage = S3Storage(get_settings().storage)
    for name, size in sizes.items():
        assert len(await storage.get(f"{row['storage_key']}/{name}")) == size
    page = await get(client, f"/b/{shop['slug']}", **SAVE_DATA)
    kb = -(-sizes["640.webp"] // 1024)
    assert f"Photo, {kb} KB — tap to load" in page.text
