from piccolo.columns import JSONB, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from servicerw.accounts.tables import User


class AuditEntry(Table, tablename="audit_log"):
    """One operator action: who did what to which thing, when, and the values before and after."""

    actor = ForeignKey(User, null=True, default=None, db_column_name="actor_id")
    action = Varchar(length=40)
    target_type = Varchar(length=20)
    target_id = Integer(null=True, default=None)
    before = JSONB(default={})
    after = JSONB(default={})
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
