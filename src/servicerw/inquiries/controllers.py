"""Inquiries: the form on every profile (works without JavaScript; with htmx the form is swapped for the
confirmation in place), its confirmation page, and the owner's inbox in the dashboard."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Body, FromPath, QueryParameter
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from servicerw.businesses.services import ProfileService
from servicerw.core import i18n
from servicerw.core.auth import CurrentUser, OwnedBusiness, base_url
from servicerw.core.forms import FormErrors
from servicerw.core.sessions import client_address
from servicerw.core.web import wants_fragment
from servicerw.inquiries.limits import InquiryLimits
from servicerw.inquiries.services import (
    INBOX_STATUSES,
    PAGE_SIZE,
    InquiryService,
    parse_key,
    sent_inquiry,
    validate,
)
from servicerw.settings import Settings

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
NO_STORE = {"cache-control": "private, no-store", "vary": "HX-Request"}
FORM_FIELDS = ("name", "phone", "email", "message", "preferred_contact")
HONEYPOT = "website"  # hidden from people; bots fill it in


def _limits(request: Request, settings: Settings) -> InquiryLimits:
    return InquiryLimits(request.app.stores.get("inquiry_limits"), settings)


class InquiryController(Controller):
    path = "/b/{slug:str}/inquiries"
    request_class = HTMXRequest

    @post("/", name="inquiry_send", status_code=200)
    async def send(
        self,
        request: HTMXRequest,
        slug: FromPath[str],
        data: Form,
        inquiries: NamedDependency[InquiryService],
        profiles: NamedDependency[ProfileService],
        maybe_user: NamedDependency[CurrentUser | None],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        business = await inquiries.business_for_inquiry(slug[:180])
        if business is None:
            raise NotFoundException()
        form = {k: (data.get(k) or "")[:3000] for k in FORM_FIELDS}
        key = (data.get("key") or "")[:36]
        if (data.get(HONEYPOT) or "").strip():
            # A bot: answer as if sent, store and send nothing.
            contact = form["preferred_contact"] or "phone"
            sent = sent_inquiry(business["business_name"], slug, form["email"], form["message"], contact)
            fragment = wants_fragment(request)
            template = "inquiries/_sent.html" if fragment else "inquiries/sent.html"
            return Template(template, context={"sent": sent, "fragment": fragment}, headers=NO_STORE)

        limits = _limits(request, settings)
        device = limits.device(request.cookies.get(limits.cookie_name))
        # A browser without a valid device cookie gets one with this answer, whatever it is.
        cookies = [limits.cookie(device)] if device.new else []

        async def again(errors: dict[str, str], status: int) -> Template:
            inquiry = {"form": form, "errors": errors, "key": key if parse_key(key) else ""}
            if wants_fragment(request):
                inquiry["summary_in_form"] = True  # the swapped section starts with the error summary
                context = {"b": {"slug": slug, "name": business["business_name"]}, "inquiry": inquiry}
                return Template(
                    "inquiries/_form.html", context=context, status_code=status, headers=NO_STORE, cookies=cookies
                )
            # Without JavaScript the whole profile comes back, the error summary at its top (focused).
            profile = await profiles.profile(slug, i18n.current_language())
            if profile is None:
                raise NotFoundException()
            page = await profiles.page(profile, maybe_user.id if maybe_user else None, inquiry=inquiry)
            return Template(
                "businesses/profile.html",
                context=page.context(),
                status_code=status,
                headers=NO_STORE,
                cookies=cookies,
            )

        try:
            valid = validate(data)
        except FormErrors as error:
            if "form" in error.errors:  # expired or missing key: a fresh one for the next try
                key = ""
            return await again(error.errors, 422)
        address = client_address(request, settings.server.trusted_proxies)
        if await limits.exceeded(device, address, business["id"]):
            message = i18n.gettext(
                "Too many messages were sent from here or to this business in the last hour. "
                "Please try again later, or call the business."
            )
            return await again({"form": message}, 429)
        try:
            _inquiry, created = await inquiries.create(
                business, valid, i18n.current_language(), base_url(settings.server, request)
            )
        except FormErrors as error:
            return await again(error.errors, 422)
        if created:
            await limits.count(device, address, business["id"])
        if wants_fragment(request):  # what was sent is what the form holds (a repeated key holds the same)
            sent = sent_inquiry(business["business_name"], slug, valid.email, valid.message, valid.preferred_contact)
            return Template(
                "inquiries/_sent.html", context={"sent": sent, "fragment": True}, headers=NO_STORE, cookies=cookies
            )
        return Redirect(path=f"/b/{slug}/inquiries/{valid.key}", status_code=303, cookies=cookies)

    @get("/{key:str}", name="inquiry_sent")
    async def sent(
        self, slug: FromPath[str], key: FromPath[str], inquiries: NamedDependency[InquiryService]
    ) -> Template:
        """The confirmation after sending (the key is the form's random idempotency key)."""
        parsed = parse_key(key)
        sent = await inquiries.sent(slug[:180], parsed) if parsed else None
        if sent is None:
            raise NotFoundException()
        return Template(
            "inquiries/sent.html",
            context={"sent": sent, "fragment": False},
            headers={**NO_STORE, "x-robots-tag": "noindex"},
        )


class InboxController(Controller):
    """The owner's messages: filter by status, open one (marks it read), reply by email, change status."""

    path = "/dashboard/{business_id:int}/inbox"
    request_class = HTMXRequest

    @get("/", name="inbox")
    async def inbox(
        self,
        request: HTMXRequest,
        owned_business: NamedDependency[OwnedBusiness],
        inquiries: NamedDependency[InquiryService],
        status: Annotated[str, QueryParameter(max_length=10)] = "",
        page: Annotated[int, QueryParameter(ge=1, le=10000)] = 1,
        done: Annotated[str, QueryParameter(max_length=10)] = "",
    ) -> Template:
        business, business_id = owned_business, owned_business.id
        status = status if status in INBOX_STATUSES else ""
        rows = await inquiries.inbox(business_id, status, page)
        context = {
            "business": business,
            "messages": rows[:PAGE_SIZE],
            "has_next": len(rows) > PAGE_SIZE,
            "page": page,
            "status": status,
            "statuses": INBOX_STATUSES,
            "counts": await inquiries.counts(business_id),
            "done": done,
        }
        template = "inquiries/_inbox_list.html" if wants_fragment(request) else "inquiries/inbox.html"
        return Template(template, context=context, headers=NO_STORE)

    async def _message_page(
        self,
        business,
        inquiries: InquiryService,
        inquiry: dict,
        errors: dict | None = None,
        reply: str = "",
        status: int = 200,
        done: str = "",
    ) -> Template:
        context = {
            "business": business,
            "m": inquiry,
            "errors": errors or {},
            "reply": reply,
            "statuses": INBOX_STATUSES,
            "done": done,
            "counts": await inquiries.counts(business.id),
        }
        return Template("inquiries/inbox_message.html", context=context, status_code=status, headers=NO_STORE)

    @get("/{inquiry_id:int}", name="inbox_message")
    async def message(
        self,
        owned_business: NamedDependency[OwnedBusiness],
        inquiry_id: FromPath[int],
        inquiries: NamedDependency[InquiryService],
        done: Annotated[str, QueryParameter(max_length=10)] = "",
    ) -> Template:
        inquiry = await inquiries.open(owned_business.id, inquiry_id)
        if inquiry is None:
            raise NotFoundException()
        return await self._message_page(owned_business, inquiries, inquiry, done=done)

    @post("/{inquiry_id:int}/reply", name="inbox_reply", status_code=200)
    async def reply(
        self,
        request: HTMXRequest,
        owned_business: NamedDependency[OwnedBusiness],
        inquiry_id: FromPath[int],
        data: Form,
        inquiries: NamedDependency[InquiryService],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        business, business_id = owned_business, owned_business.id
        text = (data.get("reply") or "")[:5000]
        try:
            await inquiries.reply(
                {"id": business.id, "slug": business.slug, "business_name": business.business_name},
                inquiry_id,
                text,
                base_url(settings.server, request),
            )
        except LookupError as error:
            raise NotFoundException() from error
        except FormErrors as error:
            inquiry = await inquiries.open(business_id, inquiry_id)
            return await self._message_page(business, inquiries, inquiry, error.errors, text, status=422)
        return Redirect(path=f"/dashboard/{business_id}/inbox/{inquiry_id}?done=replied", status_code=303)

    @post("/{inquiry_id:int}/status", name="inbox_status")
    async def set_status(
        self,
        owned_business: NamedDependency[OwnedBusiness],
        inquiry_id: FromPath[int],
        data: Form,
        inquiries: NamedDependency[InquiryService],
    ) -> Redirect:
        business_id = owned_business.id
        status = data.get("status") or ""
        if status not in INBOX_STATUSES:
            raise ValidationException("unknown status")
        if status == "replied":  # answered by phone or WhatsApp
            changed = await inquiries.mark_replied(business_id, inquiry_id)
        else:
            changed = await inquiries.set_status(business_id, inquiry_id, status)
        if not changed:
            raise NotFoundException()
        return Redirect(path=f"/dashboard/{business_id}/inbox?done=status", status_code=303)


ROUTES = [InquiryController, InboxController]
