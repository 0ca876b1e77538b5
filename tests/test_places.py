"""Places in the visitor's language (provinces differ; districts, sectors and cells are proper names) on
browse pages, facets, profiles, suggestions, the listing form's selects and the API; cell names as people
write them ("Rukiri II", not "Rukiriii"); slugs that keep answering."""

import html
import json
from importlib import resources

import pytest

from servicerw.catalog.loader import location_rows, place_name, slugify, sync_locations
from tests.factories import make_business, sector, sub_category
from tests.helpers import HTML, owner

pytestmark = pytest.mark.usefixtures("fresh_limits")  # Valkey emptied: no cached search of another test

EAST = {"en": "Eastern Province", "rw": "Intara y'Iburasirazuba", "fr": "Province de l'Est"}
KIGALI = {"en": "Kigali City", "rw": "Umujyi wa Kigali", "fr": "Ville de Kigali"}

# rwalocation's spelling -> the name shown (str.title() made "Rukirii", "Rukiriii", "Rangoa", "Nyamatayumujyi").
CELLS = {
    "RukiriI": "Rukiri I",
    "RukiriIi": "Rukiri II",
    "KabugaI": "Kabuga I",
    "KabugaIi": "Kabuga II",
    "KabuguruI": "Kabuguru I",
    "KabuguruIi": "Kabuguru II",
    "MunaniraI": "Munanira I",
    "MunaniraIi": "Munanira II",
    "NyakabandaI": "Nyakabanda I",
    "NyakabandaIi": "Nyakabanda II",
    "RugaramaI": "Rugarama I",
    "RugaramaIi": "Rugarama II",
    "RukomoIi": "Rukomo II",
    "RwezamenyoI": "Rwezamenyo I",
    "RwezamenyoIi": "Rwezamenyo II",
    "RangoA": "Rango A",
    "RangoB": "Rango B",
    "NyamataYUmujyi": "Nyamata y'Umujyi",
    "Congo-nil": "Congo-Nil",
    "BUREGA": "Burega",
    "Akabahizi": "Akabahizi",
    "NyabizizIii": "Nyabiziz III",
    "NgomaIV": "Ngoma IV",
}


async def get(client, path: str, lang: str, **params) -> str:
    response = await client.get(path, params=params, headers={**HTML, "accept-language": lang})
    assert response.status_code == 200, (path, response.status_code)
    return html.unescape(response.text)


@pytest.fixture
async def eastern(db):
    shop = await make_business(
        db,
        business_name="Rwamagana Fresh Bakery",
        slug="rwamagana-fresh-bakery",
        category=await sub_category(db, "bakeries"),
        location=await sector(db, "Rwamagana", "Kigabiro"),
    )
    return shop


@pytest.mark.parametrize("lang", ["en", "rw", "fr"])
async def test_browse_pages_name_provinces_in_the_visitors_language(client, eastern, lang):
    page = await get(client, "/p/eastern-province", lang)
    assert f"<h1>{EAST[lang]}</h1>" in page and f"<title>{EAST[lang]} · ServiceRW</title>" in page
    assert 'href="/p/rwamagana"' in page and "Rwamagana Fresh Bakery" in page
    district = await get(client, "/p/gasabo", lang)  # the crumb up to the province
    assert f'href="/p/kigali-city">{KIGALI[lang]}</a>' in district
    for other in {"en", "rw", "fr"} - {lang}:
        assert EAST[other] not in page


@pytest.mark.parametrize("lang", ["en", "rw", "fr"])
async def test_profiles_and_home_name_the_province_in_the_visitors_language(client, eastern, lang):
    profile = await get(client, "/b/rwamagana-fresh-bakery", lang)
    assert f'<a href="/p/eastern-province">{EAST[lang]}</a>' in profile
    home = await get(client, "/", lang)
    assert f'href="/p/kigali-city">{KIGALI[lang]}</a>' in home


async def test_search_facets_and_cards_keep_proper_names_and_provinces_are_searchable_in_rw_and_fr(client, eastern):
    for q, lang in [("iburasirazuba bakery", "rw"), ("intara y'iburasirazuba", "rw"), ("province de l'est", "fr")]:
        page = await get(client, "/search", lang, q=q)
        assert "Rwamagana Fresh Bakery" in page, q
    page = await get(client, "/search", "fr", q="rwamagana fresh")
    assert "Rwamagana Fresh Bakery" in page and "Kigabiro" in page and "Rwamagana" in page


