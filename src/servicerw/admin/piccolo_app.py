from piccolo.conf.apps import AppConfig

from servicerw.admin.tables import AuditEntry
from servicerw.settings import ROOT_DIR

APP_CONFIG = AppConfig(
    app_name="admin",
    migrations_folder_path=str(ROOT_DIR / "migrations" / "admin"),
    table_classes=[AuditEntry],
    migration_dependencies=["servicerw.businesses.piccolo_app"],
    commands=[],
)
