"""Verification, listings without an owner (form and CSV import) and claims: an owner claims an ownerless
listing (proof by a link to the listing's email, else the operator decides); operators approve, reject and
undo; ownership moves, the claimant is told in their language, and every step is audited."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher

from tests.factories import make_business
from tests.helpers import HTML, STRONG, csrf, log_in

HASH = PasswordHasher().hash(STRONG)

pytestmark = pytest.mark.usefixtures("fresh_limits")  # log-in rate limits and claim throttles start from zero

HEADER = (
    "name,category,district,sector,phone,whatsapp,email,website,address,description_en,description_rw,description_fr"
)


async def make_user(db, email: str, role: str = "customer", language: str = "en", name: str = "Aline Uwase") -> int:
    return await db.fetchval(
        """INSERT INTO users (email, full_name, password_hash, role, preferred_language, is_active)
           VALUES ($1, $2, $3, $4, $5, true) RETURNING id""",
        email,
        name,
        HASH,
        role,
        language,
    )


async def as_user(client, email: str, page: str = "/account") -> str:
    """Log in as `email`; returns a CSRF token for the next forms (read from `page`)."""
    client.cookies.clear()
    assert (await log_in(client, email)).status_code == 303
    return await csrf(client, page)


async def as_operator(client, db) -> str:
    await make_user(db, "operator@example.rw", "admin", name="Olivier Operator")
    return await as_user(client, "operator@example.rw", "/admin/listings/new")


async def post(client, path: str, csrf_token: str, /, **data):
    return await client.post(path, data={"_csrf_token": csrf_token, **data}, headers=HTML, follow_redirects=False)


async def audit(db, action: str) -> list:
    return await db.fetch("SELECT * FROM audit_log WHERE action = $1 ORDER BY id", action)


# --- verification ------------------------------------------------------------------------------------


async def test_verify_and_unverify_with_a_note_show_and_remove_the_badge_at_once(client, db):
    shop = await make_business(db, business_name="Gikondo Welders", slug="gikondo-welders")
    token = await as_operator(client, db)
    # Profile and search are cached before the decision: the badge must follow anyway.
    assert "✓ Verified" not in (await client.get("/b/gikondo-welders", headers=HTML)).text
    assert 'title="Verified business"' not in (await client.get("/search?q=gikondo", headers=HTML)).text
    page = await client.get(f"/admin/listings/{shop['id']}/verification", headers=HTML)
    assert page.status_code == 200 and "Verify this listing" in page.text

    no_note = await post(client, f"/admin/listings/{shop['id']}/verification", token, decision="verify", note=" ")
    assert no_note.status_code == 422 and "Write a note" in no_note.text
    assert not await db.fetchval("SELECT is_verified FROM businesses WHERE id = $1", shop["id"])

    done = await post(
        client, f"/admin/listings/{shop['id']}/verification", token, decision="verify", note="RDB certificate seen"
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?done=verify")
    assert "badge shows on its profile" in (await client.get(done.headers["location"], headers=HTML)).text
    assert "✓ Verified" in (await client.get("/b/gikondo-welders", headers=HTML)).text
    assert 'title="Verified business"' in (await client.get("/search?q=gikondo", headers=HTML)).text
    [entry] = await audit(db, "business.verify")
    assert entry["target_id"] == shop["id"] and entry["note"] == "RDB certificate seen"

    done = await post(
        client, f"/admin/listings/{shop['id']}/verification", token, decision="unverify", note="Certificate expired"
    )
    assert done.status_code == 303
    assert "✓ Verified" not in (await client.get("/b/gikondo-welders", headers=HTML)).text
    assert 'title="Verified business"' not in (await client.get("/search?q=gikondo", headers=HTML)).text
    assert (await audit(db, "business.unverify"))[0]["note"] == "Certificate expired"
    history = (await client.get(f"/admin/listings/{shop['id']}/verification", headers=HTML)).text
    assert "RDB certificate seen" in history and "Certificate expired" in history


# --- listings without an owner -----------------------------------------------------------------------


async def new_listing_form(db, **overrides) -> dict:
    category = await db.fetchval("SELECT id FROM categories WHERE slug = 'tailors'")
    sector = await db.fetchrow("SELECT id, province_id, district_id FROM locations WHERE slug = 'kicukiro-niboye'")
    return {
        "business_name": "Niboye Couture",
        "category_id": str(category),
        "province_id": str(sector["province_id"]),
        "district_id": str(sector["district_id"]),
        "sector_id": str(sector["id"]),
        "phone": "0788 555 111",
        "email": "couture@example.rw",
        "description_en": "Made-to-measure clothes.",
        **overrides,
    }


async def test_an_operator_adds_a_listing_without_owner_that_is_public_at_once(client, db):
    token = await as_operator(client, db)
    wrong = await post(client, "/admin/listings/new", token, **await new_listing_form(db, phone="call me"))
    assert wrong.status_code == 422 and "phone number like" in wrong.text
    assert await db.fetchval("SELECT count(*) FROM businesses") == 0

    done = await post(client, "/admin/listings/new", token, **await new_listing_form(db))
    assert done.status_code == 303
    row = await db.fetchrow("SELECT * FROM businesses")
    assert row["owner_id"] is None and row["status"] == "approved" and row["phone"] == "0788555111"
    assert done.headers["location"] == f"/admin/listings/new?listing={row['id']}"
    assert "Listing added and published" in (await client.get(done.headers["location"], headers=HTML)).text
    [entry] = await audit(db, "business.create")
    assert entry["target_id"] == row["id"] and entry["note"] == "added by an operator"

    client.cookies.clear()
    assert "Niboye Couture" in (await client.get("/search?q=niboye", headers=HTML)).text
    profile = (await client.get(f"/b/{row['slug']}", headers=HTML)).text
    assert "Is this your business? Claim it" in profile and f'href="/b/{row["slug"]}/claim"' in profile


async def test_the_add_form_refuses_control_characters_and_impossible_ids(client, db):
    token = await as_operator(client, db)
    nul = await post(client, "/admin/listings/new", token, **await new_listing_form(db, business_name="A\x00B"))
    assert nul.status_code == 400
    huge = await post(client, "/admin/listings/new", token, **await new_listing_form(db, category_id="99999999999"))
    assert huge.status_code == 422 and "Choose what the business does." in huge.text
    assert await db.fetchval("SELECT count(*) FROM businesses") == 0


# --- CSV import --------------------------------------------------------------------------------------


async def upload(client, token: str, content: bytes, name: str = "listings.csv"):
    return await client.post(
        "/admin/listings/import",
        data={"_csrf_token": token},
        files={"file": (name, content, "text/csv")},
        headers=HTML,
        follow_redirects=False,
    )


def rows_of(page: str) -> list[tuple[str, str]]:
    table = page.split('class="row-errors"', 1)[1].split("</table>", 1)[0]
    return [(n, re.sub(r"\s+", " ", m)) for n, m in re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>", table)]


async def test_csv_import_imports_good_rows_and_reports_each_bad_one(client, db):
    await make_business(db, business_name="Existing Garage", category=None)
    token = await as_operator(client, db)
    template = await client.get("/admin/listings/import/template.csv", headers=HTML)
    assert template.status_code == 200 and template.text.startswith(HEADER)
    assert "attachment" in template.headers["content-disposition"]
    content = "\n".join(
        [
            HEADER,
            "Ineza Plumbing,plumbers,Gasabo,Kimironko,+250788123456,,ineza@example.rw,,KG 11 Ave,Pipes.,,",  # 2 ok
            "Bad Category,flying-cars,Gasabo,Kimironko,+250788123456,,,,,Cars.,,",  # 3
            "Bad Phone,plumbers,Gasabo,Kimironko,call me,,,,,Pipes.,,",  # 4
            ",,,,,,,,,,,",  # an empty line: skipped
            'Keza Salon,hair-salons,kicukiro,NIBOYE,0788555111,,,keza.rw,,"Hair, nails.",,',  # 6 ok
            "Ineza Plumbing,plumbers,Gasabo,Kimironko,+250788123456,,,,,Pipes again.,,",  # 7 same as row 2
            "No Description,plumbers,Gasabo,Atlantis,+250788123456,,,,,,,",  # 8 unknown sector
            "Too Many,plumbers,Gasabo,Kimironko,+250788123456,,,,,Pipes.,,,extra",  # 9
            "Café Ubumwe,restaurants,Nyarugenge,Nyamirambo,+250788000222,,,,,,Ibiryo.,Cuisine.",  # 10 ok
        ]
    ).encode()
    response = await upload(client, token, content)
    assert response.status_code == 200
    page = response.text
    assert "3 listings imported" in page and "5 rows not imported" in page
    errors = dict(rows_of(page))
    assert set(errors) == {"3", "4", "7", "8", "9"}
    assert "Unknown category “flying-cars”" in errors["3"]
    assert "phone number like" in errors["4"]
    assert "The same business as row 2." in errors["7"]
    assert "Unknown sector “Atlantis”" in errors["8"]
    assert "has 13 values but the header has 12 columns" in errors["9"]
    names = {r["business_name"]: r for r in await db.fetch("SELECT * FROM businesses WHERE owner_id IS NULL")}
    assert set(names) >= {"Ineza Plumbing", "Keza Salon", "Café Ubumwe"}
    assert not {"Bad Category", "Bad Phone", "No Description", "Too Many"} & set(names)
    assert all(names[n]["status"] == "approved" for n in ("Ineza Plumbing", "Keza Salon", "Café Ubumwe"))
    assert (
        names["Keza Salon"]["description_en"] == "Hair, nails." and names["Keza Salon"]["website"] == "https://keza.rw"
    )
    assert len(await audit(db, "business.create")) == 3
    assert "Ineza Plumbing" in (await client.get("/search?q=ineza", headers=HTML)).text

    again = await upload(client, token, content)  # the same file again: nothing twice
    assert again.status_code == 422 and "0 listings imported" in again.text
    assert "already listed in this place" in dict(rows_of(again.text))["2"]
    assert await db.fetchval("SELECT count(*) FROM businesses WHERE business_name = 'Ineza Plumbing'") == 1


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"", 400, "The file is empty."),
        (HEADER.encode() + b"\n", 400, "has a header but no rows"),
        (HEADER.encode("utf-16"), 400, "NUL bytes"),
        ((HEADER + "\nCaf\xe9,plumbers,Gasabo,Kimironko,0788123456,,,,,x,,\n").encode("latin-1"), 400, "not UTF-8"),
        (b"name,phone\nA,0788123456\n", 400, "missing columns: category, district, sector"),
        (HEADER.encode() + b",colour\n", 400, "unknown columns: colour"),
        (
            b"\n".join(
                [HEADER.encode()] + [b"A%d,plumbers,Gasabo,Kimironko,0788123456,,,,,x,," % i for i in range(2001)]
            ),
            413,
            "more than 2000 rows",
        ),
        (HEADER.encode() + b"\n" + b"x" * (1024 * 1024), 413, "larger than 1 MB"),
    ],
    ids=["empty", "header-only", "utf-16", "latin-1", "missing-columns", "unknown-column", "too-many-rows", "too-big"],
)
async def test_a_csv_that_cannot_be_read_gets_a_clear_error_and_imports_nothing(client, db, content, status, message):
    token = await as_operator(client, db)
    response = await upload(client, token, content)
    assert response.status_code == status and message in response.text and "Nothing was imported." in response.text
    assert await db.fetchval("SELECT count(*) FROM businesses") == 0


async def test_a_row_with_a_nul_or_control_character_is_reported_not_imported(client, db):
    token = await as_operator(client, db)
    content = (
        HEADER + "\nGood One,plumbers,Gasabo,Kimironko,0788123456,,,,,Pipes.,,\nBad\x07One,plumbers,Gasabo,"
        "Kimironko,0788123456,,,,,Pipes.,,\n"
    ).encode()
    response = await upload(client, token, content)
    assert response.status_code == 200 and "control characters" in dict(rows_of(response.text))["3"]
    assert [r["business_name"] for r in await db.fetch("SELECT business_name FROM businesses")] == ["Good One"]
    nothing = await client.post(
        "/admin/listings/import", data={"_csrf_token": token}, headers=HTML, follow_redirects=False
    )
    assert nothing.status_code == 400 and "Choose a CSV file first." in nothing.text


async def test_a_body_over_the_limit_is_refused_with_413(client, db):
    token = await as_operator(client, db)
    response = await upload(client, token, b"x" * (2 * 1024 * 1024))
    assert response.status_code == 413


# --- claims ------------------------------------------------------------------------------------------


async def claim(client, token: str, slug: str, message: str = ""):
    return await post(client, f"/b/{slug}/claim", token, message=message)


async def test_a_claim_by_email_link_then_approved_moves_ownership(client, db):
    shop = await make_business(db, business_name="Kimironko Bakery", slug="kimironko-bakery", email="bake@example.rw")
    claimant = await make_user(db, "jean@example.rw", "customer", "fr", "Jean Habimana")
    client.cookies.clear()
    assert "Claim it" in (await client.get("/b/kimironko-bakery", headers=HTML)).text
    anonymous = await client.get("/b/kimironko-bakery/claim", headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/account/login")

    token = await as_user(client, "jean@example.rw", "/b/kimironko-bakery/claim")
    client.cookies.set("lang", "en")
    page = (await client.get("/b/kimironko-bakery/claim", headers=HTML)).text
    assert "b•••••@example.rw" in page and "bake@example.rw" not in page
    sent = await claim(client, token, "kimironko-bakery")
    assert sent.status_code == 303 and sent.headers["location"] == "/b/kimironko-bakery/claim?done=email"
    assert "We sent a link" in (await client.get(sent.headers["location"], headers=HTML)).text
    row = await db.fetchrow("SELECT * FROM business_claims")
    assert row["status"] == "pending" and row["proof"] == "email" and row["email_verified_at"] is None
    mail = await db.fetchrow("SELECT * FROM email_outbox WHERE kind = 'claim_confirm'")
    assert mail["to_address"] == "bake@example.rw" and "Jean Habimana" in mail["body_text"]
    link = re.search(r"https?://\S+/claims/confirm\?token=(\S+)", mail["body_text"])
    assert link and link.group(1) not in row["token_hash"]  # only a hash is stored

    # The link: GET shows a button and changes nothing (mail scanners open links), POST confirms once.
    client.cookies.clear()
    confirm_page = await client.get(f"/claims/confirm?token={link.group(1)}", headers=HTML)
    assert confirm_page.status_code == 200 and "Confirm the claim" in confirm_page.text
    assert await db.fetchval("SELECT email_verified_at FROM business_claims") is None
    form_token = re.search(r'name="_csrf_token" value="([^"]+)"', confirm_page.text).group(1)
    confirmed = await post(client, "/claims/confirm", form_token, token=link.group(1))
    assert (
        confirmed.status_code == 303
        and "claim is confirmed" in (await client.get(confirmed.headers["location"], headers=HTML)).text
    )
    assert await db.fetchval("SELECT email_verified_at FROM business_claims") is not None
    assert (await post(client, "/claims/confirm", form_token, token=link.group(1))).status_code == 410
    assert (await client.get(f"/claims/confirm?token={link.group(1)}", headers=HTML)).status_code == 410

    token = await as_operator(client, db)
    home = (await client.get("/admin", headers=HTML)).text
    assert "Claims to decide (1)" in home and "/admin/listings/import" in home and "/admin/listings/new" in home
    queue = (await client.get("/admin/claims", headers=HTML)).text
    assert "Kimironko Bakery" in queue and "Jean Habimana" in queue and "Email link confirmed" in queue
    approved = await post(client, f"/admin/claims/{row['id']}/approve", token, note="")
    assert approved.status_code == 303 and approved.headers["location"] == "/admin/claims?status=pending&done=approved"
    business = await db.fetchrow("SELECT owner_id FROM businesses WHERE id = $1", shop["id"])
    assert business["owner_id"] == claimant
    assert await db.fetchval("SELECT role FROM users WHERE id = $1", claimant) == "owner"
    [entry] = await audit(db, "claim.approve")
    assert entry["target_id"] == shop["id"]
    told = await db.fetchrow("SELECT * FROM email_outbox WHERE kind = 'claim_approved'")
    assert told["to_address"] == "jean@example.rw" and told["language"] == "fr"
    assert "Kimironko Bakery" in told["subject"] and "approuvée" in told["subject"]  # in the claimant's language

    await as_user(client, "jean@example.rw")
    assert "Kimironko Bakery" in (await client.get("/dashboard", headers=HTML)).text
    client.cookies.clear()
    assert "Claim it" not in (await client.get("/b/kimironko-bakery", headers=HTML)).text  # no stale cache


async def test_without_email_the_operator_decides_and_a_rejection_tells_the_claimant(client, db):
    await make_business(db, business_name="Remera Tailors", slug="remera-tailors", email="")
    await make_user(db, "grace@example.rw", "customer", "en", "Grace Ingabire")
    token = await as_user(client, "grace@example.rw", "/b/remera-tailors/claim")
    short = await claim(client, token, "remera-tailors", "me")
    assert short.status_code == 422 and "how you are connected" in short.text
    sent = await claim(client, token, "remera-tailors", "I am the owner; call me on 0788 111 222.")
    assert sent.status_code == 303 and sent.headers["location"].endswith("?done=operator")
    assert await db.fetchval("SELECT count(*) FROM email_outbox") == 0
    claim_id = await db.fetchval("SELECT id FROM business_claims WHERE proof = 'operator'")
    again = await claim(client, token, "remera-tailors", "I am the owner, really, believe me.")
    assert again.status_code == 409 and await db.fetchval("SELECT count(*) FROM business_claims") == 1

    token = await as_operator(client, db)
    assert "No email: the operator decides" in (await client.get("/admin/claims", headers=HTML)).text
    no_reason = await post(client, f"/admin/claims/{claim_id}/reject", token, note="")
    assert no_reason.status_code == 422 and "Write the reason" in no_reason.text
    rejected = await post(client, f"/admin/claims/{claim_id}/reject", token, note="The phone number did not answer.")
    assert rejected.status_code == 303
    assert await db.fetchval("SELECT status FROM business_claims") == "rejected"
    assert await db.fetchval("SELECT owner_id FROM businesses") is None
    told = await db.fetchrow("SELECT * FROM email_outbox WHERE kind = 'claim_rejected'")
    assert told["to_address"] == "grace@example.rw" and "The phone number did not answer." in told["body_text"]
    assert (await audit(db, "claim.reject"))[0]["note"] == "The phone number did not answer."
    assert (await post(client, f"/admin/claims/{claim_id}/approve", token)).status_code == 404  # decided already


async def test_undo_gives_the_listing_back_to_its_previous_owner(client, db):
    shop = await make_business(db, business_name="Nyamirambo Garage", slug="nyamirambo-garage", email="")
    await make_user(db, "eric@example.rw", "customer", "rw", "Eric Mugabo")
    token = await as_user(client, "eric@example.rw", "/b/nyamirambo-garage/claim")
    assert (await claim(client, token, "nyamirambo-garage", "I repair cars here since 2015.")).status_code == 303
    claim_id = await db.fetchval("SELECT id FROM business_claims")
    token = await as_operator(client, db)
    assert (await post(client, f"/admin/claims/{claim_id}/approve", token)).status_code == 303
    assert await db.fetchval("SELECT owner_id FROM businesses") is not None
    assert (await post(client, f"/admin/claims/{claim_id}/undo", token, note="")).status_code == 422
    approved_tab = (await client.get("/admin/claims?status=approved", headers=HTML)).text
    assert "Undo: give the listing back" in approved_tab
    undone = await post(client, f"/admin/claims/{claim_id}/undo", token, note="Claimed by mistake.")
    assert undone.status_code == 303
    row = await db.fetchrow("SELECT status, previous_owner_id, undone_at FROM business_claims")
    assert row["status"] == "undone" and row["undone_at"] is not None and row["previous_owner_id"] is None
    assert await db.fetchval("SELECT owner_id FROM businesses WHERE id = $1", shop["id"]) is None
    assert (await audit(db, "claim.undo"))[0]["note"] == "Claimed by mistake."
    told = await db.fetchrow("SELECT * FROM email_outbox WHERE kind = 'claim_undone'")
    assert told["to_address"] == "eric@example.rw" and told["language"] == "rw"
    client.cookies.clear()
    assert "Claim it" in (await client.get("/b/nyamirambo-garage", headers=HTML)).text
    await as_user(client, "eric@example.rw")
    assert "Nyamirambo Garage" not in (await client.get("/dashboard", headers=HTML)).text


async def test_a_listing_with_an_owner_cannot_be_claimed(client, db):
    owner_id = await make_user(db, "owner@example.rw", "owner")
    await make_business(db, business_name="Owned Shop", slug="owned-shop", owner_id=owner_id)
    await make_user(db, "grace@example.rw")
    client.cookies.clear()
    assert "Claim it" not in (await client.get("/b/owned-shop", headers=HTML)).text
    token = await as_user(client, "grace@example.rw")
    page = await client.get("/b/owned-shop/claim", headers=HTML)
    assert page.status_code == 409 and "already has an owner" in page.text
    response = await claim(client, token, "owned-shop", "It is mine, I promise you that.")
    assert response.status_code == 409 and await db.fetchval("SELECT count(*) FROM business_claims") == 0
    assert (await client.get("/b/no-such-shop/claim", headers=HTML)).status_code == 404


async def test_claims_are_throttled_per_account(client, db):
    for n in range(6):
        await make_business(db, business_name=f"Shop {n}", slug=f"shop-{n}", email="")
    await make_user(db, "grace@example.rw")
    token = await as_user(client, "grace@example.rw")
    for n in range(5):
        assert (await claim(client, token, f"shop-{n}", "I run this shop every day.")).status_code == 303
    sixth = await claim(client, token, "shop-5", "I run this shop every day.")
    assert sixth.status_code == 429 and "too many claims" in sixth.text
    assert await db.fetchval("SELECT count(*) FROM business_claims") == 5


# --- who may, and bad input ---------------------------------------------------------------------------

ADMIN_PAGES = ("/admin/claims", "/admin/listings/new", "/admin/listings/import", "/admin/listings/1/verification")


async def test_the_operators_pages_are_404_to_everyone_else(client, db):
    await make_business(db)
    for path in ADMIN_PAGES:
        response = await client.get(path, headers=HTML, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/account/login")
    await make_user(db, "owner@example.rw", "owner")
    token = await as_user(client, "owner@example.rw")
    for path in (*ADMIN_PAGES, "/admin/listings/import/template.csv"):
        assert (await client.get(path, headers=HTML)).status_code == 404, path
    for path, data in (
        ("/admin/listings/1/verification", {"decision": "verify", "note": "x"}),
        ("/admin/claims/1/approve", {}),
        ("/admin/listings/new", await new_listing_form(db)),
    ):
        assert (await post(client, path, token, **data)).status_code == 404, path
    assert not await db.fetchval("SELECT is_verified FROM businesses")
    assert await db.fetchval("SELECT count(*) FROM businesses") == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/admin/listings/2147483648/verification"),
        ("get", "/admin/listings/0/verification"),
        ("get", "/admin/listings/99/verification"),
        ("post", "/admin/listings/2147483648/verification"),
        ("post", "/admin/claims/2147483648/approve"),
        ("post", "/admin/claims/99999999999999999999/reject"),
        ("post", "/admin/claims/7/frobnicate"),
        ("get", "/admin/listings/new?listing=2147483648"),
        ("get", "/admin/claims?page=0"),
    ],
)
async def test_impossible_ids_get_a_clear_4xx(client, db, method, path):
    token = await as_operator(client, db)
    if method == "get":
        response = await client.get(path, headers=HTML)
    else:
        response = await post(client, path, token, decision="verify", note="Checked by phone.")
    assert 400 <= response.status_code < 500, response.status_code


async def test_nul_bytes_in_slugs_tokens_and_notes_get_a_clear_4xx(client, db):
    shop = await make_business(db, slug="keza", email="")
    await make_user(db, "grace@example.rw")
    token = await as_user(client, "grace@example.rw")
    # NUL is refused at the edge (core/security.input_guard), for every route: 400 with its message
    assert (await client.get("/b/ke%00za/claim", headers=HTML)).status_code == 400
    assert (await post(client, "/b/ke%00za/claim", token, message="abc")).status_code == 400
    assert (await claim(client, token, "keza", "I run it\x00 since 2010.")).status_code == 400
    assert (await client.get("/claims/confirm?token=ab%00cd", headers=HTML)).status_code == 400
    assert (await post(client, "/claims/confirm", token, token="ab\x00cd")).status_code == 400
    token = await as_operator(client, db)
    note = await post(client, f"/admin/listings/{shop['id']}/verification", token, decision="verify", note="a\x00b")
    assert note.status_code == 400
    assert await db.fetchval("SELECT count(*) FROM business_claims") == 0


async def test_once_one_claim_is_approved_a_competing_claim_cannot_be(client, db):
    await make_business(db, business_name="Kacyiru Pharmacy", slug="kacyiru-pharmacy", email="")
    for email in ("first@example.rw", "second@example.rw"):
        await make_user(db, email)
        token = await as_user(client, email)
        assert (await claim(client, token, "kacyiru-pharmacy", f"I am {email}, the pharmacist.")).status_code == 303
    first, second = [r["id"] for r in await db.fetch("SELECT id FROM business_claims ORDER BY id")]
    token = await as_operator(client, db)
    queue = (await client.get("/admin/claims", headers=HTML)).text
    assert queue.index("first@example.rw") < queue.index("second@example.rw")  # oldest first
    assert "2 claims to decide" in queue
    assert (await post(client, f"/admin/claims/{first}/approve", token)).status_code == 303
    assert "The listing has an owner now" in (await client.get("/admin/claims", headers=HTML)).text
    refused = await post(client, f"/admin/claims/{second}/approve", token)
    assert refused.status_code == 409 and "reject the claim instead" in refused.text
    owner = await db.fetchval("SELECT owner_id FROM businesses")
    assert owner == await db.fetchval("SELECT id FROM users WHERE email = 'first@example.rw'")


async def test_a_spreadsheet_saved_with_semicolons_and_a_bom_imports_up_to_the_row_limit(client, db):
    token = await as_operator(client, db)
    lines = [HEADER.replace(",", ";")] + [
        f"Shop {n};plumbers;Gasabo;Kimironko;0788{n:06d};;;;;Pipes and tanks.;;" for n in range(2000)
    ]
    response = await upload(client, token, "\ufeff".encode() + "\r\n".join(lines).encode())
    assert response.status_code == 200 and "2000 listings imported" in response.text
    assert await db.fetchval("SELECT count(*) FROM businesses WHERE owner_id IS NULL AND status = 'approved'") == 2000
