"""EXPLAIN ANALYZE of the plan's hot queries on DATABASE_URL (run it on the full seed volume).

Prints, for each query, the indexes its plan uses and the execution time.
"""

from __future__ import annotations

import asyncio
import os
import re

import asyncpg

QUERIES = {
    "featured (home)": "SELECT id FROM businesses WHERE status = 'approved' AND is_active AND is_featured "
    "ORDER BY created_at DESC LIMIT 8",
    "location + category": "SELECT id, business_name FROM businesses WHERE status = 'approved' "
    "AND location_id = (SELECT id FROM locations WHERE slug = 'gasabo-kimironko') "
    "AND category_id = (SELECT id FROM categories WHERE slug = 'plumbers')",
    "full-text (plan)": "SELECT id FROM businesses WHERE status = 'approved' AND is_active "
    "AND search_vector @@ to_tsquery('simple', 'salon:*')",
    "trigram name (plan)": "SELECT id FROM businesses WHERE status = 'approved' AND is_active "
    "AND servicerw_unaccent(business_name) % 'Urumiri Garaje'",
    "inquiries inbox": "SELECT id, status, created_at FROM customer_inquiries WHERE business_id = 42 "
    "AND status = 'new' ORDER BY created_at DESC LIMIT 20",
    "inbox page (all)": "SELECT id, left(message, 140), status, created_at FROM customer_inquiries "
    "WHERE business_id = 42 AND status = ANY('{new,read,replied,closed}'::varchar[]) "
    "ORDER BY created_at DESC, id DESC LIMIT 21 OFFSET 0",
    "inbox counts": "SELECT status, count(*) FROM customer_inquiries WHERE business_id = 42 GROUP BY status",
    "unread (dashboard)": "SELECT business_id, count(*) FROM customer_inquiries "
    "WHERE business_id = ANY('{42,43,44}'::int[]) AND status = 'new' GROUP BY business_id",
    "median response time": "SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY replied_at - created_at) "
    "FROM customer_inquiries WHERE business_id = 42 AND created_at >= now() - interval '90 days' "
    "AND replied_at IS NOT NULL",
    "newest reviews (profile)": "SELECT id, rating, body FROM reviews WHERE business_id = 42 AND status = 'approved' "
    "ORDER BY created_at DESC LIMIT 5",
    "moderation queue": "SELECT id FROM reviews WHERE status = 'pending' ORDER BY created_at, id LIMIT 21",
    "rating recompute": "SELECT coalesce(round(avg(rating), 2), 0), count(*) FROM reviews "
    "WHERE business_id = 42 AND status = 'approved'",
    "review breakdown": "SELECT rating, count(*) FROM reviews WHERE business_id = 42 AND status = 'approved' "
    "GROUP BY rating",
    "analytics 90 days": "SELECT date, event_type, count(*) FROM business_analytics WHERE business_id = 42 "
    "AND date >= current_date - 90 GROUP BY date, event_type",
    "search (business_search)": "SELECT business_id FROM business_search WHERE search_vector @@ "
    "(to_tsquery('simple', 'plumb:* & kicukiro:*') || to_tsquery('english', 'plumb:* & kicukiro:*'))",
}


async def main() -> None:
    conn = await asyncpg.connect(os.environ["DATABASE_URL"], server_settings={"jit": "off"})
    try:
        for name, sql in QUERIES.items():
            plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql))
            indexes = sorted(
                set(re.findall(r"(?:Index|Index Only|Bitmap Index) Scan (?:Backward )?(?:using|on) (\w+)", plan))
            )
            took = re.search(r"Execution Time: ([\d.]+) ms", plan).group(1)
            print(f"{name:26s} {took:>8s} ms  indexes: {', '.join(indexes) or 'none (seq scan)'}")
            if os.environ.get("VERBOSE"):
                print(plan, "\n")
    finally:
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
