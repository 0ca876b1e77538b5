"""The search parameters of `/search`, parsed for the API (REST and GraphQL): ValueError for bad input."""

from __future__ import annotations

import re

from servicerw.search.services import DEFAULT_RADIUS_KM, MAX_QUERY_LENGTH, MAX_RADIUS_KM, SORTS, SearchParams

MAX_API_PAGE = 10_000_000  # a bound for the integer, not for paging: 200 million results deep
FLAGS = ("", "0", "1", "true", "false", "on", "off", "yes", "no")
# "latitude,longitude" in decimal degrees, on the map (the same rule in the OpenAPI document and here).
_LAT = r"-?(?:90(?:\.0+)?|[1-8]?[0-9](?:\.[0-9]+)?)"
_LNG = r"-?(?:180(?:\.0+)?|(?:1[0-7][0-9]|[1-9]?[0-9])(?:\.[0-9]+)?)"
NEAR_PATTERN = f"^(?:{_LAT},{_LNG})?$"  # empty: not near anywhere
_NEAR = re.compile(NEAR_PATTERN)


def flag(name: str, value: str) -> bool:
    if value in ("", "0", "false", "off", "no"):
        return False
    if value in ("1", "true", "on", "yes"):
        return True
    raise ValueError(f"{name} must be 1/true/on/yes or 0/false/off/no")


def near_point(value: str) -> tuple[float, float] | None:
    if not value:
        return None
    if not _NEAR.fullmatch(value):
        raise ValueError("near must be 'latitude,longitude' in decimal degrees, on the map")
    lat_s, lng_s = value.split(",", 1)
    return (float(lat_s), float(lng_s))


def search_params(
    *,
    q: str = "",
    category: str = "",
    province: str = "",
    district: str = "",
    sector: str = "",
    min_rating: float = 0.0,
    verified: bool = False,
    open_now: bool = False,
    near: tuple[float, float] | None = None,
    radius_km: float = DEFAULT_RADIUS_KM,
    sort: str = "relevance",
    page: int = 1,
) -> SearchParams:
    if len(q) > MAX_QUERY_LENGTH:
        raise ValueError(f"q is longer than {MAX_QUERY_LENGTH} characters")
    if any(len(v) > 160 for v in (category, province, district, sector)):
        raise ValueError("a filter is longer than 160 characters")
    if not 0 <= min_rating <= 5:
        raise ValueError("min_rating must be between 0 and 5")
    if not 0.5 <= radius_km <= MAX_RADIUS_KM:
        raise ValueError(f"radius_km must be between 0.5 and {MAX_RADIUS_KM:g}")
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}")
    if not 1 <= page <= MAX_API_PAGE:
        raise ValueError("page must be 1 or more")
    return SearchParams(
        q=q.strip(),
        category=category,
        province=province,
        district=district,
        sector=sector,
        min_rating=min_rating,
        verified=verified,
        open_now=open_now,
        near=near,
        radius_km=radius_km,
        sort=sort if (sort != "distance" or near) else "relevance",
        page=page,
    )
