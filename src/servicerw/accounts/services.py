"""Accounts: sign-up, email verification, log-in, password reset. Argon2 hashes; emails go to the outbox
in the same transaction as the change that causes them.

Nothing here tells a visitor whether an email has an account: sign-up with a taken address answers like a
new one would be told to ("check your email") and emails the existing account instead; a reset request is
looked up after the answer has gone (the controller runs `request_reset` as a background task). Each token
is single-use; issuing or using one invalidates every other outstanding token of its purpose for the account,
and a password reset ends every session of the account (`core/sessions.end_user_sessions`)."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from litestar.stores.base import Store

from servicerw.core import db, i18n
from servicerw.core.addresses import valid_email
from servicerw.core.auth import CurrentUser
from servicerw.core.forms import FormErrors
from servicerw.core.i18n import gettext as _
from servicerw.core.sessions import end_user_sessions
from servicerw.notifications.compose import queue_message

PASSWORD_MIN, PASSWORD_MAX = 8, 128
VERIFY_TTL = timedelta(days=3)
RESET_TTL = timedelta(hours=1)
PHONE_RE = re.compile(r"^\+?[0-9 ]{9,16}$")
log = structlog.get_logger(__name__)
_hasher = PasswordHasher()
# A dummy hash, so that a log-in for an unknown email costs as much as a real one (no user enumeration).
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


async def _hash(password: str) -> str:
    """Argon2 takes tens of milliseconds of CPU: in a thread (argon2-cffi releases the GIL), so that the event
    loop keeps serving other requests, and the limits' Valkey replies arrive within their short timeout."""
    return await asyncio.to_thread(_hasher.hash, password)


async def _verify(password_hash: str, password: str) -> bool:
    return await asyncio.to_thread(_hasher.verify, password_hash, password)


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


@dataclass(frozen=True)
class PasswordReset:
    user_id: int
    email: str


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
    def __init__(self, sessions: Store | None = None) -> None:
        self.sessions = sessions  # the app's sessions store: a password reset ends the account's sessions

    async def sign_up(
        self, *, full_name: str, email: str, phone: str, password: str, role: str, language: str, base_url: str
    ) -> Account | None:
        """The new account; None when the address already has one (that account was emailed instead: the
        caller answers "check your email", saying nothing about the address). FormErrors for bad fields."""
        address = valid_email(email)
        email = address or normalise_email(email)
        errors: dict[str, str] = {}
        if not 2 <= len(full_name.strip()) <= 120:
            errors["full_name"] = _("Enter your name (2 to 120 characters).")
        if address is None:
            errors["email"] = _("Enter a valid email address.")
        if phone.strip() and not PHONE_RE.match(phone.strip()):
            errors["phone"] = _("Enter a phone number like +250 788 123 456.")
        if problem := password_problem(password, email):
            errors["password"] = problem
        if role not in ("customer", "owner"):
            errors["role"] = _("Choose an account type.")
        if errors:
            raise FormErrors(errors)
        password_hash = await _hash(password)
        token = secrets.token_urlsafe(32)
        async with db.engine().pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                """INSERT INTO users (email, phone, full_name, password_hash, role, preferred_language, is_active)
                   VALUES ($1, $2, $3, $4, $5, $6, true) ON CONFLICT (email) DO NOTHING RETURNING id""",
                email,
                phone.strip() or None,
                full_name.strip(),
                password_hash,
                role,
                language,
            )
            if row is None:
                await self._tell_existing_account(conn, email, base_url)
                return None
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

    @staticmethod
    async def _tell_existing_account(conn, email: str, base_url: str) -> None:
        """Someone signed up with the address of an active account: tell its owner (in their language) how to
        log in or reset the password, instead of telling the visitor that the address is taken."""
        row = await conn.fetchrow(
            "SELECT full_name, preferred_language FROM users WHERE email = $1 AND is_active", email
        )
        if row is None:
            return
        with i18n.using(row["preferred_language"]):
            await queue_message(
                conn,
                to=email,
                language=row["preferred_language"],
                kind="signup_existing",
                subject=_("You already have a ServiceRW account"),
                body=_(
                    "Hello %(name)s,\n\nSomeone, maybe you, tried to create a ServiceRW account with this email "
                    "address. You already have one: log in here:\n%(login)s\n\nForgot your password? Choose a new "
                    "one here:\n%(reset)s\n\nIf it was not you, you can ignore this email: nothing has changed.",
                    name=row["full_name"],
                    login=f"{base_url}/account/login",
                    reset=f"{base_url}/account/reset",
                ),
            )

    async def _issue_token(self, conn, user_id: int, purpose: str, token: str, ttl: timedelta) -> None:
        """A new single-use token; every other outstanding token of this purpose for the account stops working
        (only the newest emailed link is valid)."""
        await conn.execute(
            "UPDATE account_tokens SET used_at = now() WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
            user_id,
            purpose,
        )
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
        address = valid_email(email)
        row = None
        if address is not None:
            row = await db.fetchrow(
                "SELECT id, email, full_name, role, password_hash, is_active, email_verified_at, preferred_language "
                "FROM users WHERE email = $1",
                address,
            )
        if row is None or not row["password_hash"]:
            try:
                await _verify(_DUMMY_HASH, password)
            except VerificationError:
                pass
            return None
        try:
            await _verify(row["password_hash"], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if not row["is_active"]:
            return None
        if _hasher.check_needs_rehash(row["password_hash"]):
            await db.execute("UPDATE users SET password_hash = $1 WHERE id = $2", await _hash(password), row["id"])
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
        """Email a reset link to the account of `email`, if there is an active one (in the language the request
        was made in). The controller calls this after its answer has gone, so the visitor can tell neither
        from the page nor from its timing whether the address has an account; errors are logged, not raised."""
        address = valid_email(email)
        if address is None:
            return
        token = secrets.token_urlsafe(32)
        try:
            async with db.engine().pool.acquire() as conn, conn.transaction():
                row = await conn.fetchrow(
                    "SELECT id, full_name, email FROM users WHERE email = $1 AND is_active", address
                )
                if row is None:
                    return
                await self._issue_token(conn, row["id"], "reset_password", token, RESET_TTL)
                with i18n.using(language):
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
        except Exception:  # noqa: BLE001 - after the answer: nobody to tell but the log (no token in it)
            log.exception("reset_request_failed")

    async def reset_password(self, token: str, password: str) -> PasswordReset:
        """Sets the new password; FormErrors for a bad password or token."""
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
                "UPDATE users SET password_hash = $1, updated_at = now() WHERE id = $2", await _hash(password), user_id
            )
            # Every other reset link of the account stops working (an older email must not reset it again).
            await conn.execute(
                """UPDATE account_tokens SET used_at = now()
                   WHERE user_id = $1 AND purpose = 'reset_password' AND used_at IS NULL""",
                user_id,
            )
        # Whoever had a session (the one who guessed or stole the old password included) is logged out.
        if self.sessions is not None:
            await end_user_sessions(self.sessions, user_id)
        return PasswordReset(user_id, email or "")
