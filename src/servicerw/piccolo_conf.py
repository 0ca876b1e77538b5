"""Piccolo configuration: the engine (from DATABASE_URL) and the app registry (one app per domain).

Set PICCOLO_CONF=servicerw.piccolo_conf (the `servicerw` command does it for you).
"""

from piccolo.conf.apps import AppRegistry

from servicerw.core.db import RetryingPostgresEngine
from servicerw.settings import get_settings

_db = get_settings().database

# Extensions (pg_trgm, unaccent) are created by a migration, not on every engine start.
DB = RetryingPostgresEngine(config={"dsn": _db.url or "postgresql://localhost/servicerw"}, extensions=())

APP_REGISTRY = AppRegistry(
    apps=[
        "servicerw.accounts.piccolo_app",
        "servicerw.catalog.piccolo_app",
        "servicerw.businesses.piccolo_app",
        "servicerw.inquiries.piccolo_app",
        "servicerw.reviews.piccolo_app",
        "servicerw.analytics.piccolo_app",
        "servicerw.search.piccolo_app",
        "servicerw.notifications.piccolo_app",
        "servicerw.admin.piccolo_app",
        "servicerw.claims.piccolo_app",
        "servicerw.reports.piccolo_app",
        "servicerw.insights.piccolo_app",
        "servicerw.api.piccolo_app",
    ]
)
