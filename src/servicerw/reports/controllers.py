"""Abuse reports: the "Report" form of every public listing and published review (works without JavaScript;
with htmx the form is swapped for the confirmation in place), and the operators' queue under /admin/reports."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Body, FromPath, QueryParameter
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from servicerw.core import i18n
from servicerw.core.auth import INT4_MAX, CurrentUser, admin_only
from servicerw.core.forms import OWN_TEXT_CHECKS, FormErrors, form_text
from servicerw.core.sessions import client_address
from servicerw.core.throttle import Throttle
from servicerw.core.web import wants_fragment
from servicerw.reports.services import (
    ACTIONS,
    DETAILS_MAX,
    KINDS,
    NOTE_MAX,
    PAGE_SIZE,
    QUEUE_STATUSES,
    REASONS,
    ReportService,
    ReportTarget,
    reason_label,
    validate,
)
from servicerw.settings import Settings

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
NO_STORE = {"cache-control": "private, no-store", "vary": "HX-Request"}
PER_ADDRESS = (5, 3600)  # reports created per client address per hour
HONEYPOT = "website"  # hidden from people; bots fill it in


def _valid_id(value: int) -> int:
    """Ids are PostgreSQL integers: anything outside is a page that does not exist."""
    if not 0 < value <= INT4_MAX:
        raise NotFoundException()
    return value


def _valid_slug(slug: str) -> str:
    if len(slug) > 180 or "\x00" in slug:
        raise NotFoundException()
    return slug


def _reasons() -> list[tuple[str, str]]:
    return [(reason, reason_label(reason)) for reason in REASONS]


class ReportController(Controller):
    """`/b/{slug}/report` (the listing) and `/b/{slug}/reviews/{review_id}/report` (one review)."""

    path = "/b/{slug:str}"
    request_class = HTMXRequest

    async def _target(self, reports: ReportService, slug: str, review_id: int | None) -> ReportTarget:
        target = await reports.target(_valid_slug(slug), None if review_id is None else _valid_id(review_id))
        if target is None:
            raise NotFoundException()
        return target

    @staticmethod
    def _form(request: HTMXRequest, target: ReportTarget, form: dict, errors: dict, status: int = 200) -> Template:
        context = {
            "target": target,
            "form": form,
            "errors": errors,
            "reasons": _reasons(),
            "details_max": DETAILS_MAX,
        }
        template = "reports/_form.html" if wants_fragment(request) else "reports/form.html"
        return Template(template, context=context, status_code=status, headers=NO_STORE)

    async def _send(
        self,
        request: HTMXRequest,
        target: ReportTarget,
        data: dict,
        reports: ReportService,
        maybe_user: CurrentUser | None,
        settings: Settings,
    ) -> Template | Redirect:
        form = {"reason": form_text(data, "reason", 20), "details": form_text(data, "details", DETAILS_MAX + 1000)}
        sent = Redirect(path=f"/b/{target.slug}/report/sent", status_code=303)
        if form_text(data, HONEYPOT, 200).strip():  # a bot: answer as if sent, store nothing
            return self._sent(request, target) if wants_fragment(request) else sent
        try:
            valid = validate(form["reason"], form["details"])
        except FormErrors as error:
            return self._form(request, target, form, error.errors, 422)
        throttle = Throttle(request.app.stores.get("report_limits"), *PER_ADDRESS)
        key = f"addr:{client_address(request, settings.server.trusted_proxies)}"
        if await throttle.exceeded(key):
            message = i18n.gettext(
                "Many reports were sent from here in the last hour. Please try again later: what you wrote is kept."
            )
            return self._form(request, target, form, {"form": message}, 429)
        await reports.create(target, valid, maybe_user.id if maybe_user else None, i18n.current_language())
        await throttle.hit(key)
        return self._sent(request, target) if wants_fragment(request) else sent

    @staticmethod
    def _sent(request: HTMXRequest, target: ReportTarget) -> Template:
        template = "reports/_sent.html" if wants_fragment(request) else "reports/sent.html"
        return Template(template, context={"target": target}, headers=NO_STORE)

    @get("/report", name="report_business_form")
    async def business_form(
        self, request: HTMXRequest, slug: FromPath[str], reports: NamedDependency[ReportService]
    ) -> Template:
        target = await self._target(reports, slug, None)
        return self._form(request, target, {}, {})

    @post("/report", name="report_business", status_code=200, opt=OWN_TEXT_CHECKS)
    async def report_business(
        self,
        request: HTMXRequest,
        slug: FromPath[str],
        data: Form,
        reports: NamedDependency[ReportService],
        maybe_user: NamedDependency[CurrentUser | None],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        target = await self._target(reports, slug, None)
        return await self._send(request, target, data, reports, maybe_user, settings)

    @get("/reviews/{review_id:int}/report", name="report_review_form")
    async def review_form(
        self,
        request: HTMXRequest,
        slug: FromPath[str],
        review_id: FromPath[int],
        reports: NamedDependency[ReportService],
    ) -> Template:
        target = await self._target(reports, slug, review_id)
        return self._form(request, target, {}, {})

    @post("/reviews/{review_id:int}/report", name="report_review", status_code=200, opt=OWN_TEXT_CHECKS)
    async def report_review(
        self,
        request: HTMXRequest,
        slug: FromPath[str],
        review_id: FromPath[int],
        data: Form,
        reports: NamedDependency[ReportService],
        maybe_user: NamedDependency[CurrentUser | None],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        target = await self._target(reports, slug, review_id)
        return await self._send(request, target, data, reports, maybe_user, settings)

    @get("/report/sent", name="report_sent")
    async def sent(
        self, request: HTMXRequest, slug: FromPath[str], reports: NamedDependency[ReportService]
    ) -> Template:
        target = await self._target(reports, slug, None)
        return Template(
            "reports/sent.html", context={"target": target}, headers={**NO_STORE, "x-robots-tag": "noindex"}
        )


class ReportAdminController(Controller):
    """The operators' queue: open reports oldest first (or resolved ones), by kind; one report with its
    target and the three resolutions."""

    path = "/admin/reports"
    guards = [admin_only]

    @get("/", name="admin_reports", opt=OWN_TEXT_CHECKS)
    async def queue(
        self,
        reports: NamedDependency[ReportService],
        status: Annotated[str, QueryParameter(max_length=10)] = "open",
        kind: Annotated[str, QueryParameter(max_length=10)] = "",
        page: Annotated[int, QueryParameter(ge=1, le=10000)] = 1,
        done: Annotated[str, QueryParameter(max_length=12)] = "",
        n: Annotated[int, QueryParameter(ge=0, le=INT4_MAX)] = 0,
    ) -> Template:
        status = status if status in QUEUE_STATUSES else "open"
        kind = kind if kind in KINDS else ""
        rows = await reports.queue(status, kind, page)
        context = {
            "reports": rows[:PAGE_SIZE],
            "has_next": len(rows) > PAGE_SIZE,
            "page": page,
            "status": status,
            "kind": kind,
            "counts": await reports.counts(),
            "done": done if done in ACTIONS.values() else "",
            "done_count": n,
        }
        return Template("reports/admin_queue.html", context=context, headers=NO_STORE)

    async def _page(
        self, reports: ReportService, report_id: int, errors: dict | None = None, form: dict | None = None, status=200
    ) -> Template:
        report = await reports.get(_valid_id(report_id))
        if report is None:
            raise NotFoundException()
        context = {"r": report, "errors": errors or {}, "form": form or {}, "note_max": NOTE_MAX}
        return Template("reports/admin_report.html", context=context, status_code=status, headers=NO_STORE)

    @get("/{report_id:int}", name="admin_report")
    async def report(self, report_id: FromPath[int], reports: NamedDependency[ReportService]) -> Template:
        return await self._page(reports, report_id)

    @post("/{report_id:int}", name="admin_report_resolve", status_code=200, opt=OWN_TEXT_CHECKS)
    async def resolve(
        self,
        report_id: FromPath[int],
        data: Form,
        user: NamedDependency[CurrentUser],
        reports: NamedDependency[ReportService],
    ) -> Template | Redirect:
        _valid_id(report_id)
        action = form_text(data, "action", 10)
        if action not in ACTIONS:
            raise ValidationException("action must be hide, suspend or dismiss")
        note = form_text(data, "note", NOTE_MAX + 100)
        same_target = form_text(data, "same_target", 5) == "1"
        try:
            done = await reports.resolve(report_id, action, user.id, note, same_target)
        except LookupError as error:
            raise NotFoundException() from error
        except FormErrors as error:
            form = {"action": action, "note": note, "same_target": same_target}
            return await self._page(reports, report_id, error.errors, form, error.status)
        return Redirect(path=f"/admin/reports?done={done.resolution}&n={done.resolved}", status_code=303)


ROUTES = [ReportController, ReportAdminController]
