"""The one way a service tells a controller that a form is wrong: per-field messages and a status."""

from __future__ import annotations

INT4_MAX = 2**31 - 1  # ids are PostgreSQL integers: a larger one cannot exist (and would make asyncpg raise)

# Route option (`opt=OWN_TEXT_CHECKS`) of a handler that checks control characters in its fields itself and
# re-renders its form with a message, the text kept: the edge check (`core.security.input_guard`) leaves its
# query and form text to it (ids, UTF-8 and the CSRF token are still checked at the edge).
OWN_TEXT_CHECKS = {"own_text_checks": True}


class FormErrors(Exception):
    """Per-field messages for a form, already translated (`form` for the form as a whole), and the HTTP
    status to answer with: 422 for values that are not valid, 403/409/429 where that is the reason."""

    def __init__(self, errors: dict, status: int = 422) -> None:
        super().__init__(errors)
        self.errors = errors
        self.status = status


def form_text(form: dict, name: str, limit: int = 300) -> str:
    """A urlencoded form's text field, cut to `limit` characters ("" when missing or not text)."""
    value = form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def has_control_characters(*values: str) -> bool:
    """NUL and other control characters (tab and newlines aside) have no place in form or query text, and
    PostgreSQL text cannot hold NUL at all (asyncpg would raise): refuse them at the edge with a 400."""
    return any(ch < " " and ch not in "\t\r\n" or ch == "\x7f" for value in values for ch in value)
