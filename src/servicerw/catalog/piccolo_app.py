from piccolo.conf.apps import AppConfig

from servicerw.catalog.tables import Category, CategorySynonym, Location
from servicerw.settings import ROOT_DIR

APP_CONFIG = AppConfig(
    app_name="catalog",
    migrations_folder_path=str(ROOT_DIR / "migrations" / "catalog"),
    table_classes=[Category, CategorySynonym, Location],
    migration_dependencies=[],
    commands=[],
)
