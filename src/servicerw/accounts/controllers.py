"""Sign-up, email verification, log-in, log-out, password reset. Forms work without JavaScript; errors are
shown per field; every POST is CSRF-protected and limited per client address, and log-in and reset also per
account (accounts/limits.py: counted atomically before the password is checked)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import TooManyRequestsException
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from servicerw.accounts.limits import AccountLimits
from servicerw.accounts.services import AccountService
from servicerw.core import i18n
from servicerw.core.addresses import valid_email
from servicerw.core.auth import CurrentUser, base_url, safe_next
from servicerw.core.forms import FormErrors, form_text
from servicerw.core.sessions import client_address, log_in, log_out
from servicerw.settings import Settings

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _address(request: Request) -> str:
    return client_address(request, request.app.state.settings.server.trusted_proxies)


def _limits(request: Request) -> AccountLimits:
    return request.app.state.account_limits


def _too_many(retry_after: int) -> TooManyRequestsException:
    return TooManyRequestsException(detail="too many attempts", headers={"retry-after": str(retry_after)})


async def _count_post(request: Request) -> None:
    """Every POST to an account form counts against its client address (atomically, before the work)."""
    if request.method == "POST":
        verdict = await _limits(request).post_from(_address(request))
        if not verdict.allowed:
            raise _too_many(verdict.retry_after)


def _minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))


class AccountController(Controller):
    path = "/account"
    before_request = _count_post

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
        form = {k: form_text(data, k) for k in ("full_name", "email", "phone", "role")}
        try:
            user = await accounts.sign_up(
                full_name=form["full_name"],
                email=form["email"],
                phone=form["phone"],
                password=form_text(data, "password", 1000),
                role=form["role"] or "customer",
                language=i18n.current_language(),
                base_url=base_url(settings.server),
            )
        except FormErrors as error:
            return Template("accounts/signup.html", context={"form": form, "errors": error.errors}, status_code=422)
        if user is None:  # the address has an account, which was emailed: say nothing more than "check your email"
            return Template("accounts/signup_sent.html", context={}, headers={"cache-control": "no-store"})
        log_in(request, user.id)
        limits = _limits(request)
        device = limits.device_cookie(user.email, request.cookies.get(limits.device_cookie_name))
        return Redirect(path="/account?welcome=1", status_code=303, cookies=[device])

    @get("/login", name="login")
    async def login_form(self, next: FromQuery[str] = "/account") -> Template:
        return Template("accounts/login.html", context={"form": {}, "errors": {}, "next": safe_next(next)})

    @post("/login", name="login_post", status_code=200)
    async def login(
        self, request: Request, data: Form, accounts: NamedDependency[AccountService]
    ) -> Template | Redirect:
        email = valid_email(form_text(data, "email")) or form_text(data, "email").strip().lower()
        next_url = safe_next(form_text(data, "next"))
        limits, address = _limits(request), _address(request)
        device = request.cookies.get(limits.device_cookie_name)
        verdict = await limits.login(email, address, device)  # counted before the password is checked
        if not verdict.allowed:
            message = i18n.gettext(
                "Too many attempts to log in to this account. Try again in %(minutes)d minutes, "
                "or choose a new password with “Forgot your password?”.",
                minutes=_minutes(verdict.retry_after),
            )
            return Template(
                "accounts/login.html",
                context={"form": {"email": email}, "errors": {"form": message}, "next": next_url},
                status_code=429,
                headers={"retry-after": str(verdict.retry_after)},
            )
        user = await accounts.authenticate(email, form_text(data, "password", 1000))
        if user is None:
            errors = {"form": i18n.gettext("Wrong email or password.")}
            return Template(
                "accounts/login.html",
                context={"form": {"email": email}, "errors": errors, "next": next_url},
                status_code=422,
            )
        await limits.logged_in(email, address)
        log_in(request, user.id)
        return Redirect(path=next_url, status_code=303, cookies=[limits.device_cookie(email, device)])

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
        done = await accounts.verify_email(form_text(data, "token", 100))
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
        """The same answer, after the same work, whether the address has an account or not: the lookup and the
        email happen after the answer has gone (a background task)."""
        email = valid_email(form_text(data, "email"))
        if email is None:
            errors = {"email": i18n.gettext("Enter a valid email address.")}
            return Template(
                "accounts/reset_request.html",
                context={"sent": False, "errors": errors, "form": {"email": form_text(data, "email", 254)}},
                status_code=422,
            )
        limits = _limits(request)
        verdict = await limits.reset_request(email, _address(request))
        if not verdict.allowed:
            raise _too_many(verdict.retry_after)
        background = None
        if await limits.reset_email_allowed(email):  # beyond it, the newest link already sent is the one that works
            background = BackgroundTask(
                accounts.request_reset, email, i18n.current_language(), base_url(settings.server)
            )
        return Template("accounts/reset_request.html", context={"sent": True}, background=background)

    @get("/reset/confirm", name="reset_confirm")
    async def reset_confirm_form(self, token: FromQuery[str] = "") -> Template:
        return Template("accounts/reset_confirm.html", context={"token": token[:100], "errors": {}})

    @post("/reset/confirm", name="reset_confirm_post", status_code=200)
    async def reset_confirm(
        self, request: Request, data: Form, accounts: NamedDependency[AccountService]
    ) -> Template | Redirect:
        token = form_text(data, "token", 100)
        try:
            reset = await accounts.reset_password(token, form_text(data, "password", 1000))
        except FormErrors as error:
            return Template(
                "accounts/reset_confirm.html", context={"token": token, "errors": error.errors}, status_code=422
            )
        # The reset ended every session of the account (and every other reset link): this one starts afresh.
        log_in(request, reset.user_id)
        limits = _limits(request)
        device = limits.device_cookie(reset.email, request.cookies.get(limits.device_cookie_name))
        return Redirect(path="/account", status_code=303, cookies=[device])


ROUTES = [AccountController]