async def test_suggestions_find_provinces_by_any_of_their_names_and_show_the_visitors(client, eastern):
    page = await get(client, "/search/suggest", "rw", q="iburasira")
    assert f'<a href="/p/eastern-province"><span>{EAST["rw"]}</span>' in page
    page = await get(client, "/search/suggest", "fr", q="eastern")
    assert f"<span>{EAST['fr']}</span>" in page
    page = await get(client, "/search/suggest", "en", q="umujyi")
    assert f"<span>{KIGALI['en']}</span>" in page


async def test_listing_form_selects_and_the_api_name_provinces_in_the_visitors_language(client, db):
    await owner(client, "aline@example.rw")
    page = await get(client, "/dashboard/places", "rw")
    assert f">{EAST['rw']}</option>" in page and f">{KIGALI['rw']}</option>" in page
    api = await client.get("/api/v1/places", headers={"accept": "application/json", "accept-language": "fr"})
    provinces = {p["slug"]: p["name"] for p in api.json()["items"]}
    assert provinces["eastern-province"] == EAST["fr"] and provinces["kigali-city"] == KIGALI["fr"]


@pytest.mark.parametrize(("raw", "shown"), CELLS.items())
def test_rwalocation_spellings_become_the_names_people_write(raw, shown):
    assert place_name(raw) == shown


async def test_every_cell_is_spelled_as_people_write_it_and_browse_slugs_never_changed(db, client):
    rows = {r["code"]: r for r in await db.fetch("SELECT code, level, name, slug FROM locations")}
    cells = {r["name"] for r in rows.values() if r["level"] == "cell"}
    assert {"Rukiri I", "Rukiri II", "Rango A", "Nyamata y'Umujyi"} <= cells
    assert not {"Rukirii", "Rukiriii", "Rangoa", "Nyamatayumujyi"} & cells
    # The raw data, glued: every cell with a numeral or letter suffix was split.
    data = json.loads(resources.files("rwalocation").joinpath("data.json").read_text(encoding="utf-8"))
    for r in data:
        assert rows[str(r["cell_code"])]["name"] == place_name(r["cell_name"])
    # Provinces, districts and sectors keep the slugs of their first load (existing URLs keep working).
    for r in data:
        district, sector_name = r["district_name"].strip().title(), r["sector_name"].strip().title()
        assert rows[str(r["district_code"])]["slug"] == slugify(district)
        assert rows[str(r["sector_code"])]["slug"] == slugify(f"{district}-{sector_name}")
    for slug in ("kigali-city", "eastern-province", "southern-province", "gasabo", "kicukiro-niboye"):
        assert (await client.get(f"/p/{slug}", headers=HTML)).status_code == 200


async def test_the_data_migration_fixes_an_existing_database_and_the_businesses_found_there(db):
    rukiri = await db.fetchrow("SELECT * FROM locations WHERE level = 'cell' AND name = 'Rukiri II'")
    async with db.transaction():  # the reference data ends as it was: the sync puts it right
        # The database as the first load left it.
        await db.execute(
            "UPDATE locations SET name = 'Rukiriii', slug = 'gasabo-remera-rukiriii' WHERE id = $1", rukiri["id"]
        )
        await db.execute("UPDATE locations SET name_rw = NULL, name_fr = NULL")
        shop = await make_business(db, business_name="Remera Prints", location=dict(rukiri))
        found = "SELECT search_vector @@ $2::tsquery FROM business_search WHERE business_id = $1"
        assert await db.fetchval(found, shop["id"], "rukiriii")
        assert await sync_locations(db) == [rukiri["id"]]
        after = await db.fetchrow("SELECT name, slug FROM locations WHERE id = $1", rukiri["id"])
        assert tuple(after) == ("Rukiri II", "gasabo-remera-rukiri-ii")
        east = await db.fetchrow("SELECT name, name_rw, name_fr FROM locations WHERE slug = 'eastern-province'")
        assert tuple(east) == (EAST["en"], EAST["rw"], EAST["fr"])
        assert await db.fetchval(found, shop["id"], "rukiri & ii")
        assert await sync_locations(db) == []  # idempotent
    assert len(location_rows()) == await db.fetchval("SELECT count(*) FROM locations")
