"""Sign-up, email verification, log-in, log-out, password reset. Forms work without JavaScript; errors are
shown per field; every POST is CSRF-protected and throttled per client address and per account."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from servicerw.accounts.services import AccountService
from servicerw.core import i18n
from servicerw.core.auth import CurrentUser, base_url, safe_next
from servicerw.core.forms import FormErrors
from servicerw.core.sessions import client_address, log_in, log_out
from servicerw.core.throttle import Throttle
from servicerw.settings import Settings

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
ACCOUNT_FAILURES = 10  # failed attempts per account per window
WINDOW = 15 * 60


def _field(form: dict, name: str, limit: int = 300) -> str:
    value = form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


# Per client address on the account forms (log-in, sign-up, reset); per account is `_account_throttle`.
ADDRESS_RATE_LIMIT = RateLimitConfig(
    rate_limit=("minute", 10),
    identifier_for_request=lambda request: client_address(request, request.app.state.settings.server.trusted_proxies),
    check_throttle_handler=lambda request: request.method == "POST",
    store="rate_limit",
)


def _failures(request: Request) -> Throttle:
    return Throttle(request.app.stores.get("login_failures"), ACCOUNT_FAILURES, WINDOW)


async def _account_throttle(throttle: Throttle, key: str) -> None:
    """Per-account limit (the per-address limit is the rate-limit middleware on these routes)."""
    if await throttle.exceeded(f"fail:{key}"):
        raise TooManyRequestsException(detail="too many attempts for this account")


class AccountController(Controller):
    path = "/account"
    middleware = [ADDRESS_RATE_LIMIT.middleware]

    @get("/", name="account")
    async def account(self, user: NamedDependency[CurrentUser], accounts: NamedDependency[AccountService]) -> Template:
        account = await accounts.get(user.id)
        return Template("accounts/home.html", context={"user": account}, headers={"cache-control": "no-store"})

    @get("/signup", name="signup")
    async def signup_form(self, role: FromQuery[str] = "owner") -> Template:
        return Template("accounts/signup.html", context={"form": {"role": role}, "errors": {}})

    @post("/signup", name="signup_post", status_code=200)
    async def signup(
        self,
        request: Request,
        data: Form,
        accounts: NamedDependency[AccountService],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        form = {k: _field(data, k) for k in ("full_name", "email", "phone", "role")}
        try:
            user = await accounts.sign_up(
                full_name=form["full_name"],
                email=form["email"],
                phone=form["phone"],
                password=_field(data, "password", 1000),
                role=form["role"] or "customer",
                language=i18n.current_language(),
                base_url=base_url(settings.server, request),
            )
        except FormErrors as error:
            return Template("accounts/signup.html", context={"form": form, "errors": error.errors}, status_code=422)
        log_in(request, user.id)
        return Redirect(path="/account?welcome=1", status_code=303)

    @get("/login", name="login")
    async def login_form(self, next: FromQuery[str] = "/account") -> Template:
        return Template("accounts/login.html", context={"form": {}, "errors": {}, "next": safe_next(next)})

    @post("/login", name="login_post", status_code=200)
    async def login(
        self, request: Request, data: Form, accounts: NamedDependency[AccountService]
    ) -> Template | Redirect:
        email = _field(data, "email").strip().lower()
        next_url = safe_next(_field(data, "next"))
        failures = _failures(request)
        await _account_throttle(failures, email)
        user = await accounts.authenticate(email, _field(data, "password", 1000))
        if user is None:
            await failures.hit(f"fail:{email}")
            errors = {"form": i18n.gettext("Wrong email or password.")}
            return Template(
                "accounts/login.html",
                context={"form": {"email": email}, "errors": errors, "next": next_url},
                status_code=422,
            )
        log_in(request, user.id)
        return Redirect(path=next_url, status_code=303)

    @post("/logout", name="logout")
    async def logout(self, request: Request) -> Redirect:
        log_out(request)
        return Redirect(path="/", status_code=303)

    @get("/verify", name="verify")
    async def verify_form(self, token: FromQuery[str] = "") -> Template:
        """The emailed link opens a page with a button: a GET never changes state."""
        return Template("accounts/verify.html", context={"token": token[:100], "done": None})

    @post("/verify", name="verify_post", status_code=200)
    async def verify(self, data: Form, accounts: NamedDependency[AccountService]) -> Template:
        done = await accounts.verify_email(_field(data, "token", 100))
        return Template("accounts/verify.html", context={"token": "", "done": done}, status_code=200 if done else 400)

    @get("/reset", name="reset")
    async def reset_form(self) -> Template:
        return Template("accounts/reset_request.html", context={"sent": False})

    @post("/reset", name="reset_post", status_code=200)
    async def reset(
        self,
        request: Request,
        data: Form,
        accounts: NamedDependency[AccountService],
        settings: NamedDependency[Settings],
    ) -> Template:
        email = _field(data, "email").strip().lower()
        failures = _failures(request)
        await _account_throttle(failures, f"reset:{email}")
        await failures.hit(f"fail:reset:{email}")  # every request counts: limits mail bombing
        await accounts.request_reset(email, i18n.current_language(), base_url(settings.server, request))
        return Template("accounts/reset_request.html", context={"sent": True})

    @get("/reset/confirm", name="reset_confirm")
    async def reset_confirm_form(self, token: FromQuery[str] = "") -> Template:
        return Template("accounts/reset_confirm.html", context={"token": token[:100], "errors": {}})

    @post("/reset/confirm", name="reset_confirm_post", status_code=200)
    async def reset_confirm(
        self, request: Request, data: Form, accounts: NamedDependency[AccountService]
    ) -> Template | Redirect:
        token = _field(data, "token", 100)
        try:
            user_id = await accounts.reset_password(token, _field(data, "password", 1000))
        except FormErrors as error:
            return Template(
                "accounts/reset_confirm.html", context={"token": token, "errors": error.errors}, status_code=422
            )
        log_in(request, user_id)
        return Redirect(path="/account", status_code=303)


ROUTES = [AccountController]
