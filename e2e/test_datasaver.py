"""Photos on a 360 x 740 phone at DPR 2 (issue 14, deliverable 1): the browser picks the 640 px variant, never
the 1280; in data-saver mode no photo is fetched until tapped, then exactly one, in the same box; with
JavaScript off the tap opens the photo itself. The photos are made by the real pipeline (`media.processing`)
and written where the e2e server's local storage serves them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, expect

from e2e.helpers import DATABASE_URL, run
from servicerw.core.storage import LocalStorage
from servicerw.media.processing import process, storage_key, variant_sizes

SLUG = "ineza-plumbing"  # an e2e business (conftest), given two photos here
PHONE_360 = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
MEDIA = Path(__file__).resolve().parent.parent / ".data" / "e2e" / "media"  # DATA_DIR/media, as conftest sets


async def _add_photos() -> None:
    import asyncpg

    storage = LocalStorage(MEDIA)
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        business_id = await conn.fetchval("SELECT id FROM businesses WHERE slug = $1", SLUG)
        for n, color in enumerate(((200, 60, 40), (40, 120, 200))):
            buffer = io.BytesIO()
            gradient = Image.linear_gradient("L").resize((1600, 1200)).convert("RGB")
            Image.blend(gradient, Image.new("RGB", (1600, 1200), color), 0.5).save(buffer, "JPEG", quality=92)
            variants, info = process(buffer.getvalue())
            key = storage_key()
            for variant in variants:
                await storage.put(variant.key(key), variant.data, variant.content_type)
            await conn.execute(
                """INSERT INTO business_images
                       (business_id, storage_key, status, width, height, position, variant_bytes)
                   VALUES ($1, $2, 'ready', $3, $4, $5, $6::jsonb)""",
                business_id,
                key,
                info["width"],
                info["height"],
                n,
                json.dumps(variant_sizes(variants)),
            )
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def photos(base_url: str) -> str:
    run(_add_photos())
    return f"{base_url}/b/{SLUG}"


def media_requests(page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if "/media/" in request.url else None)
    return seen


def test_a_360_px_dpr_2_phone_downloads_the_640_px_photo_not_the_1280(browser: Browser, photos: str):
    context = browser.new_context(**PHONE_360)
    try:
        page = context.new_page()
        seen = media_requests(page)
        page.goto(photos)
        first = page.locator(".photos img").first
        expect(first).to_be_visible()
        page.wait_for_function("() => document.querySelector('.photos img').complete")
        assert first.evaluate("img => img.currentSrc").endswith("/640.webp")
        assert seen and all(url.endswith("/640.webp") for url in seen), seen
    finally:
        context.close()


def test_in_data_saver_mode_no_photo_is_fetched_until_tapped_then_exactly_one_in_the_same_box(
    browser: Browser, photos: str
):
    context = browser.new_context(**PHONE_360, extra_http_headers={"Save-Data": "on"})
    try:
        page = context.new_page()
        seen = media_requests(page)
        page.goto(photos, wait_until="networkidle")  # the page and everything it asks for has arrived
        placeholder = page.locator(".photos a.ds-photo").first
        expect(placeholder).to_contain_text("KB — tap to load")
        expect(page.locator("img")).to_have_count(0)
        assert seen == []
        placeholder.scroll_into_view_if_needed()
        box = placeholder.bounding_box()
        assert box is not None and box["width"] == pytest.approx(306, abs=1)  # 85vw of 360
        assert box["height"] == pytest.approx(box["width"] * 3 / 4, abs=1)  # the photo's 4:3, kept

        with page.expect_response(lambda response: "/media/" in response.url) as answer:
            placeholder.click()
        assert answer.value.status == 200 and answer.value.url.endswith("/640.webp")
        photo = page.locator(".photos img").first
        page.wait_for_function("() => document.querySelector('.photos img').complete")
        assert photo.evaluate("img => img.naturalWidth") == 640
        assert page.url == photos  # swapped in place, no navigation
        after = photo.bounding_box()
        assert after is not None
        assert (after["x"], after["y"]) == pytest.approx((box["x"], box["y"]), abs=0.5)
        assert (after["width"], after["height"]) == pytest.approx((box["width"], box["height"]), abs=0.5)
        page.wait_for_load_state("networkidle")
        assert len(seen) == 1
        expect(page.locator(".photos a.ds-photo", has_text="tap to load")).to_have_count(1)  # the other still waits
    finally:
        context.close()


def test_in_data_saver_mode_a_cards_photo_waits_for_its_tap_too(browser: Browser, base_url: str, photos: str):
    context = browser.new_context(**PHONE_360, extra_http_headers={"Save-Data": "on"})
    try:
        page = context.new_page()
        seen = media_requests(page)
        page.goto(base_url + "/", wait_until="networkidle")
        placeholder = page.locator(".card a.ds-photo")
        expect(placeholder).to_have_count(1)  # the one featured business with photos
        assert seen == []
        placeholder.scroll_into_view_if_needed()  # boxes are measured in the viewport: no scrolling in between
        box = placeholder.bounding_box()
        assert box is not None and (box["width"], box["height"]) == (96, 72)
        with page.expect_response(lambda response: "/media/" in response.url) as answer:
            placeholder.click()
        assert answer.value.url.endswith("/320.webp")
        page.wait_for_function(
            "() => document.querySelector('.card img') && document.querySelector('.card img').complete"
        )
        assert page.url == base_url + "/"  # the card's link was not followed
        after = page.locator(".card img").bounding_box()
        assert after is not None and (after["x"], after["y"], after["width"], after["height"]) == (
            box["x"],
            box["y"],
            96,
            72,
        )
        page.wait_for_load_state("networkidle")
        assert len(seen) == 1
    finally:
        context.close()


def test_the_footer_toggle_turns_data_saver_on_and_off(browser: Browser, photos: str):
    context = browser.new_context(**PHONE_360)
    try:
        page = context.new_page()
        page.goto(photos)
        expect(page.locator(".photos img")).to_have_count(2)
        page.get_by_role("link", name="Turn on (photos only when tapped)").click()
        expect(page.get_by_text("Data saver: on")).to_be_visible()
        assert page.url == photos
        expect(page.locator(".photos a.ds-photo")).to_have_count(2)
        expect(page.locator("img")).to_have_count(0)
        page.get_by_role("link", name="Turn off (show photos)").click()
        expect(page.locator(".photos img")).to_have_count(2)
    finally:
        context.close()


def test_with_javascript_off_a_tapped_placeholder_opens_the_photo(browser: Browser, base_url: str, photos: str):
    context = browser.new_context(**PHONE_360, java_script_enabled=False)
    try:
        context.add_cookies([{"name": "data_saver", "value": "on", "url": base_url}])
        page = context.new_page()
        page.goto(photos)
        with page.expect_navigation() as navigation:
            page.locator(".photos a.ds-photo").first.click()
        response = navigation.value
        assert response is not None and response.status == 200
        assert response.url.endswith("/640.webp") and response.headers["content-type"] == "image/webp"
    finally:
        context.close()
