from piccolo.columns import ForeignKey, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from servicerw.accounts.tables import User
from servicerw.businesses.tables import Business

STATUSES = ("pending", "approved", "rejected", "undone")
PROOFS = ("email", "operator")


class BusinessClaim(Table, tablename="business_claims"):
    """Someone says an ownerless listing is theirs. With `proof` "email" a single-use link (only its hash is
    kept, with an end date) went to the listing's email; following it sets `email_verified_at`. An operator
    approves (ownership moves to the claimant; the owner before is kept in `previous_owner_id` so that an
    undo can give it back), rejects with a reason, or undoes an approved claim."""

    business = ForeignKey(Business, db_column_name="business_id", index=True)
    user = ForeignKey(User, db_column_name="user_id", index=True)
    status = Varchar(length=12, default="pending")
    proof = Varchar(length=12, default="operator")
    message = Text(default="")
    token_hash = Varchar(length=64, null=True, default=None, unique=True)
    token_expires_at = Timestamptz(null=True, default=None)
    email_verified_at = Timestamptz(null=True, default=None)
    previous_owner = ForeignKey(
        User, null=True, default=None, db_column_name="previous_owner_id", on_delete=OnDelete.set_null
    )
    decided_by = ForeignKey(User, null=True, default=None, db_column_name="decided_by", on_delete=OnDelete.set_null)
    decided_at = Timestamptz(null=True, default=None)
    decision_note = Text(default="")
    undone_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
