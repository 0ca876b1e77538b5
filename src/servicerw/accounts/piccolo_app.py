from piccolo.conf.apps import AppConfig

from servicerw.accounts.tables import AccountToken, User
from servicerw.settings import ROOT_DIR

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(ROOT_DIR / "migrations" / "accounts"),
    table_classes=[User, AccountToken],
    migration_dependencies=[],
    commands=[],
)
