"""Languages: Kinyarwanda (default), English, French.

Catalogs are Babel `.po` files under `servicerw/locale`; they are compiled in memory at start-up
(no `.mo` build step to forget). The active language lives in a context variable that the Jinja
gettext callables read, so one shared Jinja environment serves every language.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from servicerw.settings import PACKAGE_DIR

LANGUAGES = ("rw", "en", "fr")
DEFAULT_LANGUAGE = "rw"
LANGUAGE_NAMES = {"rw": "Ikinyarwanda", "en": "English", "fr": "Français"}
COOKIE_NAME = "lang"
LOCALE_DIR = PACKAGE_DIR / "locale"

_current: ContextVar[str] = ContextVar("servicerw_language", default=DEFAULT_LANGUAGE)


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> NullTranslations:
    po_path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=lang if lang != "rw" else "rw")
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain="messages")


def activate(lang: str) -> None:
    _current.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


@contextmanager
def using(lang: str) -> Iterator[None]:
    """Translate in another language for a while (an email to someone who chose another language)."""
    token = _current.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _current.reset(token)


def current_language() -> str:
    return _current.get()


def gettext(message: str, **variables) -> str:
    text = translations(_current.get()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables) -> str:
    text = translations(_current.get()).ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


_ = gettext


def babel_locale(lang: str | None = None) -> Locale:
    return _locale(lang or _current.get())


@lru_cache(maxsize=len(LANGUAGES))
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


def negotiate(cookie: str | None, accept_language: str | None, query: str | None = None) -> str:
    """Explicit choice (query, then cookie) first, then the browser's Accept-Language, then Kinyarwanda."""
    for choice in (query, cookie):
        if choice and choice in LANGUAGES:
            return choice
    if accept_language:
        # Hand-written: Babel's negotiate_locale takes a list, not an Accept-Language header with q-values.
        weighted: list[tuple[float, int, str]] = []
        for position, part in enumerate(accept_language.split(",")[:20]):
            tag, _sep, params = part.strip().partition(";")
            quality = 1.0
            if params.strip().startswith("q="):
                try:
                    quality = float(params.strip()[2:])
                except ValueError:
                    quality = 0.0
            base = tag.strip().lower().split("-")[0]
            if base == "kin":
                base = "rw"
            if base in LANGUAGES and quality > 0:
                weighted.append((-quality, position, base))
        if weighted:
            return min(weighted)[2]
    return DEFAULT_LANGUAGE


def pick(lang: str, en: str | None, rw: str | None, fr: str | None) -> str:
    """A text in the wanted language, falling back to the others so nothing shows empty."""
    by_lang = {"en": en, "rw": rw, "fr": fr}
    for candidate in (lang, "en", "rw", "fr"):
        if by_lang.get(candidate):
            return by_lang[candidate] or ""
    return ""
