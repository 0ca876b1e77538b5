"""/admin/users: operators find accounts by email, phone or name, see one, deactivate or reactivate it."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template

from servicerw.accounts.admin import NOTE_MAX, PAGE_SIZE, SEARCH_MAX, UserDirectory
from servicerw.core.auth import INT4_MAX, CurrentUser, admin_only
from servicerw.core.forms import OWN_TEXT_CHECKS, FormErrors

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
NO_STORE = {"cache-control": "private, no-store"}
DONE = ("deactivated", "reactivated", "unchanged")


def _valid_id(value: int) -> int:
    if not 0 < value <= INT4_MAX:
        raise NotFoundException()
    return value


def _note(data: dict) -> str:
    value = data.get("note", "")
    return value[: NOTE_MAX + 100] if isinstance(value, str) else ""


class UserAdminController(Controller):
    path = "/admin/users"
    guards = [admin_only]

    @get("/", name="admin_users", opt=OWN_TEXT_CHECKS)
    async def search(
        self,
        users: NamedDependency[UserDirectory],
        q: Annotated[str, QueryParameter(max_length=SEARCH_MAX * 2)] = "",
        page: Annotated[int, QueryParameter(ge=1, le=10000)] = 1,
    ) -> Template:
        errors, rows, status = {}, [], 200
        try:
            rows = await users.search(q, page)
        except FormErrors as error:
            errors, status = error.errors, error.status
        context = {
            "q": q.replace("\x00", ""),
            "users": rows[:PAGE_SIZE],
            "has_next": len(rows) > PAGE_SIZE,
            "page": page,
            "errors": errors,
        }
        return Template("accounts/admin_users.html", context=context, status_code=status, headers=NO_STORE)

    async def _page(
        self, users: UserDirectory, user_id: int, me: CurrentUser, errors=None, note="", status=200, done=""
    ) -> Template:
        account = await users.get(_valid_id(user_id))
        if account is None:
            raise NotFoundException()
        context = {
            "u": account,
            "is_me": account.id == me.id,
            "errors": errors or {},
            "note": note,
            "note_max": NOTE_MAX,
            "done": done if done in DONE else "",
        }
        return Template("accounts/admin_user.html", context=context, status_code=status, headers=NO_STORE)

    @get("/{user_id:int}", name="admin_user")
    async def account(
        self,
        user_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        users: NamedDependency[UserDirectory],
        done: Annotated[str, QueryParameter(max_length=12)] = "",
    ) -> Template:
        return await self._page(users, user_id, user, done=done)

    @post("/{user_id:int}/deactivate", name="admin_user_deactivate", status_code=200, opt=OWN_TEXT_CHECKS)
    async def deactivate(
        self,
        user_id: FromPath[int],
        data: Form,
        user: NamedDependency[CurrentUser],
        users: NamedDependency[UserDirectory],
    ) -> Template | Redirect:
        return await self._change(users, user_id, user, data, active=False)

    @post("/{user_id:int}/reactivate", name="admin_user_reactivate", status_code=200, opt=OWN_TEXT_CHECKS)
    async def reactivate(
        self,
        user_id: FromPath[int],
        data: Form,
        user: NamedDependency[CurrentUser],
        users: NamedDependency[UserDirectory],
    ) -> Template | Redirect:
        return await self._change(users, user_id, user, data, active=True)

    async def _change(
        self, users: UserDirectory, user_id: int, me: CurrentUser, data: dict, *, active: bool
    ) -> Template | Redirect:
        _valid_id(user_id)
        note = _note(data)
        try:
            if active:
                result = await users.reactivate(user_id, me.id, note)
            else:
                result = await users.deactivate(user_id, me.id, note)
        except LookupError as error:
            raise NotFoundException() from error
        except FormErrors as error:
            return await self._page(users, user_id, me, error.errors, note, error.status)
        done = ("reactivated" if active else "deactivated") if result.changed else "unchanged"
        return Redirect(path=f"/admin/users/{user_id}?done={done}", status_code=303)


ROUTES = [UserAdminController]
