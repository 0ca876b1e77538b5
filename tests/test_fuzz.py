"""Fuzzing every route (issue 13, deliver 2): hypothesis generates requests over every route of the app
(walked from `app.routes`) and every form field (the names in the templates' forms, the handlers'
parameters and the fields the controllers read), anonymous and logged in as a customer, the owner of a
business and an administrator, each with a valid CSRF token. No response may be a 5xx.

The run is derandomized (a fixed seed): the same 2,000+ requests every time (about a minute here). A failing
run lists one request per route and status that got a 5xx; every distinct failure found so far is an
explicit regression test in test_hardening.py. `FUZZ_STATS=1 pytest tests/test_fuzz.py -s` prints the
statuses per route and persona (how deep the requests went).

Hypothesis runs in a worker thread and sends each request to the app on the test's event loop
(`run_coroutine_threadsafe`): the app and its shared test client stay on their own loop.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.helpers import HTML, STRONG, csrf, listing_form, post_form, sign_up

pytestmark = pytest.mark.usefixtures("fresh_limits")

ROOT = Path(__file__).resolve().parent.parent
CASES = 2000
SKIP_PREFIXES = ("/__test__", "/static/", "/media/")
INT4_MAX = 2**31 - 1

SPECIAL_TEXT = [
    "",
    "0",
    "1",
    "-1",
    "2",
    "5",
    "²",
    "٣",
    "1e309",
    "NaN",
    "on",
    "true",
    str(INT4_MAX),
    str(INT4_MAX + 1),
    str(2**64),
    "9" * 60,
    "a\x00b",
    "\x00",
    "\x1b[31m",
    "\ud7ff\ufffe",
    "é" * 3,
    "x" * 4000,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "../../etc/passwd",
    "//evil.example/",
    "javascript:alert(1)",
    "2024-02-30",
    "1999-01-01",
    "08:00",
    "25:99",
    "-1.95,30.06",
    "a@example.rw",
    'a"><svg/onload=x>@x.example',
    "+250788123456",
    "phone",
    "email",
    "whatsapp",
    "approve",
    "reject",
    "read",
    "replied",
    "archived",
    "new",
    "owner",
    "customer",
    "admin",
    "rating",
    "newest",
    "hide",
    "dismiss",
    "suspend",
    "business",
    "review",
]


def _field_names(app) -> list[str]:
    """Every form field and query parameter the app knows: the rendered forms' names, the handlers'
    parameters and the names the controllers and form parsers read."""
    names: set[str] = set()
    for template in (ROOT / "templates").rglob("*.html"):
        names.update(re.findall(r'name="([A-Za-z0-9_\-]+)"', template.read_text()))
    for source in (ROOT / "src" / "servicerw").rglob("*.py"):
        names.update(re.findall(r'(?:data|form|fields|values)\.get\(\s*f?"([a-z][a-z0-9_]*)"', source.read_text()))
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            names.update(handler.parsed_fn_signature.parameters)
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        names.update({f"{day}_open1", f"{day}_close1", f"{day}_open2", f"{day}_close2", f"{day}_closed"})
    for n in range(3):
        names.update({f"service{n}_name_en", f"service{n}_name_rw", f"service{n}_name_fr", f"service{n}_price"})
    names -= {"self", "request", "data", "user", "maybe_user", "owned_business", "settings", "_csrf_token"}
    return sorted(n for n in names if not n[0].isupper())


def _routes(app) -> list[tuple[str, str]]:
    walked = []
    for route in app.routes:
        if route.path.startswith(SKIP_PREFIXES):
            continue
        for method in sorted(getattr(route, "methods", ())):
            if method not in ("HEAD", "OPTIONS"):
                walked.append((str(method), route.path))
    return sorted(walked)


@pytest.fixture
async def world(client, db):
    """A customer, an owner with an approved listing (photo, inquiry, review), an administrator, and the
    session cookies of each."""
    cookies = {"anon": {}}
    for persona, email, role in (
        ("customer", "eric@example.rw", "customer"),
        ("owner", "aline@example.rw", "owner"),
        ("admin", "root@example.rw", "owner"),
        (None, "victim@example.rw", "customer"),
    ):
        client.cookies.clear()
        assert (await sign_up(client, email, role=role)).status_code == 303
        if persona == "owner":
            assert (await post_form(client, "/dashboard/new", await listing_form(db))).status_code == 303
        if persona:
            await csrf(client, "/account/login")
            cookies[persona] = dict(client.cookies)
    await db.execute("UPDATE users SET role = 'admin' WHERE email = 'root@example.rw'")
    business = await db.fetchrow("UPDATE businesses SET status = 'approved' RETURNING id, slug, owner_id")
    image = await db.fetchval(
        "INSERT INTO business_images (business_id, storage_key, status) VALUES ($1, 'img/00/x', 'ready') RETURNING id",
        business["id"],
    )
    inquiry = await db.fetchval(
        """INSERT INTO customer_inquiries (business_id, customer_name, customer_email, message)
           VALUES ($1, 'Claudine', 'claudine@example.rw', 'Hello') RETURNING id""",
        business["id"],
    )
    customer = await db.fetchval("SELECT id FROM users WHERE email = 'eric@example.rw'")
    review = await db.fetchval(
        """INSERT INTO reviews (business_id, user_id, rating, body, status)
           VALUES ($1, $2, 4, 'Good work, on time.', 'pending') RETURNING id""",
        business["id"],
        customer,
    )
    victim = await db.fetchval("SELECT id FROM users WHERE email = 'victim@example.rw'")
    ids = {
        "business_id": [business["id"]],
        "listing_id": [business["id"]],
        "image_id": [image],
        "inquiry_id": [inquiry],
        "review_id": [review],
        "user_id": [victim],
        "claim_id": [1],
        "report_id": [1],
        "change_id": [1],
    }
    category = await db.fetchval("SELECT slug FROM categories WHERE parent_id IS NOT NULL ORDER BY id LIMIT 1")
    place = await db.fetchval("SELECT slug FROM locations WHERE level = 'district' ORDER BY id LIMIT 1")
    words = {
        "b": [business["slug"]],
        "c": [category],
        "p": [place],
        "kind": ["call", "whatsapp", "website", "directions", "x"],
        "action": ["delete", "cover", "up", "down", "approve", "reject", "undo", "x"],
        "code": ["en", "fr", "rw", "xx"],
        "key": ["00000000-0000-0000-0000-000000000000", "x"],
    }
    base_forms = {
        "/dashboard/new": await listing_form(db),
        "/dashboard/{business_id:int}/edit": await listing_form(db),
        "/admin/listings/new": await listing_form(db),
        "/b/{slug:str}/inquiries": {
            "key": "6b7d5c52-5a0e-4c4e-9a55-1f7d7b0c1a11",
            "name": "Claudine",
            "phone": "0788 555 123",
            "email": "claudine@example.rw",
            "preferred_contact": "phone",
            "message": "My kitchen sink leaks. Can you come on Saturday?",
        },
        "/b/{slug:str}/reviews": {"rating": "4", "body": "Good work, on time and well done."},
        "/account/signup": {"full_name": "F", "email": "f@example.rw", "password": STRONG, "role": "customer"},
        "/account/login": {"email": "eric@example.rw", "password": "wrong password", "next": "/account"},
        "/account/reset": {"email": "eric@example.rw"},
    }
    client.cookies.clear()
    return {"cookies": cookies, "ids": ids, "words": words, "base_forms": base_forms}


def _text() -> st.SearchStrategy[str]:
    """Mostly plausible text (so requests get past the edge checks into the handlers), sometimes anything."""
    printable = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=30)
    return st.integers(0, 9).flatmap(
        lambda n: (
            printable
            if n < 5
            else st.sampled_from(SPECIAL_TEXT)
            if n < 8
            else st.integers(min_value=-(2**70), max_value=2**70).map(str)
            if n < 9
            else st.text(max_size=30)
        )
    )


def _likely(known: list, other: st.SearchStrategy) -> st.SearchStrategy:
    """A known value (an id or slug that exists) four times in five, else anything `other` makes."""
    return st.integers(0, 4).flatmap(lambda n: st.sampled_from(known) if n else other)


def _persona(path: str) -> st.SearchStrategy[str]:
    """Mostly the persona the route is for, sometimes anyone."""
    usual = "admin" if path.startswith("/admin") else "owner" if path.startswith("/dashboard") else "customer"
    return _likely([usual], st.sampled_from(["anon", "customer", "owner", "admin"]))


def _requests(app, world):
    fields = _field_names(app)
    routes = _routes(app)

    @st.composite
    def request(draw):
        method, path = draw(st.sampled_from(routes))
        persona = draw(_persona(path))

        def segment(match):
            name, kind = match.group(1), match.group(2)
            if kind == "int":
                known = world["ids"].get(name, [1])
                return str(draw(_likely(known, st.integers(-(2**40), 2**66))))
            if name == "slug":
                # /b/, /c/, /p/ have their own slugs; the API's businesses take the profiles' (/b/) slugs
                known = world["words"].get(path.split("/")[1], world["words"]["b"])
            else:
                known = world["words"].get(name, ["x"])
            return quote(draw(_likely(known, _text())), safe="")

        url = re.sub(r"\{(\w+):(\w+)\}", segment, path)
        query = draw(st.dictionaries(st.sampled_from(fields), _text(), max_size=3))
        form = {}
        if method != "GET":
            if path in world["base_forms"] and draw(st.booleans()):
                form.update(world["base_forms"][path])
            form.update(draw(st.dictionaries(st.sampled_from(fields), _text(), max_size=4)))
        headers = dict(HTML)
        headers["accept"] = draw(st.sampled_from(["text/html", "application/json", "*/*", "text/csv", ""]))
        if draw(st.booleans()):
            headers["hx-request"] = "true"
        if draw(st.integers(0, 9)) == 0:
            headers["accept-language"] = draw(_text()).encode("ascii", "ignore").decode()
        cookies = {}
        if draw(st.integers(0, 9)) == 0:  # the language cookie is anyone's to set
            cookies["lang"] = quote(draw(_text()), safe="")
        upload = method == "POST" and draw(st.integers(0, 3)) == 0
        files = None
        if upload:
            content = draw(st.one_of(st.binary(max_size=200), st.sampled_from([b"", b"name,phone\n\x00,1\n"])))
            files = {draw(st.sampled_from(["photos", "file"])): ("f.jpg", content, "image/jpeg")}
        return {
            "method": method,
            "route": path,
            "url": url,
            "persona": persona,
            "query": query,
            "form": form,
            "headers": headers,
            "files": files,
            "cookies": cookies,
        }

    return request()


async def _send(client, world, case: dict):
    cookies = world["cookies"][case["persona"]]
    client.cookies.clear()
    client.cookies.update({**cookies, **case["cookies"]})
    kwargs = {"params": case["query"], "headers": case["headers"], "follow_redirects": False}
    if case["method"] != "GET":
        token = cookies.get("csrftoken") or world["cookies"]["customer"]["csrftoken"]
        if not cookies:
            client.cookies.set("csrftoken", token)
        data = {"_csrf_token": token, **case["form"]}
        if case["files"]:
            kwargs["files"] = {**case["files"], **{k: (None, v) for k, v in data.items()}}
        else:
            kwargs["data"] = data
    try:
        return await client.request(case["method"], case["url"], **kwargs)
    finally:
        client.cookies.clear()


SESSION_CHANGING = ("/account/logout", "/account/signup", "/account/login", "/account/reset/confirm")


def _keeping_sessions(case: dict, world: dict) -> dict:
    """The personas' sessions must last the whole run: what logs in or out is sent anonymously, and an
    administrator deactivates only the spare account."""
    if case["method"] == "POST" and case["url"].startswith(SESSION_CHANGING):
        return {**case, "persona": "anon"}
    if re.match(r"/admin/users/[^/]+/deactivate", case["url"]):
        return {**case, "url": f"/admin/users/{world['ids']['user_id'][0]}/deactivate"}
    return case


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")  # the app's threads use random
async def test_no_generated_request_gets_a_server_error(client, app, world):
    loop = asyncio.get_running_loop()
    sent, failures, statuses = [], {}, []

    @settings(
        max_examples=CASES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_requests(app, world))
    def one_request(case):
        case = _keeping_sessions(case, world)
        response = asyncio.run_coroutine_threadsafe(_send(client, world, case), loop).result(timeout=60)
        sent.append(case["url"])
        statuses.append((case["method"], case["route"], case["persona"], response.status_code))
        if response.status_code >= 500:  # one example per route and status, all reported at the end
            failures.setdefault((case["route"], response.status_code), case)

    await asyncio.to_thread(one_request)
    import collections

    if os.environ.get("FUZZ_STATS"):
        print("STATS", collections.Counter(s[3] for s in statuses))
        for k, v in sorted(collections.Counter(statuses).items()):
            print("STAT", k, v)
    assert not failures, "\n".join(f"{key}: {case!r}" for key, case in failures.items())
    assert len(sent) >= CASES
    assert len({url.split("?")[0].split("/")[1] for url in sent}) >= 6  # every part of the app was reached
    # The logged-in personas were still logged in at the end (the run exercised their pages).
    for persona in ("customer", "owner", "admin"):
        client.cookies.update(world["cookies"][persona])
        response = await client.get("/account", headers=HTML, follow_redirects=False)
        client.cookies.clear()
        assert response.status_code == 200, persona


async def test_the_walk_covers_every_route(app):
    assert len(_routes(app)) >= 90
    assert len(_field_names(app)) >= 60
