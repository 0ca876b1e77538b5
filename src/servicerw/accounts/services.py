"""Accounts: sign-up, email verification, log-in, password reset. Argon2 hashes; emails go to the outbox
in the same transaction as the change that causes them."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from servicerw.core import db
from servicerw.core.auth import CurrentUser
from servicerw.core.forms import FormErrors
from servicerw.core.i18n import gettext as _
from servicerw.notifications.compose import queue_message

PASSWORD_MIN, PASSWORD_MAX = 8, 128
VERIFY_TTL = timedelta(days=3)
RESET_TTL = timedelta(hours=1)
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
PHONE_RE = re.compile(r"^\+?[0-9 ]{9,16}$")
_hasher = PasswordHasher()
# A dummy hash, so that a log-in for an unknown email costs as much as a real one (no user enumeration).
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def _common_passwords() -> frozenset[str]:
    text = resources.files("servicerw.accounts").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


COMMON_PASSWORDS = _common_passwords()


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    full_name: str
    role: str
    email_verified: bool
    preferred_language: str


def _account(row) -> Account:
    return Account(
        row["id"],
        row["email"],
        row["full_name"],
        row["role"],
        row["email_verified_at"] is not None,
        row["preferred_language"],
    )


def password_problem(password: str, email: str = "") -> str | None:
    """Length 8-128, no composition rules, not a common or breached-list password (ASVS 6.2)."""
    if len(password) < PASSWORD_MIN:
        return _("Use at least %(n)d characters.", n=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        return _("Use at most %(n)d characters.", n=PASSWORD_MAX)
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or (email and lowered == email.lower()) or len(set(password)) < 3:
        return _("This password is too common. Choose another one.")
    return None


def normalise_email(email: str) -> str:
    return email.strip().lower()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


class AccountService:
    async def sign_up(
        self, *, full_name: str, email: str, phone: str, password: str, role: str, language: str, base_url: str
    ) -> Account:
        email = normalise_email(email)
        errors: dict[str, str] = {}
        if not 2 <= len(full_name.strip()) <= 120:
            errors["full_name"] = _("Enter your name (2 to 120 characters).")
        if not EMAIL_RE.match(email) or len(email) > 254:
            errors["email"] = _("Enter a valid email address.")
        if phone.strip() and not PHONE_RE.match(phone.strip()):
            errors["phone"] = _("Enter a phone number like +250 788 123 456.")
        if problem := password_problem(password, email):
            errors["password"] = problem
        if role not in ("customer", "owner"):
            errors["role"] = _("Choose an account type.")
        if errors:
            raise FormErrors(errors)
        password_hash = _hasher.hash(password)
        token = secrets.token_urlsafe(32)
        async with db.engine().pool.acquire() as conn, conn.transaction():
            try:
                row = await conn.fetchrow(
                    """INSERT INTO users (email, phone, full_name, password_hash, role, preferred_language, is_active)
                       VALUES ($1, $2, $3, $4, $5, $6, true) RETURNING id""",
                    email,
                    phone.strip() or None,
                    full_name.strip(),
                    password_hash,
                    role,
                    language,
                )
            except asyncpg.UniqueViolationError as error:
                raise FormErrors({"email": _("An account with this email already exists. Log in instead.")}) from error
            await self._issue_token(conn, row["id"], "verify_email", token, VERIFY_TTL)
            await queue_message(
                conn,
                to=email,
                language=language,
                kind="verify_email",
                subject=_("Confirm your email address"),
                body=_(
                    "Hello %(name)s,\n\nConfirm your email address for ServiceRW by opening this link:\n%(link)s\n\n"
                    "The link is valid for 3 days.",
                    name=full_name.strip(),
                    link=f"{base_url}/account/verify?token={token}",
                ),
            )
        return Account(row["id"], email, full_name.strip(), role, False, language)

    async def _issue_token(self, conn, user_id: int, purpose: str, token: str, ttl: timedelta) -> None:
        await conn.execute(
            "INSERT INTO account_tokens (user_id, purpose, token_hash, expires_at) VALUES ($1, $2, $3, $4)",
            user_id,
            purpose,
            token_hash(token),
            _now() + ttl,
        )

    async def _use_token(self, conn, token: str, purpose: str) -> int | None:
        """Marks a valid, unexpired, unused token as used and returns its user id (atomically)."""
        return await conn.fetchval(
            """UPDATE account_tokens SET used_at = now()
               WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()
               RETURNING user_id""",
            token_hash(token),
            purpose,
        )

    async def verify_email(self, token: str) -> bool:
        async with db.engine().pool.acquire() as conn, conn.transaction():
            user_id = await self._use_token(conn, token, "verify_email")
            if user_id is None:
                return False
            await conn.execute("UPDATE users SET email_verified_at = now(), updated_at = now() WHERE id = $1", user_id)
        return True

    async def authenticate(self, email: str, password: str) -> Account | None:
        row = await db.fetchrow(
            "SELECT id, email, full_name, role, password_hash, is_active, email_verified_at, preferred_language "
            "FROM users WHERE email = $1",
            normalise_email(email),
        )
        if row is None or not row["password_hash"]:
            try:
                _hasher.verify(_DUMMY_HASH, password)
            except VerificationError:
                pass
            return None
        try:
            _hasher.verify(row["password_hash"], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if not row["is_active"]:
            return None
        if _hasher.check_needs_rehash(row["password_hash"]):
            await db.execute("UPDATE users SET password_hash = $1 WHERE id = $2", _hasher.hash(password), row["id"])
        return _account(row)

    async def get(self, user_id: int) -> Account | None:
        row = await db.fetchrow(
            "SELECT id, email, full_name, role, is_active, email_verified_at, preferred_language FROM users "
            "WHERE id = $1",
            user_id,
        )
        if row is None or not row["is_active"]:
            return None
        return _account(row)

    async def active_user(self, user_id: int) -> CurrentUser | None:
        """For the guards (core/auth.py): the user behind a session, if the account is still active."""
        account = await self.get(user_id)
        return None if account is None else CurrentUser(account.id, account.role)

    async def request_reset(self, email: str, language: str, base_url: str) -> None:
        """Always looks the same to the caller, whether the account exists or not."""
        token = secrets.token_urlsafe(32)
        async with db.engine().pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT id, full_name, email FROM users WHERE email = $1 AND is_active", normalise_email(email)
            )
            if row is None:
                return
            await self._issue_token(conn, row["id"], "reset_password", token, RESET_TTL)
            await queue_message(
                conn,
                to=row["email"],
                language=language,
                kind="reset_password",
                subject=_("Reset your password"),
                body=_(
                    "Hello %(name)s,\n\nTo choose a new ServiceRW password, open this link:\n%(link)s\n\n"
                    "The link is valid for one hour. If you did not ask for this, ignore this email.",
                    name=row["full_name"],
                    link=f"{base_url}/account/reset/confirm?token={token}",
                ),
            )

    async def reset_password(self, token: str, password: str) -> int:
        """Sets the new password and returns the user id; FormErrors for a bad password or token."""
        async with db.engine().pool.acquire() as conn, conn.transaction():
            email = await conn.fetchval(
                """SELECT u.email FROM account_tokens t JOIN users u ON u.id = t.user_id
                   WHERE t.token_hash = $1 AND t.purpose = 'reset_password'""",
                token_hash(token),
            )
            if problem := password_problem(password, email or ""):
                raise FormErrors({"password": problem})
            user_id = await self._use_token(conn, token, "reset_password")
            if user_id is None:
                raise FormErrors({"token": _("This link has expired or was already used. Ask for a new one.")})
            await conn.execute(
                "UPDATE users SET password_hash = $1, updated_at = now() WHERE id = $2", _hasher.hash(password), user_id
            )
        return user_id
