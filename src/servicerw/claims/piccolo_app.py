from piccolo.conf.apps import AppConfig

from servicerw.claims.tables import BusinessClaim
from servicerw.settings import ROOT_DIR

APP_CONFIG = AppConfig(
    app_name="claims",
    migrations_folder_path=str(ROOT_DIR / "migrations" / "claims"),
    table_classes=[BusinessClaim],
    migration_dependencies=["servicerw.businesses.piccolo_app", "servicerw.accounts.piccolo_app"],
    commands=[],
)
