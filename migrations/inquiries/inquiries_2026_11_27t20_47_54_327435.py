from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-27T20:47:54:327435"
VERSION = "1.38.0"
DESCRIPTION = "inquiry reply text"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="inquiries", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="CustomerInquiry",
        tablename="customer_inquiries",
        column_name="reply_text",
        db_column_name="reply_text",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
