"""The typed results that cross domain boundaries and are cached as JSON (cards, profiles) come back from
the cache as the same values. (The import rules are in test_architecture.py.)"""

from __future__ import annotations

import json
from datetime import date

import msgspec

from servicerw.businesses.services import BusinessCard, Picture, Profile, ProfileReview, ServiceOffer


def cached(value, kind):
    """What `core.cache.Cache` does to a value (JSON text in Valkey), then decoded as the services do."""
    return msgspec.convert(json.loads(json.dumps(msgspec.to_builtins(value))), kind)


def test_cards_and_profiles_come_back_from_the_cache_unchanged():
    picture = Picture(alt="Keza Salon", webp="a.webp 320w", jpeg="a.jpg 320w", src="a.jpg")
    card = BusinessCard(
        id=1,
        name="Keza Salon",
        slug="keza-salon",
        rating=4.5,
        review_count=2,
        verified=True,
        category="Salons",
        category_slug="salons",
        place="Kimihurura",
        district="Gasabo",
        picture=picture,
        distance_km=1.2,
    )
    assert cached([card], list[BusinessCard]) == [card]
    profile = Profile(
        id=1,
        name="Keza Salon",
        slug="keza-salon",
        description="",
        verified=False,
        phone="0788123456",
        whatsapp_digits="250788123456",
        whatsapp="+250 788 123 456",
        email="",
        website="",
        address="",
        latitude=-1.95,
        longitude=30.06,
        momo_pay_code="",
        rating=4.5,
        review_count=2,
        category="Salons",
        category_slug="salons",
        parent_category="Beauty",
        parent_category_slug="beauty",
        place="Kimihurura",
        sector=None,
        district="Gasabo",
        district_slug="gasabo",
        province="Kigali",
        province_slug="kigali",
        hours=[("mon", [["08:00", "18:00"]]), ("tue", [])],
        has_hours=True,
        services=[ServiceOffer(name="Haircut", price_rwf=5000), ServiceOffer(name="Advice", price_rwf=None)],
        pictures=[picture],
        reviews=[
            ProfileReview(author="Aline U.", rating=5, body="Great", created_at=date(2026, 12, 1), owner_reply=None)
        ],
        response_minutes=42.0,
    )
    assert cached(profile, Profile) == profile
