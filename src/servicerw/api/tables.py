from piccolo.columns import ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from servicerw.accounts.tables import User


class ApiKey(Table, tablename="api_keys"):
    """A key of the public API: only its SHA-256 is stored (the key itself is shown once), with its first
    characters for the owner to recognise it. Revoked keys are kept (revoked_at) for the audit trail."""

    user = ForeignKey(User, db_column_name="user_id")
    name = Varchar(length=80, default="")
    prefix = Varchar(length=16)
    key_hash = Varchar(length=64, unique=True)
    tier = Varchar(length=10, default="free")
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
