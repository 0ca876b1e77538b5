from piccolo.conf.apps import AppConfig

from servicerw.api.tables import ApiKey
from servicerw.settings import ROOT_DIR

APP_CONFIG = AppConfig(
    app_name="api",
    migrations_folder_path=str(ROOT_DIR / "migrations" / "api"),
    table_classes=[ApiKey],
    migration_dependencies=["servicerw.accounts.piccolo_app"],
    commands=[],
)
