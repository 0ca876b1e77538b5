"""What every request under `/api/` and `/graphql` passes first: its key, its place in the rate limit, and the
headers that say where it stands.

- `Authorization: Bearer KEY` names a key (`ApiKeyService.client`); a wrong, revoked or malformed one is refused
  (401, problem+json) — never silently treated as anonymous. The session cookie means nothing here: API calls
  are authenticated by the key alone (and are neither CSRF-checked nor given a session, see app.py).
- Limits per 15-minute window (aligned to the clock): by key and tier, or by client address without a key.
  One atomic INCRBY in Valkey (a Lua script, one round trip) counts the request across every process and pod;
  past the limit the answer is 429 with `Retry-After`. GraphQL adds the cost of what it returned (`charge`).
- When Valkey is unreachable the store's breaker falls back to per-process counters (`core/stores.py`): the
  API keeps answering, each process allowing the full limit (so up to N times the limit with N processes)
  until Valkey is back. Refusing every API call because a cache is down would be worse for partners.
- Every answer under the API (errors, 304 and unknown paths included) gets the IETF httpapi draft's
  `RateLimit-Policy` and `RateLimit` headers, and CORS headers for GET (any origin, no credentials).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import msgspec
from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.params import FromPath
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from servicerw.api.services import ApiClient, ApiKeyService, ApiReader
from servicerw.core.auth import INT4_MAX, OwnedBusiness
from servicerw.core.errors import PROBLEM, PROBLEM_TITLES, is_api
from servicerw.core.sessions import client_address
from servicerw.settings import ApiSettings, ServerSettings

STATE_RATE = "api_rate"
STATE_CLIENT = "api_client"
CORS_EXPOSED = "ETag, Link, RateLimit, RateLimit-Policy, Retry-After, Content-Language"
CORS_ALLOWED_HEADERS = "Authorization, Accept, Accept-Language, If-None-Match, Content-Type"


@dataclass(slots=True)
class RateState:
    policy: str  # free | basic | premium | anonymous
    limit: int
    used: int
    window: int
    reset: int  # seconds until the window ends
    key: str  # the counter's key (GraphQL charges more to it)

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def headers(self) -> list[tuple[str, str]]:
        return [
            ("ratelimit-policy", f'"{self.policy}";q={self.limit};w={self.window}'),
            ("ratelimit", f'"{self.policy}";r={self.remaining};t={self.reset}'),
        ]


class RateLimiter:
    """Fixed windows aligned to the clock, so every process agrees on the window without asking."""

    def __init__(self, store, settings: ApiSettings) -> None:
        self.store = store
        self.settings = settings

    async def hit(self, bucket: str, policy: str, amount: int = 1, now: float | None = None) -> RateState:
        now = time.time() if now is None else now
        window = self.settings.window
        number = int(now // window)
        key = f"{bucket}:{number}"
        used = await self.store.incr_by(key, amount, window + 60)
        reset = max(1, int((number + 1) * window - now))
        return RateState(policy, self.settings.limit(policy), used, window, reset, key)

    async def charge(self, state: RateState, amount: int) -> None:
        """Add `amount` to a request's window (GraphQL: the cost of what it returned beyond the first unit)."""
        if amount > 0:
            state.used = await self.store.incr_by(state.key, amount, state.window + 60)


class Gate:
    def __init__(self, keys: ApiKeyService, limiter: RateLimiter, server: ServerSettings) -> None:
        self.keys = keys
        self.limiter = limiter
        self.trusted = server.trusted_proxies

    async def admit(self, scope: Scope) -> tuple[int, str, dict[str, str]] | None:
        """Identify and count the request (state in scope["state"]); a refusal as (status, detail, headers)."""
        state = scope.setdefault("state", {})
        state["api_admitted"] = True
        header = _header(scope, b"authorization")
        client: ApiClient | None = None
        if header is not None:
            scheme, _sep, token = header.strip().partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                return 401, "Send the key as `Authorization: Bearer KEY`.", _CHALLENGE
            client = await self.keys.client(token)
            if client is None:
                return 401, "This API key is not valid (unknown or revoked).", _INVALID
            if not client.active:
                return 403, "The account this key belongs to is deactivated.", {}
            state[STATE_CLIENT] = client
            rate = await self.limiter.hit(f"key:{client.key_id}", client.tier)
        else:
            address = client_address(Request(scope), self.trusted)
            rate = await self.limiter.hit(f"ip:{address}", "anonymous")
        state[STATE_RATE] = rate
        if rate.used > rate.limit:
            return (
                429,
                f"The limit of {rate.limit} requests per {rate.window // 60} minutes is reached; "
                f"retry in {rate.reset} s" + ("." if client else ", or send an API key for a higher limit."),
                {"retry-after": str(rate.reset)},
            )
        return None


