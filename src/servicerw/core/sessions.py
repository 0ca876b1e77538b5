"""Server-side sessions (in the fail-open Valkey store), the client address, and log-in throttling.

Litestar's ServerSideSessionBackend is kept but corrected for two traps found in this stack:
- it keeps a session id the client planted before logging in (fixation): here a request can ask for
  rotation (`rotate_session(request)`), and the old id is deleted and a fresh one issued;
- it stores an empty session (and sets a cookie) for every anonymous visitor: here nothing is stored
  or sent until a session has data.
Idle timeout = the store's TTL renewed on each use; absolute timeout = `auth_at` checked by `current_user_id`.
Each logged-in session id is also listed under its user (`user-sessions:<id>`), so that deactivating an account
deletes all its sessions at once (`end_user_sessions`); `core/auth.current_user` refuses an inactive account on
every request in any case.
"""

from __future__ import annotations

import ipaddress
import json
import time
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import Store
from litestar.types import Empty, Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items

from servicerw.settings import ServerSettings

IDLE_TIMEOUT = 8 * 3600  # seconds without any request
ABSOLUTE_TIMEOUT = 7 * 24 * 3600  # seconds since log-in
_ROTATE = "servicerw_rotate_session"
MAX_LISTED_SESSIONS = 50  # per user: the oldest ids beyond this are dropped from the list (not ended)


class RotatingSessionBackend(ServerSideSessionBackend):
    async def store_in_message(self, scope_session: ScopeSession, message: Message, connection) -> None:
        scope = connection.scope
        store = self.config.get_store_from_app(scope["app"])
        headers = MutableScopeHeaders.from_message(message)
        cookie_id = connection.cookies.get(self.config.key)
        has_cookie = bool(cookie_id) and cookie_id != "null"
        cookie_params = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
        empty = scope_session is Empty or not scope_session
        if empty:
            if has_cookie:  # logged out or cleared: forget it server-side and in the browser
                await self.delete(cookie_id, store=store)
                # Max-Age=0 deletes it at once (a Max-Age left at 8 h would win over an Expires in the past).
                cookie_params["max_age"] = 0
                headers.add(
                    "Set-Cookie",
                    Cookie(value="", key=self.config.key, expires=0, **cookie_params).to_header(header=""),
                )
            return
        rotate = scope.get("state", {}).get(_ROTATE, False)
        if rotate or not has_cookie:
            if has_cookie:
                await self.delete(cookie_id, store=store)
            session_id = self.generate_session_id()
        else:
            session_id = cookie_id
        await self.set(session_id=session_id, data=self.serialize_data(scope_session, scope), store=store)
        if session_id != cookie_id and isinstance(scope_session, dict) and "uid" in scope_session:
            await _list_session(store, int(scope_session["uid"]), session_id)
        headers.add("Set-Cookie", Cookie(value=session_id, key=self.config.key, **cookie_params).to_header(header=""))

    async def load_from_connection(self, connection) -> dict[str, Any]:
        cookie_id = connection.cookies.get(self.config.key)
        # Our ids are hexadecimal (`secrets.token_hex`): anything else is not a session (nor a user's list).
        if (
            not cookie_id
            or cookie_id == "null"
            or len(cookie_id) > 128
            or not (cookie_id.isascii() and cookie_id.isalnum())
        ):
            return {}
        return await super().load_from_connection(connection)


class SessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


def session_config(server: ServerSettings) -> SessionConfig:
    return SessionConfig(
        store="sessions",
        key="__Host-session" if server.production else "session",
        max_age=IDLE_TIMEOUT,
        renew_on_access=True,
        secure=server.production,
        httponly=True,
        samesite="lax",
        # API calls are authenticated by their key: no session is ever loaded or created for them.
        exclude=["^/static/", "^/media/", "^/healthz", "^/readyz", "^/api/", "^/graphql", "^/webhooks/"],
    )


def _user_key(user_id: int) -> str:
    return f"user-sessions:{user_id}"


async def _list_session(store: Store, user_id: int, session_id: str) -> None:
    """Add a new session id to its user's list (ids whose session has ended are dropped from it)."""
    raw = await store.get(_user_key(user_id))
    listed = [sid for sid in (json.loads(raw) if raw else []) if isinstance(sid, str) and await store.exists(sid)]
    listed = [*listed, session_id][-MAX_LISTED_SESSIONS:]
    await store.set(_user_key(user_id), json.dumps(listed), expires_in=ABSOLUTE_TIMEOUT)


async def end_user_sessions(store: Store, user_id: int) -> int:
    """Delete every listed session of a user (deactivation); returns how many were listed. `store` is the
    sessions store the app uses (`Services.session_store`)."""
    raw = await store.get(_user_key(user_id))
    listed = [sid for sid in (json.loads(raw) if raw else []) if isinstance(sid, str)]
    for session_id in listed:
        await store.delete(session_id)
    await store.delete(_user_key(user_id))
    return len(listed)


def rotate_session(request: Request) -> None:
    """Issue a new session id with this response (log-in, log-out, privilege change)."""
    request.scope.setdefault("state", {})[_ROTATE] = True


def log_in(request: Request, user_id: int) -> None:
    rotate_session(request)
    now = int(time.time())
    request.set_session({"uid": user_id, "auth_at": now})


def log_out(request: Request) -> None:
    request.clear_session()


def current_user_id(request: Request, now: float | None = None) -> int | None:
    session = request.scope.get("session") or {}
    if not isinstance(session, dict) or "uid" not in session:
        return None
    if (now or time.time()) - session.get("auth_at", 0) > ABSOLUTE_TIMEOUT:
        request.clear_session()
        return None
    return int(session["uid"])


def client_address(request: Request, trusted_proxies: tuple[str, ...]) -> str:
    """The client's address. X-Forwarded-For is believed only when the direct peer is a trusted proxy,
    and then only its right-most address not belonging to a trusted proxy (a client can forge the rest)."""
    peer = request.client.host if request.client else "unknown"
    if not trusted_proxies or not _in(peer, trusted_proxies):
        return peer
    forwarded = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",") if part.strip()]
    for address in reversed(forwarded):
        if not _in(address, trusted_proxies):
            return address
    return peer


def peer_is_trusted(scope, trusted_proxies: tuple[str, ...]) -> bool:
    """Whether the direct peer of the connection is one of TRUSTED_PROXIES (whose headers are believed)."""
    client = scope.get("client")
    return bool(trusted_proxies and client and _in(client[0], trusted_proxies))


def _in(address: str, networks: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in networks)
