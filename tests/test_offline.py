"""Offline and installable: the service worker at /sw.js, the web app manifest and its icons, the offline page,
the CSP allowing them, and what the worker reads to decide a page may be saved (e2e/test_offline.py drives the
worker itself in Chromium)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re

import pytest
from PIL import Image

from tests.factories import make_business
from tests.helpers import HTML, STRONG, log_in


def _href(html: str, rel: str) -> str:
    return re.search(rf'<link rel="{rel}" href="([^"]+)"', html).group(1)


async def test_the_service_worker_is_served_at_the_root_with_the_current_static_names(client, db):
    home = (await client.get("/", headers=HTML)).text
    worker = await client.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["cache-control"] == "no-cache"
    config = json.loads(re.search(r"const CONFIG = (\{.*?\});", worker.text).group(1))
    # What the page links is what the worker precaches (so a new stylesheet means a new worker)...
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', home).group(1)
    assert config["static"]["css/app.css"] == stylesheet
    for script in re.findall(r'<script src="([^"]+)"', home):
        assert script in config["static"].values()
    assert config["offline"] == "/offline" and re.fullmatch(r"[0-9a-f]{10}", config["version"])
    # ...and every precached file exists (one missing file and the browser refuses to install the worker).
    for url in config["static"].values():
        assert (await client.get(url)).status_code == 200, url
    assert (await client.get("/offline", headers=HTML)).status_code == 200
    # Asked again unchanged (browsers do on navigations): 304, no body.
    again = await client.get("/sw.js", headers={"if-none-match": worker.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    # Only at the root: under /static/ its scope would be /static/js/, and its placeholder is not filled in.
    assert (await client.get("/static/js/sw.js")).status_code == 404
    compressed = await client.get("/sw.js", headers={"accept-encoding": "br"})
    assert compressed.headers["content-encoding"] == "br" and compressed.text == worker.text


async def test_the_pages_link_the_manifest_icons_and_the_worker_registration(client, db):
    home = (await client.get("/", headers=HTML)).text
    answer = await client.get(_href(home, "manifest"))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(answer.text)
    assert manifest["name"] == "ServiceRW" and manifest["short_name"] == "ServiceRW"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/" and manifest["display"] == "standalone"
    theme = re.search(r'<meta name="theme-color" content="([^"]+)">', home).group(1)
    assert manifest["theme_color"] == theme and re.fullmatch(r"#[0-9a-f]{6}", manifest["background_color"])
    seen = set()
    for icon in manifest["icons"]:
        png = await client.get(icon["src"])
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        image = Image.open(io.BytesIO(png.content))
        assert image.format == "PNG" and "x".join(map(str, image.size)) == icon["sizes"]
        assert icon["type"] == "image/png"
        seen.add((icon["sizes"], icon["purpose"]))
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= seen
    # a maskable icon fills its whole square (the launcher cuts its own shape out of it)
    maskable = next(icon for icon in manifest["icons"] if icon["purpose"] == "maskable")
    corner = Image.open(io.BytesIO((await client.get(maskable["src"])).content)).convert("RGBA").getpixel((0, 0))
    assert corner[3] == 255
    touch = Image.open(io.BytesIO((await client.get(_href(home, "apple-touch-icon"))).content))
    assert touch.size == (180, 180)
    assert (await client.get("/favicon.ico")).status_code == 200
    # boot.js runs it after the first paint (base.html)
    register = re.search(r'data-later="(/static/js/sw-register\.[0-9a-f]{10}\.js)">', home).group(1)
    source = (await client.get(register)).text
    assert "'serviceWorker' in navigator" in source.replace('"', "'") and 'register("/sw.js")' in source


async def test_the_content_security_policy_allows_the_worker_and_the_manifest_and_nothing_more(client, db):
    """Scripts: our own files, and the one inline script of every page (boot.js, which runs the others once
    the page is painted) by the hash of its exact text: any other inline script would be blocked."""
    for path in ("/", "/sw.js", "/offline"):
        response = await client.get(path, headers=HTML)
        csp = response.headers["content-security-policy"]
        directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
        assert directives["worker-src"] == "'self'" and directives["manifest-src"] == "'self'"
        own, inline = directives["script-src"].split(" ")
        assert own == "'self'" and "*" not in csp and "unsafe" not in csp
        if path != "/sw.js":
            scripts = re.findall(r"<script>(.*?)</script>", response.text, re.S)
            assert len(scripts) == 1 and "data-later" in scripts[0]
            digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
            assert inline == f"'sha256-{digest}'"


@pytest.mark.parametrize(
    ("lang", "heading", "missing"),
    [
        ("en", "Saved pages", "You are offline, and this page is not saved on this device."),
        ("rw", "Impapuro zabitswe", "Nta murandasi ufite, kandi uru rupapuro ntirwabitswe kuri iki gikoresho."),
        ("fr", "Pages enregistrées", "Vous êtes hors ligne, et cette page n’est pas enregistrée sur cet appareil."),
    ],
)
async def test_the_offline_page_is_translated_and_has_the_places_the_worker_fills(client, db, lang, heading, missing):
    client.cookies.set("lang", lang)
    page = await client.get("/offline", headers=HTML)
    assert page.status_code == 200 and page.headers["content-language"] == lang
    assert f"<h1>{heading}</h1>" in page.text
    assert '<meta name="robots" content="noindex">' in page.text
    for place in ("<!--saved-profiles-->", "<!--saved-searches-->", "<!--offline-status-->"):
        assert page.text.count(place) == 1, place
    # The worker reads these texts with a regular expression that stops at "<": they hold none.
    assert re.search(r'<template id="offline-missing">([^<]*)</template>', page.text).group(1) == missing
    assert re.search(r'<template id="offline-note">([^<]+)</template>', page.text)


async def test_the_worker_can_tell_an_anonymous_public_page_from_a_logged_in_one(client, db):
    """The worker saves a profile or a search only when the answer carries X-Cache: the page cache's mark on
    what it serves to anonymous visitors. A logged-in visitor's answer never carries it."""
    await make_business(db, business_name="Amahoro Tailors", slug="amahoro-tailors")
    anonymous = await client.get("/b/amahoro-tailors", headers=HTML)
    assert anonymous.status_code == 200 and "x-cache" in anonymous.headers
    search = await client.get("/search?q=amahoro", headers=HTML)
    assert search.status_code == 200 and "x-cache" in search.headers
    await db.execute(
        """INSERT INTO users (email, full_name, password_hash, role, preferred_language, is_active)
           VALUES ('aline@example.rw', 'Aline', $1, 'customer', 'en', true)""",
        __import__("argon2").PasswordHasher().hash(STRONG),
    )
    assert (await log_in(client)).status_code == 303
    for path in ("/b/amahoro-tailors", "/search?q=amahoro", "/account"):
        answer = await client.get(path, headers=HTML)
        assert answer.status_code == 200 and "x-cache" not in answer.headers, path


async def test_forgetting_the_saved_pages_clears_the_sites_storage_on_this_device(client, db):
    page = await client.get("/offline", headers=HTML)
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    forgot = await client.post("/offline/forget", data={"_csrf_token": token}, headers=HTML, follow_redirects=False)
    assert forgot.status_code == 303 and forgot.headers["location"] == "/offline"
    assert forgot.headers["clear-site-data"] == '"storage"'
    refused = await client.post("/offline/forget", data={"_csrf_token": "0" * 64}, headers=HTML)
    assert refused.status_code == 403 and "clear-site-data" not in refused.headers
