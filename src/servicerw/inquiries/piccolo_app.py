from piccolo.conf.apps import AppConfig

from servicerw.inquiries.tables import CustomerInquiry
from servicerw.settings import ROOT_DIR

APP_CONFIG = AppConfig(
    app_name="inquiries",
    migrations_folder_path=str(ROOT_DIR / "migrations" / "inquiries"),
    table_classes=[CustomerInquiry],
    migration_dependencies=["servicerw.businesses.piccolo_app"],
    commands=[],
)
