from decimal import Decimal

from piccolo.columns import (
    JSONB,
    Boolean,
    DoublePrecision,
    ForeignKey,
    Integer,
    Numeric,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from servicerw.accounts.tables import User
from servicerw.catalog.tables import Category, Location

STATUSES = ("pending", "approved", "rejected", "suspended")


class Business(Table, tablename="businesses"):
    business_name = Varchar(length=160)
    slug = Varchar(length=180, unique=True)
    description_en = Text(default="")
    description_rw = Text(default="")
    description_fr = Text(default="")
    category = ForeignKey(Category, db_column_name="category_id")
    location = ForeignKey(Location, db_column_name="location_id")
    status = Varchar(length=16, default="pending")
    is_active = Boolean(default=True)
    is_featured = Boolean(default=False)
    is_verified = Boolean(default=False)
    phone = Varchar(length=20, default="")
    whatsapp_number = Varchar(length=20, default="")
    email = Varchar(length=254, default="")
    website = Varchar(length=255, default="")
    address = Varchar(length=255, default="")
    latitude = DoublePrecision(null=True, default=None)
    longitude = DoublePrecision(null=True, default=None)
    # {"mon": [["08:00", "12:00"], ["14:00", "18:00"]], ..., "sun": []}  (empty list = closed)
    opening_hours = JSONB(default={})
    # [{"name_en": ..., "name_rw": ..., "name_fr": ..., "price_rwf": 5000}, ...]
    services = JSONB(default=[])
    momo_pay_code = Varchar(length=20, default="")
    average_rating = Numeric(digits=(3, 2), default=Decimal("0"))
    review_count = Integer(default=0)
    owner = ForeignKey(User, null=True, default=None, db_column_name="owner_id")
    # Why an operator rejected or suspended it (shown to the owner); empty otherwise.
    status_reason = Text(default="")
    # Featured until then (None with is_featured: no end date); the featured list ignores a past date.
    featured_until = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    # search_vector (tsvector, kept by a trigger) is added by a raw migration step: Piccolo has no type.


class BusinessImage(Table, tablename="business_images"):
    business = ForeignKey(Business, db_column_name="business_id", index=True)
    storage_key = Varchar(length=120)
    width = Integer(default=0)
    height = Integer(default=0)
    position = Integer(default=0)
    is_cover = Boolean(default=False)
    status = Varchar(length=12, default="pending")
    alt_text = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    variant_bytes = JSONB(default={})  # {"640.webp": bytes, ...}, by the photo worker (data-saver placeholders)


class BusinessChange(Table, tablename="business_changes"):
    """A change an owner made to an approved listing's name, category or place: it waits here for an
    administrator (the public listing keeps its current values until then)."""

    business = ForeignKey(Business, db_column_name="business_id", index=True)
    user = ForeignKey(User, db_column_name="user_id")
    changes = JSONB(default={})
    status = Varchar(length=12, default="pending", index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    reviewed_at = Timestamptz(null=True, default=None)
    reviewed_by = ForeignKey(User, null=True, default=None, db_column_name="reviewed_by")
