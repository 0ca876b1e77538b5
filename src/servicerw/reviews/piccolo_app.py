from piccolo.conf.apps import AppConfig

from servicerw.reviews.tables import Review
from servicerw.settings import ROOT_DIR

APP_CONFIG = AppConfig(
    app_name="reviews",
    migrations_folder_path=str(ROOT_DIR / "migrations" / "reviews"),
    table_classes=[Review],
    migration_dependencies=["servicerw.businesses.piccolo_app", "servicerw.accounts.piccolo_app"],
    commands=[],
)
