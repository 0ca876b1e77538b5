"""Limits on sending messages (ARCHITECTURE.md, "Inquiries"): per device, per client address and per business,
each an hourly count of CREATED inquiries (core/throttle.Throttle; retries and refusals are not counted).

Many customers share one mobile carrier address (carrier-grade NAT), so the address alone cannot carry a low
limit: the low one (INQUIRY_LIMIT_DEVICE) is per browser, identified by a random id in a signed, HttpOnly
cookie set with the first message; the address keeps a much higher ceiling (INQUIRY_LIMIT_ADDRESS) for
whoever drops the cookie each time, and each business receives at most INQUIRY_LIMIT_BUSINESS.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from litestar.datastructures import Cookie
from litestar.stores.base import Store

from servicerw.core.throttle import Throttle
from servicerw.settings import Settings

WINDOW = 3600
DEVICE_COOKIE = "inquiry_device"
DEVICE_MAX_AGE = 365 * 24 * 3600


@dataclass(frozen=True)
class Device:
    id: str
    new: bool  # no valid cookie came with the request: the answer sets one


class InquiryLimits:
    def __init__(self, store: Store, settings: Settings) -> None:
        limits = settings.inquiries
        self.by_device = Throttle(store, limits.per_device, WINDOW)
        self.by_address = Throttle(store, limits.per_address, WINDOW)
        self.by_business = Throttle(store, limits.per_business, WINDOW)
        self._secret = settings.server.secret_key.encode()
        self.production = settings.server.production

    @property
    def cookie_name(self) -> str:
        return f"__Host-{DEVICE_COOKIE}" if self.production else DEVICE_COOKIE

    def _tag(self, device_id: str) -> str:
        return hmac.new(self._secret, f"inquiry-device:{device_id}".encode(), hashlib.sha256).hexdigest()[:32]

    def device(self, cookie: str | None) -> Device:
        """The device of a valid cookie, else a new one (a forged or altered cookie counts as none)."""
        device_id, _, tag = (cookie or "").partition(".")
        if device_id and tag.isascii() and hmac.compare_digest(tag, self._tag(device_id)):
            return Device(device_id, new=False)
        return Device(secrets.token_urlsafe(16), new=True)

    def cookie(self, device: Device) -> Cookie:
        return Cookie(
            key=self.cookie_name,
            value=f"{device.id}.{self._tag(device.id)}",
            max_age=DEVICE_MAX_AGE,
            path="/",
            httponly=True,
            secure=self.production,
            samesite="lax",
        )

    def _keys(self, device: Device, address: str, business_id: int) -> tuple[str, str, str]:
        return f"dev:{device.id}", f"addr:{address}", f"biz:{business_id}"

    async def exceeded(self, device: Device, address: str, business_id: int) -> bool:
        dev, addr, biz = self._keys(device, address, business_id)
        return (
            (not device.new and await self.by_device.exceeded(dev))
            or await self.by_address.exceeded(addr)
            or await self.by_business.exceeded(biz)
        )

    async def count(self, device: Device, address: str, business_id: int) -> None:
        """One inquiry created."""
        dev, addr, biz = self._keys(device, address, business_id)
        await self.by_device.hit(dev)
        await self.by_address.hit(addr)
        await self.by_business.hit(biz)
