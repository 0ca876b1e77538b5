"""The GraphQL read API (/graphql): the same data, keys and limits as REST; nested reads batched (no N+1);
depth, size and cost limits; no GraphiQL."""

from __future__ import annotations

import contextvars

import asyncpg
import pytest

from tests.factories import make_business
from tests.helpers import HTML, api_key, bearer

pytestmark = pytest.mark.usefixtures("fresh_limits")

NESTED = (
    """{ search(q: "amazi") { total items { name slug category { name } reviews(first: 2) { author rating } } } }"""
)


async def _businesses_with_reviews(db, count: int) -> None:
    user = await db.fetchval(
        "INSERT INTO users (email, full_name) VALUES ('rev@example.rw', 'Eric Habimana') RETURNING id"
    )
    for i in range(count):
        shop = await make_business(db, business_name=f"Amazi Plumbing {i}", slug=f"amazi-plumbing-{i}")
        for n in range(3):
            await db.execute(
                """INSERT INTO reviews (business_id, user_id, rating, body, status, created_at)
                   VALUES ($1, $2, $3, 'Good and quick work here', 'approved', now() - make_interval(mins => $4))""",
                shop["id"],
                user
                if n == 0
                else await db.fetchval(
                    "INSERT INTO users (email, full_name) VALUES ($1, 'Aline Uwase') RETURNING id",
                    f"r{i}-{n}@example.rw",
                ),
                5 - n,
                n,
            )


class StatementLog:
    """The statements asyncpg sends to PostgreSQL for the requests made inside `with log:` (the app runs in this
    process; the request inherits the context). Background loops (photo worker, outbox) run in contexts of
    their own and are not counted."""

    def __init__(self, monkeypatch) -> None:
        self.statements: list[str] = []
        self._active = contextvars.ContextVar("statement_log", default=False)
        original = asyncpg.connection.Connection._execute
        active = self._active

        async def logged(conn, query, *args, **kwargs):
            if active.get():
                self.statements.append(query)
            return await original(conn, query, *args, **kwargs)

        monkeypatch.setattr(asyncpg.connection.Connection, "_execute", logged)

    def __enter__(self) -> StatementLog:
        self._token = self._active.set(True)
        return self

    def __exit__(self, *exc) -> None:
        self._active.reset(self._token)

    def about(self, *tables: str) -> list[str]:
        return [q for q in self.statements if any(t in q for t in tables)]


async def test_nested_reviews_of_a_result_page_take_one_query(client, db, monkeypatch):
    await _businesses_with_reviews(db, 12)
    key, _ = await api_key(db, tier="premium")
    with StatementLog(monkeypatch) as log:
        response = await client.post("/graphql", json={"query": NESTED}, headers=bearer(key))
    assert response.status_code == 200, response.text
    data = response.json()["data"]["search"]
    assert data["total"] == 12 and len(data["items"]) == 12
    assert all(len(item["reviews"]) == 2 for item in data["items"])
    assert data["items"][0]["reviews"][0]["rating"] == 5
    # One search query (business_search) and one for the reviews of all twelve businesses: no N+1.
    assert len(log.about("FROM reviews")) == 1, log.about("FROM reviews")
    assert len(log.about("business_search")) == 1
    assert len(log.about("FROM reviews", "business_search", "businesses b", "business_images")) == 2


async def test_cost_is_charged_per_returned_object_against_the_keys_budget(client, db):
    await _businesses_with_reviews(db, 3)
    key, _ = await api_key(db, tier="free")
    small = await client.post("/graphql", json={"query": "{ categories { slug } }"}, headers=bearer(key))
    categories = len(small.json()["data"]["categories"])
    assert small.json()["extensions"]["cost"] == categories
    assert small.headers["ratelimit"].startswith(f'"free";r={100 - categories};')
    big = await client.post("/graphql", json={"query": NESTED}, headers=bearer(key))
    cost = big.json()["extensions"]["cost"]
    assert cost == 3 * 5 + 3 * 2  # a business costs 5, a review 1
    assert big.headers["ratelimit"].startswith(f'"free";r={100 - categories - cost};')
    business = await client.post(
        "/graphql",
        json={"query": '{ business(slug: "amazi-plumbing-0") { name services { name priceRwf } } }'},
        headers=bearer(key),
    )
    assert business.json()["data"]["business"]["services"] == [{"name": "Gusana amatiyo", "priceRwf": 15000}]
    assert business.json()["extensions"]["cost"] == 5


async def test_the_same_keys_and_limits_as_rest(client, db):
    refused = await client.post("/graphql", json={"query": "{ categories { slug } }"}, headers=bearer("srw_nope"))
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    key, _ = await api_key(db, tier="free")
    # Places with their children cost one unit each: the whole tree is more than a free key's window.
    tree = "{ places { slug children { slug children { slug } } } }"
    first = await client.post("/graphql", json={"query": tree}, headers=bearer(key))
    assert first.status_code == 200 and first.json()["extensions"]["cost"] > 400
    assert first.headers["ratelimit"].startswith('"free";r=0;')
    after = await client.post("/graphql", json={"query": "{ categories { slug } }"}, headers=bearer(key))
    assert after.status_code == 429 and int(after.headers["retry-after"]) > 0


