from piccolo.columns import Boolean, ForeignKey, Timestamptz, Varchar
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


class AccountToken(Table, tablename="account_tokens"):
    """Single-use tokens sent by email (verify an address, reset a password). Only a hash is stored."""

    user = ForeignKey(User, db_column_name="user_id", index=True)
    purpose = Varchar(length=20)
    token_hash = Varchar(length=64, unique=True)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
