"""Retention for business_analytics: servicerw_detach_analytics_partitions(retention_months) detaches
the monthly partitions that end before the first day of (this month - retention_months) and returns
their names. Detached partitions stay as ordinary tables (the operator archives or drops them); the
business_analytics table no longer shows their rows. Run under the upkeep's advisory lock
(`servicerw partitions`, the partitions worker)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core.migrations import run_statements

ID = "2026-12-01T14:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "detach analytics partitions past the retention"

DETACH = """
CREATE OR REPLACE FUNCTION servicerw_detach_analytics_partitions(retention_months int)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    keep_from date;
    part text;
BEGIN
    IF retention_months IS NULL OR retention_months < 1 THEN
        RAISE EXCEPTION 'retention_months must be at least 1, got %', retention_months;
    END IF;
    keep_from := (date_trunc('month', current_date) - make_interval(months => retention_months))::date;
    FOR part IN
        SELECT c.relname
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'business_analytics'::regclass
          AND c.relname ~ '^business_analytics_[0-9]{4}_[0-9]{2}$'
          AND to_date(right(c.relname, 7), 'YYYY_MM') < keep_from
        ORDER BY c.relname
    LOOP
        EXECUTE format('ALTER TABLE business_analytics DETACH PARTITION %I', part);
        RETURN NEXT part;
    END LOOP;
END
$$
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="analytics", description=DESCRIPTION)

    async def add():
        await run_statements(DETACH)

    async def remove():
        await run_statements("DROP FUNCTION IF EXISTS servicerw_detach_analytics_partitions(int)")

    manager.add_raw(add)
    manager.add_raw_backwards(remove)
    return manager
