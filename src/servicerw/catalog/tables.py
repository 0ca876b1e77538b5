from piccolo.columns import DoublePrecision, ForeignKey, Integer, Varchar
from piccolo.table import Table

LOCATION_LEVELS = ("province", "district", "sector", "cell")


class Category(Table, tablename="categories"):
    """Two levels: a top category (parent is null) and its sub-categories."""

    parent = ForeignKey("self", null=True, default=None, db_column_name="parent_id")
    slug = Varchar(length=80, unique=True)
    name_en = Varchar(length=120)
    name_rw = Varchar(length=120)
    name_fr = Varchar(length=120)
    icon = Varchar(length=16, default="")
    sort_order = Integer(default=0)


class CategorySynonym(Table, tablename="category_synonyms"):
    """Words people type for a category (rw/en/fr, loanwords, common misspellings), from `reference_data.SYNONYMS`."""

    category = ForeignKey(Category, db_column_name="category_id")
    lang = Varchar(length=2)
    phrase = Varchar(length=80)


class Location(Table, tablename="locations"):
    """Rwanda's official hierarchy: province -> district -> sector -> cell, with official codes."""

    parent = ForeignKey("self", null=True, default=None, db_column_name="parent_id")
    level = Varchar(length=10, index=True)
    code = Varchar(length=12, unique=True)
    name = Varchar(length=80)  # English for provinces; districts, sectors and cells are proper names
    # Province names in Kinyarwanda and French; null where the name is the same in every language.
    name_rw = Varchar(length=80, null=True, default=None)
    name_fr = Varchar(length=80, null=True, default=None)
    slug = Varchar(length=160, unique=True)
    # Denormalised ancestors, so browsing and facets need no recursive queries.
    province_id = Integer(null=True, default=None)
    district_id = Integer(null=True, default=None, index=True)
    sector_id = Integer(null=True, default=None)
    # Approximate centre; districts have their own, lower levels inherit the district's.
    latitude = DoublePrecision(null=True, default=None)
    longitude = DoublePrecision(null=True, default=None)
