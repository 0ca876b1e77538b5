from piccolo.conf.apps import AppConfig

from servicerw.reports.tables import Report
from servicerw.settings import ROOT_DIR

APP_CONFIG = AppConfig(
    app_name="reports",
    migrations_folder_path=str(ROOT_DIR / "migrations" / "reports"),
    table_classes=[Report],
    migration_dependencies=[
        "servicerw.accounts.piccolo_app",
        "servicerw.businesses.piccolo_app",
        "servicerw.reviews.piccolo_app",
    ],
    commands=[],
)
