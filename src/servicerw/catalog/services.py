"""Categories and places: read-only reference data."""

from __future__ import annotations

from servicerw.catalog.tables import Category
from servicerw.core.i18n import pick


class CategoryService:
    async def tree(self, lang: str) -> list[dict]:
        """Top categories with their sub-categories, names in `lang`, in display order."""
        rows = await Category.raw(
            "SELECT id, parent_id, slug, icon, name_en, name_rw, name_fr FROM categories "
            "ORDER BY parent_id NULLS FIRST, sort_order"
        )
        tops: dict[int, dict] = {}
        for row in rows:
            item = {
                "id": row["id"],
                "slug": row["slug"],
                "icon": row["icon"],
                "name": pick(lang, row["name_en"], row["name_rw"], row["name_fr"]),
                "children": [],
            }
            if row["parent_id"] is None:
                tops[row["id"]] = item
            elif row["parent_id"] in tops:
                tops[row["parent_id"]]["children"].append(item)
        return list(tops.values())
