"""Small server-drawn SVG charts: no chart library, no JavaScript, a few hundred bytes each.

A chart is one daily series drawn as a line over a light area, in a 320x116 viewBox that scales to the
width of its box (phones included). Coordinates are integers; the line is one path of relative moves
(`l3-5 4 2 …`) and the area repeats it (the compressed page pays for it once). Presentation attributes
only (no inline style: the CSP forbids it). The chart has a <title> and <desc> (role="img"); texts are
escaped; dates are formatted for the page's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache

from babel.dates import format_skeleton
from babel.numbers import format_decimal
from markupsafe import Markup, escape

from servicerw.core import i18n

WIDTH, HEIGHT = 320, 116
LEFT, RIGHT = 2, WIDTH - 2  # the line's first and last x (a 2-unit stroke stays inside the box)
TOP, BASE = 16, 96  # y of the top grid line (the scale's maximum) and of the baseline (zero)
LABEL_Y = 112
LINE = "#0a4d8c"
AREA = "#dce7f2"
GRID = "#d5dbe1"
TEXT = "#58636e"


@lru_cache(maxsize=4096)
def format_int(value: int, lang: str) -> str:
    return format_decimal(value, format="#,##0", locale=i18n.babel_locale(lang))


@lru_cache(maxsize=4096)
def format_day(day: date, lang: str, skeleton: str = "MMMd") -> str:
    """A date for this language (Babel/CLDR skeletons: "MMMd" = 5 Nov / 5 nov. / 5 Ugu.)."""
    return format_skeleton(skeleton, day, locale=i18n.babel_locale(lang))


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 3, 4, 5, 6, 8 × 10ⁿ at or above value (at least 1): a round scale maximum."""
    if value <= 1:
        return 1
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 3, 4, 5, 6, 8, 10):
        if step * magnitude >= value:
            return step * magnitude
    raise AssertionError("unreachable")


def points(values: Sequence[int], top: int) -> list[tuple[int, int]]:
    """Integer (x, y) of each value: x spread over [LEFT, RIGHT], y from BASE (0) up to TOP (`top`)."""
    n = len(values)
    span = RIGHT - LEFT
    height = BASE - TOP
    return [
        (LEFT + round(i * span / (n - 1)) if n > 1 else LEFT + span // 2, BASE - round(v * height / top))
        for i, v in enumerate(values)
    ]


def line_path(coords: Sequence[tuple[int, int]]) -> str:
    """`M x y` then relative line moves, the `l` written once (later pairs repeat it implicitly)."""
    x0, y0 = coords[0]
    parts = [f"M{x0} {y0}"]
    previous_x, previous_y = x0, y0
    pairs = []
    for x, y in coords[1:]:
        dx, dy = x - previous_x, y - previous_y
        pairs.append(f"{dx}{dy}" if dy < 0 else f"{dx} {dy}")
        previous_x, previous_y = x, y
    if pairs:
        parts.append("l" + " ".join(pairs))
    return "".join(parts)


def line_chart(
    values: Sequence[int],
    dates: Sequence[date],
    *,
    chart_id: str,
    title: str,
    description: str,
    lang: str,
) -> Markup:
    """One series per day as an accessible inline SVG. `chart_id` must be unique in the page ([a-z0-9-])."""
    if not values or len(values) != len(dates):
        raise ValueError("one value per date, at least one")
    top = nice_ceiling(max(values))
    coords = points(values, top)
    line = line_path(coords)
    middle = len(values) // 2
    labels = (
        (0, "", dates[0]),
        (coords[middle][0], ' text-anchor="middle"', dates[middle]),
        (WIDTH, ' text-anchor="end"', dates[-1]),
    )
    ticks = "".join(
        f'<text x="{x}" y="{LABEL_Y}"{anchor}>{escape(format_day(day, lang))}</text>' for x, anchor, day in labels
    )
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d"'
        f' font-size="11" fill="{TEXT}">'
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(description)}</desc>'
        f'<path d="M0 {TOP}H{WIDTH}M0 {BASE}H{WIDTH}" stroke="{GRID}"/>'
        f'<text x="0" y="{TOP - 4}">{escape(format_int(top, lang))}</text>'
        f'<path d="{line}V{BASE}H{coords[0][0]}z" fill="{AREA}"/>'
        f'<path d="{line}" fill="none" stroke="{LINE}" stroke-width="2" stroke-linejoin="round"/>'
        f"{ticks}</svg>"
    )
