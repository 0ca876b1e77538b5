"""SMS alerts: the owner's page `/dashboard/sms` (number, code, the "text me" checkbox; plain forms, no
JavaScript needed) and the providers' webhooks `/webhooks/sms/<provider>/<secret>/delivery|inbound`
(delivery reports and incoming SMS for the opt-out words; CSRF-exempt, authenticated by the secret)."""

from __future__ import annotations

import hmac
import json
from typing import Annotated
from urllib.parse import parse_qsl

import structlog
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Response, Template

from servicerw.core import i18n
from servicerw.core.auth import CurrentUser
from servicerw.core.forms import FormErrors, form_text
from servicerw.notifications.services import record_delivery_report
from servicerw.notifications.sms import SmsAlerts, webhook_secret
from servicerw.settings import Settings

log = structlog.get_logger(__name__)

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
NO_STORE = {"cache-control": "private, no-store"}
DONE = ("sent", "verified", "on", "off", "removed")
WEBHOOK_MAX_BODY = 16 * 1024

# Delivery report statuses: final ones only (Africa's Talking also reports Sent, Submitted, Buffered).
DELIVERED = {"delivered", "success"}
FAILED = {"failed", "undelivered", "rejected", "expired", "absentsubscriber", "insufficientcredit"}


class SmsSettingsController(Controller):
    path = "/dashboard/sms"

    async def _page(self, sms_alerts: SmsAlerts, user: CurrentUser, **extra) -> Template:
        context = {"sms": await sms_alerts.status(user.id), "errors": {}, "phone": "", "done": ""}
        context.update(extra)
        status = context.pop("status", 200)
        return Template("dashboard/sms.html", context=context, status_code=status, headers=NO_STORE)

    @get("/", name="sms_settings")
    async def page(
        self,
        user: NamedDependency[CurrentUser],
        sms_alerts: NamedDependency[SmsAlerts],
        done: Annotated[str, QueryParameter(max_length=12)] = "",
    ) -> Template:
        return await self._page(sms_alerts, user, done=done if done in DONE else "")

    @post("/phone", name="sms_phone", status_code=200)
    async def phone(
        self, data: Form, user: NamedDependency[CurrentUser], sms_alerts: NamedDependency[SmsAlerts]
    ) -> Template | Redirect:
        raw = form_text(data, "phone", 40)
        try:
            await sms_alerts.send_code(user.id, raw, i18n.current_language())
        except FormErrors as error:
            return await self._page(sms_alerts, user, errors=error.errors, phone=raw, status=error.status)
        return Redirect(path="/dashboard/sms?done=sent", status_code=303)

    @post("/code", name="sms_code", status_code=200)
    async def code(
        self, data: Form, user: NamedDependency[CurrentUser], sms_alerts: NamedDependency[SmsAlerts]
    ) -> Template | Redirect:
        try:
            await sms_alerts.confirm(user.id, form_text(data, "code", 20))
        except FormErrors as error:
            return await self._page(sms_alerts, user, errors=error.errors, status=error.status)
        return Redirect(path="/dashboard/sms?done=verified", status_code=303)

    @post("/alerts", name="sms_alerts", status_code=200)
    async def alerts(
        self, data: Form, user: NamedDependency[CurrentUser], sms_alerts: NamedDependency[SmsAlerts]
    ) -> Template | Redirect:
        on = form_text(data, "alerts") == "on"
        try:
            await sms_alerts.set_alerts(user.id, on)
        except FormErrors as error:
            return await self._page(sms_alerts, user, errors=error.errors, status=error.status)
        return Redirect(path=f"/dashboard/sms?done={'on' if on else 'off'}", status_code=303)

    @post("/remove", name="sms_remove", status_code=200)
    async def remove(self, user: NamedDependency[CurrentUser], sms_alerts: NamedDependency[SmsAlerts]) -> Redirect:
        await sms_alerts.remove(user.id)
        return Redirect(path="/dashboard/sms?done=removed", status_code=303)


async def _webhook_fields(request: Request, settings: Settings, provider: str, secret: str) -> dict[str, str]:
    """The callback's fields (JSON object or form), after checking the provider and the URL's secret (a
    wrong one is a 404, like a path that does not exist)."""
    if provider not in ("pindo", "africastalking") or not hmac.compare_digest(
        secret.encode(), webhook_secret(settings).encode()
    ):
        raise NotFoundException()
    body = await request.body()
    fields: dict[str, str] = {}
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict):
            fields = {str(k): str(v) for k, v in data.items() if isinstance(v, str | int)}
    else:
        fields = dict(parse_qsl(body.decode("utf-8", "replace")))
    return fields


@post(
    "/webhooks/sms/{provider:str}/{secret:str}/delivery",
    name="sms_delivery_report",
    status_code=200,
    request_max_body_size=WEBHOOK_MAX_BODY,
    include_in_schema=False,
)
async def delivery_report(
    request: Request, provider: FromPath[str], secret: FromPath[str], settings: NamedDependency[Settings]
) -> Response:
    """Pindo posts JSON {sms_id, status, …}; Africa's Talking a form (id, status, phoneNumber, failureReason).
    Intermediate statuses are acknowledged and ignored; every answer for a valid URL is 200 (a provider
    retries anything else)."""
    fields = await _webhook_fields(request, settings, provider, secret)
    message_id = fields.get("sms_id") or fields.get("id") or ""
    status = fields.get("status", "").replace(" ", "").lower()
    if message_id and (status in DELIVERED or status in FAILED):
        found = await record_delivery_report(provider, message_id, status in DELIVERED)
        if not found:
            log.info("sms_report_unknown_message", provider=provider, message_id=message_id[:60])
    return Response("ok", media_type="text/plain", headers=NO_STORE)


@post(
    "/webhooks/sms/{provider:str}/{secret:str}/inbound",
    name="sms_inbound",
    status_code=200,
    request_max_body_size=WEBHOOK_MAX_BODY,
    include_in_schema=False,
)
async def inbound(
    request: Request,
    provider: FromPath[str],
    secret: FromPath[str],
    settings: NamedDependency[Settings],
    sms_alerts: NamedDependency[SmsAlerts],
) -> Response:
    """An SMS sent to our number (Africa's Talking: form from, to, text, id, date): STOP, HAGARIKA,
    HAGARIKA UBUTUMWA or ARRET from a verified number turns its alerts off."""
    fields = await _webhook_fields(request, settings, provider, secret)
    if await sms_alerts.inbound(fields.get("from", ""), fields.get("text", "")):
        log.info("sms_opt_out", provider=provider)
    return Response("ok", media_type="text/plain", headers=NO_STORE)


ROUTES = [SmsSettingsController, delivery_report, inbound]
