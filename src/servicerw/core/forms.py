"""The one way a service tells a controller that a form is wrong: per-field messages and a status."""

from __future__ import annotations


class FormErrors(Exception):
    """Per-field messages for a form, already translated (`form` for the form as a whole), and the HTTP
    status to answer with: 422 for values that are not valid, 403/409/429 where that is the reason."""

    def __init__(self, errors: dict, status: int = 422) -> None:
        super().__init__(errors)
        self.errors = errors
        self.status = status
