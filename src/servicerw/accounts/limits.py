"""Limits on the account forms, counted atomically before the work they guard (core/throttle.Limiter).

- every POST to `/account/…`: `ADDRESS` per client address (a 429 page with Retry-After);
- log-in: `PAIR` attempts per account AND client address (the lock affects that address only: an attacker
  who fails 10 times does not lock the owner out from anywhere else; a successful log-in clears it), and
  `ACCOUNT` attempts per account from all addresses together, a slower limit against guessing from many
  addresses, which a browser that has logged in to that account before (a signed "known device" cookie)
  does not count against, so an attacker cannot use it to lock the owner out either;
- password reset: `RESET_PAIR` requests per address and email (429), and at most `RESET_EMAILS` emails per
  account an hour (beyond that the answer is the same, and no email is sent: the newest link already in the
  owner's inbox is the one that works, each new one invalidating the others).

Keys hold a hash of the email, never the email itself.
"""

from __future__ import annotations

import hashlib
import hmac

from litestar.datastructures import Cookie

from servicerw.core.throttle import Counters, Limiter, Verdict

ADDRESS = (10, 60)
PAIR = (10, 15 * 60)
ACCOUNT = (50, 60 * 60)
RESET_PAIR = (10, 15 * 60)
RESET_EMAILS = (5, 60 * 60)
DEVICE_COOKIE = "known_device"
DEVICE_TAGS = 5  # accounts remembered per browser
DEVICE_MAX_AGE = 365 * 24 * 3600


def _key(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:32]


class AccountLimits:
    def __init__(
        self,
        counters: Counters,
        *,
        secret_key: str,
        processes: int = 1,
        production: bool = False,
        address_limit: int = ADDRESS[0],
    ) -> None:
        self.address_limit = Limiter(counters, address_limit, ADDRESS[1], processes=processes)
        self.pair = Limiter(counters, *PAIR, processes=processes)
        self.account = Limiter(counters, *ACCOUNT, processes=processes)
        self.reset_pair = Limiter(counters, *RESET_PAIR, processes=processes)
        self.reset_emails = Limiter(counters, *RESET_EMAILS, processes=processes)
        self._secret = secret_key.encode()
        self.production = production
        self._counters = counters

    async def close(self) -> None:
        close = getattr(self._counters, "close", None)
        if close is not None:
            await close()

    @property
    def device_cookie_name(self) -> str:
        return f"__Host-{DEVICE_COOKIE}" if self.production else DEVICE_COOKIE

    async def post_from(self, address: str) -> Verdict:
        """One POST to an account form from `address`."""
        return await self.address_limit.take(f"addr:{address}")

    async def login(self, email: str, address: str, device_cookie: str | None) -> Verdict:
        """One log-in attempt, counted before the password is checked: refused when this address has used up
        its attempts on this account, or when all addresses together have and this browser is not known."""
        pair = await self.pair.take(f"pair:{_key(email)}:{address}")
        if not pair.allowed:
            return pair
        if self.known_device(email, device_cookie):
            return pair
        return await self.account.take(f"account:{_key(email)}")

    async def logged_in(self, email: str, address: str) -> None:
        """The right password: this address's attempts on the account start again from zero."""
        await self.pair.clear(f"pair:{_key(email)}:{address}")

    async def reset_request(self, email: str, address: str) -> Verdict:
        return await self.reset_pair.take(f"reset:{_key(email)}:{address}")

    async def reset_email_allowed(self, email: str) -> bool:
        return (await self.reset_emails.take(f"reset-mail:{_key(email)}")).allowed

    # --- the "known device" cookie ------------------------------------------------------------------

    def _tag(self, email: str) -> str:
        return hmac.new(self._secret, f"device:{email}".encode(), hashlib.sha256).hexdigest()[:32]

    def known_device(self, email: str, cookie: str | None) -> bool:
        if not cookie or len(cookie) > 33 * DEVICE_TAGS:
            return False
        tag = self._tag(email)
        return any(hmac.compare_digest(tag, part) for part in cookie.split(".") if part.isascii())

    def device_cookie(self, email: str, cookie: str | None) -> Cookie:
        """Set after a log-in (or sign-up, or reset) that proved the password: this browser now counts as
        known for `email`, beside at most DEVICE_TAGS - 1 other accounts it knew."""
        tag = self._tag(email)
        others = [p for p in (cookie or "").split(".") if len(p) == 32 and p.isascii() and p.isalnum() and p != tag]
        return Cookie(
            key=self.device_cookie_name,
            value=".".join([tag, *others][:DEVICE_TAGS]),
            max_age=DEVICE_MAX_AGE,
            path="/",
            secure=self.production,
            httponly=True,
            samesite="lax",
        )