async def test_depth_size_and_bad_input_are_refused_clearly(client, db):
    deep = "{ places { children { children { children { children { children { children { slug } } } } } } } }"
    response = await client.post("/graphql", json={"query": deep})
    assert response.status_code == 200 and "exceeds maximum operation depth" in response.json()["errors"][0]["message"]
    huge = "{ categories { " + "slug " * 2000 + "} }"
    too_big = await client.post("/graphql", json={"query": huge})
    assert too_big.status_code == 413 and too_big.headers["content-type"] == "application/problem+json"
    bad = await client.post("/graphql", json={"query": "{ search(page: 0) { total } }"})
    assert bad.json()["errors"][0]["message"] == "page must be 1 or more"
    nul = await client.post("/graphql", json={"query": '{ business(slug: "a\\u0000b") { name } }'})
    assert nul.status_code == 200 and nul.json()["data"] == {"business": None}


async def test_no_graphiql_page(client, db):
    response = await client.get("/graphql", headers=HTML)
    assert "graphiql" not in response.text.lower()
    assert response.status_code in (400, 404, 405) or "text/html" not in response.headers.get("content-type", "")


SAME_AS_REST = """
query Page($q: String!, $withFacets: Boolean!) {
  found: search(q: $q) {
    total pages perPage
    items { __typename ...card shop: name reviewCount }
    facets @include(if: $withFacets) { categories { slug count } districts { slug count } rating4 verified }
  }
}
fragment card on BusinessSummary { id slug rating verified category { slug name } place district distanceKm
                                   photo { alt sizes { width webp jpeg } } }
"""


def _card(item: dict) -> dict:
    """A REST search result in the shape the GraphQL query above asks for."""
    return {
        "__typename": "BusinessSummary",
        "id": item["id"],
        "slug": item["slug"],
        "rating": item["rating"],
        "verified": item["verified"],
        "category": item["category"],
        "place": item["place"],
        "district": item["district"],
        "distanceKm": item["distance_km"],
        "photo": item["photo"],
        "shop": item["name"],
        "reviewCount": item["review_count"],
    }


async def test_answers_carry_the_same_data_as_rest_whatever_the_query_shape(client, db):
    """Aliases, fragments, `__typename`, `@include`, nulls (no photo, no distance), nested objects and lists:
    each answer holds what REST says, asked once and again (a repeated query text reuses its compiled plan)."""
    await _businesses_with_reviews(db, 3)
    key, _ = await api_key(db, tier="premium")
    rest = (await client.get("/api/v1/search?q=amazi", headers=bearer(key))).json()
    assert rest["total"] == 3 and all(item["photo"] is None for item in rest["items"])
    expected_items = [_card(item) for item in rest["items"]]
    facets = rest["facets"]
    answers = []
    for with_facets in (True, True, False):
        response = await client.post(
            "/graphql",
            json={"query": SAME_AS_REST, "variables": {"q": "amazi", "withFacets": with_facets}},
            headers=bearer(key),
        )
        assert response.status_code == 200 and "errors" not in response.json(), response.text
        answers.append(response.json()["data"]["found"])
    assert answers[0] == answers[1]
    for answer in answers:
        assert (answer["total"], answer["pages"], answer["perPage"]) == (3, 1, 20)
        assert answer["items"] == expected_items
    assert answers[0]["facets"] == {
        "categories": [{"slug": c["slug"], "count": c["count"]} for c in facets["categories"]],
        "districts": [{"slug": d["slug"], "count": d["count"]} for d in facets["districts"]],
        "rating4": facets["rating_4"],
        "verified": facets["verified"],
    }
    assert "facets" not in answers[2]
    # A business with nested lists and nullable objects, and one that does not exist.
    business = await client.post(
        "/graphql",
        json={
            "query": """{ a: business(slug: "amazi-plumbing-1") { name parentCategory { slug } hours { day
                          intervals { opens closes } } services { name priceRwf } photos { alt } openNow }
                          b: business(slug: "no-such-shop") { name } }"""
        },
        headers=bearer(key),
    )
    detail = (await client.get("/api/v1/businesses/amazi-plumbing-1", headers=bearer(key))).json()
    data = business.json()["data"]
    assert data["b"] is None
    assert data["a"]["name"] == detail["name"] and data["a"]["photos"] == []
    assert data["a"]["hours"] == detail["hours"] and data["a"]["openNow"] == detail["open_now"]
    assert data["a"]["services"] == [{"name": s["name"], "priceRwf": s["price_rwf"]} for s in detail["services"]]
