"""A minimal administration area (role `admin`): the review moderation queue and email delivery figures.
The admin issue builds the full back office; anyone else gets 404, as for a page that does not exist."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Body, FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from servicerw.claims.services import ClaimService
from servicerw.core.audit import PAGE_SIZE as AUDIT_PAGE
from servicerw.core.audit import AuditFilter, AuditLog
from servicerw.core.auth import INT4_MAX, CurrentUser, admin_only, base_url
from servicerw.core.web import KIGALI
from servicerw.moderation.services import ModerationService
from servicerw.notifications.services import delivery_stats
from servicerw.reports.services import ReportService
from servicerw.reviews.services import DECISIONS, PAGE_SIZE, ReviewService
from servicerw.settings import Settings

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
NO_STORE = {"cache-control": "private, no-store"}


class AdminController(Controller):
    path = "/admin"
    guards = [admin_only]

    @get("/", name="admin")
    async def overview(
        self,
        reviews: NamedDependency[ReviewService],
        claims: NamedDependency[ClaimService],
        reports: NamedDependency[ReportService],
        moderation: NamedDependency[ModerationService],
    ) -> Template:
        context = {
            "pending_reviews": await reviews.pending_count(),
            "pending_claims": (await claims.counts()).pending,
            "open_reports": await reports.open_count(),
            "queues": await moderation.counts(),
            "delivery": await delivery_stats(24),
        }
        return Template("admin/home.html", context=context, headers=NO_STORE)

    @get("/reviews", name="admin_reviews")
    async def queue(
        self,
        reviews: NamedDependency[ReviewService],
        page: Annotated[int, QueryParameter(ge=1, le=10000)] = 1,
    ) -> Template:
        rows = await reviews.pending(page)
        context = {"reviews": rows[:PAGE_SIZE], "has_next": len(rows) > PAGE_SIZE, "page": page}
        return Template("admin/reviews.html", context=context, headers=NO_STORE)

    @post("/reviews/{review_id:int}", name="admin_review_decide")
    async def decide(
        self,
        request: Request,
        review_id: FromPath[int],
        data: Form,
        reviews: NamedDependency[ReviewService],
        settings: NamedDependency[Settings],
        user: NamedDependency[CurrentUser],
    ) -> Redirect:
        decision = data.get("decision") or ""
        if decision not in DECISIONS:
            raise ValidationException("decision must be approve or reject")
        moderated = await reviews.moderate(review_id, decision, base_url(settings.server, request), actor_id=user.id)
        if moderated is None:
            raise NotFoundException()
        return Redirect(path=f"/admin/reviews?done={moderated.status}", status_code=303)

    @get("/audit", name="admin_audit")
    async def audit_log(
        self,
        audit: NamedDependency[AuditLog],
        action: Annotated[str, QueryParameter(max_length=40)] = "",
        target_type: Annotated[str, QueryParameter(max_length=20)] = "",
        target_id: Annotated[int | None, QueryParameter(ge=1, le=INT4_MAX)] = None,
        actor: Annotated[str, QueryParameter(max_length=254)] = "",
        since: FromQuery[date | None] = None,
        until: FromQuery[date | None] = None,
        page: Annotated[int, QueryParameter(ge=1, le=10000)] = 1,
    ) -> Template:
        """Every operator action, newest first; filter by action, target, operator (email) and days."""
        if since and until and since > until:
            raise ValidationException("since must not be after until")
        where = AuditFilter(
            action=action,
            target_type=target_type,
            target_id=target_id,
            actor_email=actor.strip().lower(),
            since=datetime.combine(since, time(), KIGALI) if since else None,
            until=datetime.combine(until + timedelta(days=1), time(), KIGALI) if until else None,
        )
        rows = await audit.entries(where, page)
        query = {"action": action, "target_type": target_type, "target_id": target_id or "", "actor": actor}
        query |= {"since": since or "", "until": until or ""}
        context = {
            "entries": rows[:AUDIT_PAGE],
            "has_next": len(rows) > AUDIT_PAGE,
            "page": page,
            "actions": await audit.actions(),
            "target_types": await audit.target_types(),
            "filters": query,
            "query": urlencode({k: v for k, v in query.items() if v}),
        }
        return Template("admin/audit.html", context=context, headers=NO_STORE)


ROUTES = [AdminController]
