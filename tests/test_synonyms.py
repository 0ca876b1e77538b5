"""Words people type: a category's synonyms in Kinyarwanda, English and French (loanwords and misspellings
included) find its businesses and suggest it; suggestions say what each line is quietly; the corrected
query is said once, and not at all when nothing was corrected."""

import html
import re

import pytest

from servicerw.catalog.reference_data import CATEGORIES, SYNONYMS
from servicerw.catalog.services import plain, plain_words
from tests.factories import make_business, sector, sub_category
from tests.helpers import HTML

pytestmark = pytest.mark.usefixtures("fresh_limits")  # Valkey emptied: no cached search of another test

NEUTRAL = {"description_en": "Open every day.", "description_rw": "Dukora buri munsi.", "description_fr": "Ouvert."}


@pytest.fixture
async def shops(db):
    """One business per category of interest, with names and descriptions that never say what they do."""
    made = {
        "mechanics": await make_business(
            db,
            business_name="Kwa Gatete",
            category=await sub_category(db, "mechanics"),
            location=await sector(db, "Nyarugenge", "Nyamirambo"),
            **NEUTRAL,
        ),
        "phone-repair": await make_business(
            db,
            business_name="Ikaze Center",
            category=await sub_category(db, "phone-repair"),
            location=await sector(db, "Kicukiro", "Niboye"),
            **NEUTRAL,
        ),
        "plumbers": await make_business(
            db, business_name="Mugisha Ltd", category=await sub_category(db, "plumbers"), **NEUTRAL
        ),
        "hair-salons": await make_business(
            db, business_name="Chez Aline", category=await sub_category(db, "hair-salons"), **NEUTRAL
        ),
    }
    await db.execute("REFRESH MATERIALIZED VIEW search_words")  # the words typo correction knows
    return made


def names(page: str) -> list[str]:
    return [html.unescape(n) for n in re.findall(r'<span class="name">([^<]+?)(?: <span| ?</span>)', page)]


async def search(client, q: str, lang: str = "en") -> str:
    response = await client.get("/search", params={"q": q}, headers={**HTML, "accept-language": lang})
    assert response.status_code == 200, response.text[:300]
    return response.text


@pytest.mark.parametrize(
    ("q", "wanted"),
    [
        ("mekanik", "Kwa Gatete"),
        ("umukanishi", "Kwa Gatete"),
        ("garage", "Kwa Gatete"),
        ("Garaje", "Kwa Gatete"),
        ("MÉCANICIEN", "Kwa Gatete"),
        ("mecanicien", "Kwa Gatete"),
        ("gusana telefoni", "Ikaze Center"),
        ("Gukora telefoni", "Ikaze Center"),
        ("phone fix", "Ikaze Center"),
        ("réparation téléphone", "Ikaze Center"),
        ("plombier", "Mugisha Ltd"),
        ("umufundi w'amazi", "Mugisha Ltd"),
        ("coiffure", "Chez Aline"),
        ("saloni", "Chez Aline"),
    ],
)
async def test_words_people_type_find_the_categorys_businesses(client, shops, q, wanted):
    found = names(await search(client, q))
    assert wanted in found
    assert len(found) == 1  # only that category's business: "gusana" alone is no phone repair


async def test_a_synonym_combines_with_other_words(client, shops):
    assert names(await search(client, "mekanik nyamirambo")) == ["Kwa Gatete"]
    assert names(await search(client, "mekanik niboye")) == []
    assert names(await search(client, "gusana telefoni niboye", "rw")) == ["Ikaze Center"]
    # Words that are only part of a synonym stay plain words: "telefoni" alone is not "gusana telefoni".
    assert "Kwa Gatete" not in names(await search(client, "gusana"))


async def test_suggestions_offer_the_category_for_a_synonym_being_typed(client, shops):
    for q, lang, label in [
        ("mekan", "en", "Mechanics"),
        ("umukan", "rw", "Abakanishi"),
        ("garaj", "fr", "Mécaniciens"),
        ("gusana telef", "rw", "Gukora telefone"),
        ("plombi", "en", "Plumbers"),
    ]:
        page = (await client.get("/search/suggest", params={"q": q}, headers={**HTML, "accept-language": lang})).text
        assert label in html.unescape(page), (q, page)
    page = (await client.get("/search/suggest", params={"q": "mekan"}, headers=HTML)).text
    assert 'href="/c/mechanics"' in page


async def test_suggestion_lines_say_what_they_are_after_the_name_in_normal_case(client, shops):
    page = (await client.get("/search/suggest", params={"q": "kicu"}, headers={**HTML, "accept-language": "rw"})).text
    line = re.search(r'<a href="/p/kicukiro">(.*?)</a>', page).group(1)
    assert line.index("Kicukiro") < line.index('class="kind"')
    assert '<span class="kind">Akarere</span>' in line  # as translated, never upper-cased by hand
    css = (await client.get("/", headers=HTML)).text
    stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]+\.css)"', css).group(1)
    rules = (await client.get(stylesheet)).text
    assert ".suggestions .kind{margin:0 0 0 auto;font-size:.8rem;color:#58636e;text-transform:none" in rules


async def test_the_correction_is_said_once_and_not_when_nothing_changed(client, shops):
    fixed = await search(client, "Kwa Gatette")
    assert "Kwa Gatete" in names(fixed)
    assert fixed.count("Showing results for") == 1 and "Did you mean" not in fixed
    for q in ("Plumb", "plumb", "Gatete", "garaje"):
        assert "Showing results for" not in await search(client, q), q


async def test_every_category_has_synonyms_in_three_languages_in_the_database(db):
    slugs = [top[0] for top in CATEGORIES] + [sub[0] for top in CATEGORIES for sub in top[5]]
    assert sorted(SYNONYMS) == sorted(slugs)
    rows = await db.fetch(
        """SELECT c.slug, s.lang, s.phrase FROM category_synonyms s JOIN categories c ON c.id = s.category_id"""
    )
    stored = {(r["slug"], r["lang"], r["phrase"]) for r in rows}
    assert stored == {(slug, lang, p) for slug, by in SYNONYMS.items() for lang, ps in by.items() for p in ps}
    for slug, by_lang in SYNONYMS.items():
        assert set(by_lang) == {"rw", "en", "fr"}, slug
        phrases = [p for ps in by_lang.values() for p in ps]
        assert 3 <= len(phrases) <= 13, slug
        assert all(plain_words(p) for p in phrases), slug  # something longer than 2 letters to search
        assert len({plain(p) for p in phrases}) == len(phrases), slug  # no accent-only twins
