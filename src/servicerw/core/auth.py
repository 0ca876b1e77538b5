"""Who is asking, and may they: the one place for the current user, the log-in redirect, safe `next`
targets, the public base URL, and the guards/dependencies every owner and admin route uses.

Handlers never open with "who are you, is it yours": they ask for a typed, already-checked value —
`user: CurrentUser` (logged in), `maybe_user: CurrentUser | None`, `owned_business: OwnedBusiness`
(every `/dashboard/{business_id}/…` route) — or carry the `admin_only` guard. A visitor who is not logged
in gets `LoginRequired`, which the app turns into the log-in page (with `next`, and as `HX-Redirect` for
htmx); a logged-in user asking for what is not theirs gets the same 404 as for what does not exist.

Core imports no domain: the lookups come from an `Access` the app assembles from the accounts and
businesses services (`request.app.state.access`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote, urlsplit

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect

from servicerw.core.forms import INT4_MAX
from servicerw.core.sessions import current_user_id
from servicerw.settings import ServerSettings

_STATE_KEY = "current_user"


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """The logged-in user, known to exist and be active."""

    id: int
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True, slots=True)
class OwnedBusiness:
    """A business the current user may manage (its owner, or an administrator)."""

    id: int
    slug: str
    status: str
    business_name: str


class UserSource(Protocol):
    async def active_user(self, user_id: int) -> CurrentUser | None: ...


class BusinessAccessSource(Protocol):
    async def owned(self, business_id: int, user_id: int) -> OwnedBusiness | None: ...


@dataclass(frozen=True, slots=True)
class Access:
    users: UserSource
    businesses: BusinessAccessSource


class LoginRequired(Exception):
    """Raised by the guards and dependencies below; answered with the log-in page (`login_required`)."""

    def __init__(self, next_path: str | None = None) -> None:
        super().__init__("login required")
        self.next_path = next_path


def safe_next(target: str | None) -> str:
    """Only same-site paths: `//evil.example` or `https://…` would be an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def base_url(server: ServerSettings, request: Request | None = None) -> str:
    """The address every link in an email starts with: PUBLIC_URL, else (development) http://HOST:PORT from
    the settings. Never the request's Host header, which the sender of the request chooses (a reset link
    pointing at their server would hand them the token): `request` is accepted and ignored."""
    del request
    return server.link_base


def _return_path(request: Request) -> str | None:
    """Where to come back after logging in: this page for a GET; for a form post, the page the form was
    on (when the browser says so and it is ours), since the post itself cannot be repeated by a GET."""
    if request.method in ("GET", "HEAD"):
        query = request.url.query
        return request.url.path + (f"?{query}" if query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.path and referer.netloc == request.url.netloc:
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return None


def login_redirect(request: Request, next_path: str | None = None) -> Response:
    """To the log-in page, then back. An htmx request gets `HX-Redirect` (a whole-page navigation, not the
    log-in form inside a fragment)."""
    target = safe_next(next_path or _return_path(request))
    login = "/account/login" if target == "/" else f"/account/login?next={quote(target, safe='/')}"
    if request.headers.get("hx-request") == "true":
        return ClientRedirect(redirect_to=login)
    return Redirect(path=login, status_code=303)


def login_required(request: Request, exc: LoginRequired) -> Response:
    """Exception handler for `LoginRequired`."""
    return login_redirect(request, exc.next_path)


def _access(connection: ASGIConnection) -> Access:
    return connection.app.state.access


async def current_user(connection: ASGIConnection) -> CurrentUser | None:
    """The logged-in, active user (looked up once per request). A deactivated or deleted account's session
    is ended on its next request."""
    state = connection.scope.setdefault("state", {})
    if _STATE_KEY in state:
        return state[_STATE_KEY]
    user_id = current_user_id(connection)  # type: ignore[arg-type]
    user = None
    if user_id is not None:
        user = await _access(connection).users.active_user(user_id)
        if user is None:
            connection.clear_session()
    state[_STATE_KEY] = user
    return user


async def provide_user(request: Request) -> CurrentUser:
    user = await current_user(request)
    if user is None:
        raise LoginRequired()
    return user


async def provide_maybe_user(request: Request) -> CurrentUser | None:
    return await current_user(request)


async def provide_owned_business(request: Request, business_id: FromPath[int]) -> OwnedBusiness:
    """The business of `/dashboard/{business_id}/…` if the logged-in user manages it; the same 404 whether
    it exists or not."""
    user_id = current_user_id(request)
    if user_id is None:
        raise LoginRequired()
    if not 0 < business_id <= INT4_MAX:
        raise NotFoundException()
    business = await _access(request).businesses.owned(business_id, user_id)
    if business is None:
        raise NotFoundException()
    return business


async def admin_only(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """Guard: administrators only; anyone else gets 404, as for a page that does not exist."""
    user = await current_user(connection)
    if user is None:
        raise LoginRequired()
    if not user.is_admin:
        raise NotFoundException()


DEPENDENCIES = {
    "user": Provide(provide_user),
    "maybe_user": Provide(provide_maybe_user),
    "owned_business": Provide(provide_owned_business),
}
EXCEPTION_HANDLERS = {LoginRequired: login_required}