_CHALLENGE = {"www-authenticate": 'Bearer realm="servicerw"'}
_INVALID = {"www-authenticate": 'Bearer realm="servicerw", error="invalid_token"'}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


async def send_problem(send: Send, status: int, detail: str, headers: dict[str, str], instance: str) -> None:
    body = msgspec.json.encode(
        {
            "type": "about:blank",
            "title": PROBLEM_TITLES.get(status, "Error"),
            "status": status,
            "detail": detail,
            "instance": instance,
        }
    )
    raw = [
        (b"content-type", PROBLEM.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    raw += [(k.encode(), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def api_gate(app: ASGIApp) -> ASGIApp:
    """App-level middleware: API requests are admitted (or refused) before their handler runs."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api(scope["path"]):
            await app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":  # CORS preflight: GET only, from any origin, without credentials
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [
                        (b"access-control-allow-origin", b"*"),
                        (b"access-control-allow-methods", b"GET"),
                        (b"access-control-allow-headers", CORS_ALLOWED_HEADERS.encode()),
                        (b"access-control-max-age", b"86400"),
                        (b"allow", b"GET, OPTIONS"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        gate: Gate = scope["app"].state.api_gate
        refusal = await gate.admit(scope)
        if refusal is not None:
            status, detail, headers = refusal
            await send_problem(send, status, detail, headers, scope["path"])
            return
        await app(scope, receive, send)

    return middleware


def make_api_headers():
    """before_send hook: the rate-limit and CORS headers on every answer under the API — the ones the gate
    refused, 304s, and unknown paths (answered by the router before any middleware; counted here)."""

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start" or scope["type"] != "http" or not is_api(scope["path"]):
            return
        state = scope.setdefault("state", {})
        rate: RateState | None = state.get(STATE_RATE)
        if rate is None and scope.get("method") != "OPTIONS" and not state.get("api_admitted"):
            await scope["app"].state.api_gate.admit(scope)
            rate = state.get(STATE_RATE)
        headers = MutableScopeHeaders.from_message(message)
        if rate is not None:
            for name, value in rate.headers():
                headers[name] = value
        if scope.get("method") in ("GET", "HEAD"):
            headers["access-control-allow-origin"] = "*"
            headers["access-control-expose-headers"] = CORS_EXPOSED
        if (headers.get("content-type") or "").startswith(("application/json", PROBLEM)):
            headers["content-language"] = state.get("lang", "rw")
            headers.add("vary", "Accept-Language, Authorization")

    return before_send


# --- dependencies for the owners' endpoints ------------------------------------------------------------


async def provide_api_client(request: Request) -> ApiClient:
    """The request's key; owners' endpoints need one (401 otherwise)."""
    client = request.scope.get("state", {}).get(STATE_CLIENT)
    if client is None:
        raise NotAuthorizedException("This endpoint needs an API key: `Authorization: Bearer KEY`.", headers=_CHALLENGE)
    return client


async def provide_api_business(request: Request, business_id: FromPath[int]) -> OwnedBusiness:
    """The business of `/owner/businesses/{business_id}/…` if the key's owner manages it; the same 404 whether
    it is someone else's or does not exist."""
    client = await provide_api_client(request)
    if not 0 < business_id <= INT4_MAX:
        raise NotFoundException("No such business among this key's businesses.")
    reader: ApiReader = request.app.state.api_reader
    business = await reader.owned(business_id, client.user_id)
    if business is None:
        raise NotFoundException("No such business among this key's businesses.")
    return business
