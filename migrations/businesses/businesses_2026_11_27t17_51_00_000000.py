"""Business search vectors kept by a trigger: the full weighted vector (name, category, place, three
descriptions; unaccented) for matching, and a small title vector for ranking. Integrity checks."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core.migrations import run_statements

ID = "2026-11-27T17:51:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "search vector trigger and checks"

# Weights: A = name, B = category (en/rw/fr), C = place (cell, sector, district, province), D = descriptions.
# English gets stemming; Kinyarwanda and French go through `simple` after unaccent.
TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION businesses_search_vector_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    category_text text;
    place_text text;
BEGIN
    SELECT concat_ws(' ', c.name_en, c.name_rw, c.name_fr, p.name_en, p.name_rw, p.name_fr)
      INTO category_text
      FROM categories c LEFT JOIN categories p ON p.id = c.parent_id
     WHERE c.id = NEW.category_id;
    SELECT concat_ws(' ', l.name, s.name, d.name, pr.name)
      INTO place_text
      FROM locations l
      LEFT JOIN locations s ON s.id = l.sector_id AND s.id <> l.id
      LEFT JOIN locations d ON d.id = l.district_id AND d.id <> l.id
      LEFT JOIN locations pr ON pr.id = l.province_id AND pr.id <> l.id
     WHERE l.id = NEW.location_id;
    -- A small vector of the "title" fields only, for ranking without reading (detoasting) the large one.
    NEW.search_title :=
        setweight(to_tsvector('simple', servicerw_unaccent(coalesce(NEW.business_name, ''))), 'A') ||
        setweight(to_tsvector('english', coalesce(NEW.business_name, '')), 'A') ||
        setweight(to_tsvector('simple', servicerw_unaccent(coalesce(category_text, ''))), 'B') ||
        setweight(to_tsvector('english', coalesce(category_text, '')), 'B') ||
        setweight(to_tsvector('simple', servicerw_unaccent(coalesce(place_text, ''))), 'C');
    NEW.search_vector :=
        setweight(to_tsvector('simple', servicerw_unaccent(coalesce(NEW.business_name, ''))), 'A') ||
        setweight(to_tsvector('english', coalesce(NEW.business_name, '')), 'A') ||
        setweight(to_tsvector('simple', servicerw_unaccent(coalesce(category_text, ''))), 'B') ||
        setweight(to_tsvector('english', coalesce(category_text, '')), 'B') ||
        setweight(to_tsvector('simple', servicerw_unaccent(coalesce(place_text, ''))), 'C') ||
        setweight(to_tsvector('english', coalesce(NEW.description_en, '')), 'D') ||
        setweight(to_tsvector('simple', servicerw_unaccent(coalesce(NEW.description_rw, ''))), 'D') ||
        setweight(to_tsvector('simple', servicerw_unaccent(coalesce(NEW.description_fr, ''))), 'D');
    RETURN NEW;
END
$$
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="businesses", description=DESCRIPTION)

    async def add():
        await run_statements(
            "ALTER TABLE businesses ADD COLUMN IF NOT EXISTS search_vector tsvector",
            "ALTER TABLE businesses ADD COLUMN IF NOT EXISTS search_title tsvector",
            TRIGGER_FUNCTION,
            """CREATE TRIGGER businesses_search_vector_trigger
               BEFORE INSERT OR UPDATE OF business_name, description_en, description_rw, description_fr,
                                          category_id, location_id
               ON businesses FOR EACH ROW EXECUTE FUNCTION businesses_search_vector_update()""",
            """ALTER TABLE businesses ADD CONSTRAINT businesses_status_check
               CHECK (status IN ('pending', 'approved', 'rejected', 'suspended'))""",
            """ALTER TABLE businesses ADD CONSTRAINT businesses_rating_check
               CHECK (average_rating >= 0 AND average_rating <= 5 AND review_count >= 0)""",
            """ALTER TABLE business_images ADD CONSTRAINT business_images_status_check
               CHECK (status IN ('pending', 'ready', 'failed'))""",
        )

    async def remove():
        await run_statements(
            "ALTER TABLE business_images DROP CONSTRAINT IF EXISTS business_images_status_check",
            "ALTER TABLE businesses DROP CONSTRAINT IF EXISTS businesses_rating_check",
            "ALTER TABLE businesses DROP CONSTRAINT IF EXISTS businesses_status_check",
            "DROP TRIGGER IF EXISTS businesses_search_vector_trigger ON businesses",
            "DROP FUNCTION IF EXISTS businesses_search_vector_update()",
            "ALTER TABLE businesses DROP COLUMN IF EXISTS search_title",
            "ALTER TABLE businesses DROP COLUMN IF EXISTS search_vector",
        )

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
