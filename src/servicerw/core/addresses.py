"""Email addresses, checked by a maintained library (email-validator) wherever one is accepted: sign-up,
log-in and reset forms, inquiries, listings. A hand-written pattern let `a"><svg/onload=…>@x.example` through
as a To: address; the library knows the RFC syntax (and refuses quoted local parts, display names, special-use
domains like .local and .test). Deliverability (DNS) is not checked: no network call in a request."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

MAX_LENGTH = 254


def valid_email(text: str) -> str | None:
    """The address, trimmed and lower-cased, if it is one we can send to; else None."""
    address = text.strip().lower()
    if not address or len(address) > MAX_LENGTH:
        return None
    try:
        checked = validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return None
    return checked.ascii_email or checked.normalized  # an internationalised domain in its ASCII (IDNA) form
