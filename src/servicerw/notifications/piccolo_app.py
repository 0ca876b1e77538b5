from piccolo.conf.apps import AppConfig

from servicerw.notifications.tables import EmailMessage
from servicerw.settings import ROOT_DIR

APP_CONFIG = AppConfig(
    app_name="notifications",
    migrations_folder_path=str(ROOT_DIR / "migrations" / "notifications"),
    table_classes=[EmailMessage],
    migration_dependencies=[],
    commands=[],
)
