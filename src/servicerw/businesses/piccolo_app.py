from piccolo.conf.apps import AppConfig

from servicerw.businesses.tables import Business, BusinessChange, BusinessImage
from servicerw.settings import ROOT_DIR

APP_CONFIG = AppConfig(
    app_name="businesses",
    migrations_folder_path=str(ROOT_DIR / "migrations" / "businesses"),
    table_classes=[Business, BusinessImage, BusinessChange],
    migration_dependencies=["servicerw.accounts.piccolo_app", "servicerw.catalog.piccolo_app"],
    commands=[],
)
