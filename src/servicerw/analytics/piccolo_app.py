from piccolo.conf.apps import AppConfig

from servicerw.analytics.tables import BusinessAnalytics
from servicerw.settings import ROOT_DIR

APP_CONFIG = AppConfig(
    app_name="analytics",
    migrations_folder_path=str(ROOT_DIR / "migrations" / "analytics"),
    table_classes=[BusinessAnalytics],
    migration_dependencies=["servicerw.businesses.piccolo_app"],
    commands=[],
)
