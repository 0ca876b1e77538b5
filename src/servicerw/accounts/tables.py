from piccolo.columns import Boolean, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ROLES = ("customer", "owner", "admin")


class User(Table, tablename="users"):
    email = Varchar(length=254, unique=True)
    phone = Varchar(length=20, null=True, default=None)
    full_name = Varchar(length=120)
    password_hash = Varchar(length=255, default="")
    role = Varchar(length=16, default="customer", index=True)
    preferred_language = Varchar(length=2, default="rw")
    is_active = Boolean(default=True)
    email_verified_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
