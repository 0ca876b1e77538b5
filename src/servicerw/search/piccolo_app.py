from piccolo.conf.apps import AppConfig

from servicerw.search.tables import SearchQuery
from servicerw.settings import ROOT_DIR

APP_CONFIG = AppConfig(
    app_name="search",
    migrations_folder_path=str(ROOT_DIR / "migrations" / "search"),
    table_classes=[SearchQuery],
    migration_dependencies=["servicerw.businesses.piccolo_app"],
    commands=[],
)
