from piccolo.conf.apps import AppConfig

from servicerw.insights.tables import DailyCount, RolledDay, SearchDay, SearchMonth
from servicerw.settings import ROOT_DIR

APP_CONFIG = AppConfig(
    app_name="insights",
    migrations_folder_path=str(ROOT_DIR / "migrations" / "insights"),
    table_classes=[DailyCount, SearchDay, SearchMonth, RolledDay],
    migration_dependencies=[
        "servicerw.analytics.piccolo_app",
        "servicerw.search.piccolo_app",
        "servicerw.inquiries.piccolo_app",
        "servicerw.reviews.piccolo_app",
    ],
    commands=[],
)
