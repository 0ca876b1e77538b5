"""business_analytics becomes a table PARTITIONED BY RANGE (date), one partition a month.

Piccolo cannot declare partitioned tables, so the plain table its previous migration made (which keeps
Piccolo's own migration state right) is replaced by a partitioned one with the same columns. The primary
key must include the partition key: (id, date). Partitions are created ahead of time by
servicerw_ensure_analytics_partitions(), which `servicerw migrate` also calls, and a DEFAULT partition
catches strays so no insert ever fails; rows parked there move into their month when it is created.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from servicerw.core.migrations import run_statements

ID = "2026-11-27T17:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "partition business_analytics by month"

COLUMNS = """
    id bigserial NOT NULL,
    business_id integer NOT NULL REFERENCES businesses (id) ON DELETE CASCADE,
    date date NOT NULL,
    event_type varchar(24) NOT NULL DEFAULT '',
    source varchar(24) NOT NULL DEFAULT '',
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
"""

ENSURE_PARTITIONS = """
CREATE OR REPLACE FUNCTION servicerw_ensure_analytics_partitions(months_back int, months_ahead int)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    first_month date := date_trunc('month', current_date)::date - make_interval(months => months_back);
    month_start date;
    month_end date;
    part text;
    created int := 0;
BEGIN
    FOR i IN 0 .. months_back + months_ahead LOOP
        month_start := (first_month + make_interval(months => i))::date;
        month_end := (month_start + interval '1 month')::date;
        part := format('business_analytics_%s', to_char(month_start, 'YYYY_MM'));
        CONTINUE WHEN to_regclass(part) IS NOT NULL;
        EXECUTE format('CREATE TABLE %I (LIKE business_analytics INCLUDING DEFAULTS)', part);
        -- Rows that landed in the default partition for this month move into the new partition first,
        -- otherwise ATTACH would refuse.
        EXECUTE format(
            'WITH moved AS (DELETE FROM business_analytics_default WHERE date >= %L AND date < %L RETURNING *)
             INSERT INTO %I SELECT * FROM moved', month_start, month_end, part);
        EXECUTE format('ALTER TABLE business_analytics ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                       part, month_start, month_end);
        created := created + 1;
    END LOOP;
    RETURN created;
END
$$
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="analytics", description=DESCRIPTION)

    async def partition():
        await run_statements(
            "DROP TABLE business_analytics",
            f"CREATE TABLE business_analytics ({COLUMNS}, PRIMARY KEY (id, date)) PARTITION BY RANGE (date)",
            "CREATE TABLE business_analytics_default PARTITION OF business_analytics DEFAULT",
            # An index on a partitioned parent cannot be built CONCURRENTLY; the table is new and empty
            # here, so a plain build is instant. Each partition gets its copy automatically.
            """CREATE INDEX idx_business_analytics_aggregation
               ON business_analytics (business_id, date, event_type)""",
            ENSURE_PARTITIONS,
            "SELECT servicerw_ensure_analytics_partitions(12, 12)",
        )

    async def unpartition():
        await run_statements(
            "DROP TABLE business_analytics CASCADE",
            "DROP FUNCTION IF EXISTS servicerw_ensure_analytics_partitions(int, int)",
            f"CREATE TABLE business_analytics ({COLUMNS.replace('NOT NULL,', 'NOT NULL PRIMARY KEY,', 1)})",
        )

    manager.add_raw(partition)
    manager.add_raw_backwards(unpartition)
    return manager
