"""Every user-visible string is translated in all three catalogs, and the language is negotiated sanely."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from servicerw.core import i18n
from servicerw.settings import ROOT_DIR


def _source_messages() -> set[str]:
    ids: set[str] = set()
    method_map = [("src/**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT_DIR), method_map=method_map, options_map=options
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


@pytest.mark.parametrize("lang", ["rw", "fr", "en"])
def test_every_source_string_is_translated(lang):
    path = Path(i18n.LOCALE_DIR) / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        catalog = read_po(fh)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = _source_messages() - translated
    assert not missing, f"untranslated in {lang}: {sorted(missing)}"


@pytest.mark.parametrize(
    ("cookie", "accept", "expected"),
    [
        (None, None, "rw"),
        (None, "fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        (None, "de-DE,en;q=0.5,fr;q=0.7", "fr"),
        (None, "en-US", "en"),
        (None, "kin", "rw"),
        (None, "de, zh;q=0.4", "rw"),
        ("en", "fr", "en"),
        ("xx", "fr", "fr"),
        (None, "fr;q=abc, en", "en"),
    ],
)
def test_language_negotiation(cookie, accept, expected):
    assert i18n.negotiate(cookie, accept) == expected
