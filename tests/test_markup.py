"""Markup as browsers and audits read it. Forms: every attribute separate and well-formed (a glued
`value=""autocomplete` or `requiredaria-invalid` is lost by the parser: the password field was not required,
re-shown fields lost their error link for screen readers); the root files every browser asks for."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from tests.helpers import HTML, sign_up

KNOWN = {
    "id",
    "name",
    "type",
    "value",
    "autocomplete",
    "maxlength",
    "minlength",
    "required",
    "aria-invalid",
    "aria-describedby",
    "placeholder",
    "inputmode",
    "pattern",
    "checked",
    "hidden",
    "class",
    "hx-get",
    "hx-post",
    "hx-target",
    "hx-trigger",
    "hx-swap",
    "min",
    "max",
    "step",
    "accept",
    "multiple",
    "lang",
    "dir",
    "form",
    "size",
    "spellcheck",
    "autofocus",
    "disabled",
    "readonly",
    "list",
    "aria-label",
}


class Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, dict[str, str | None]] = {}
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(found["id"])
        if tag == "input" and found.get("type") != "hidden":
            self.inputs[found.get("name") or found.get("id") or str(len(self.inputs))] = found


def _inputs(html: str) -> Inputs:
    parser = Inputs()
    parser.feed(html)
    return parser


async def test_log_in_and_sign_up_fields_are_required_and_well_formed(client, db):
    for path in ("/account/login", "/account/signup", "/account/reset"):
        page = _inputs((await client.get(path, headers=HTML)).text)
        assert page.inputs, path
        for name, attrs in page.inputs.items():
            assert set(attrs) <= KNOWN, (path, name, sorted(set(attrs) - KNOWN))
            assert all('"' not in (value or "") for value in attrs.values()), (path, name, attrs)
        if "password" in page.inputs:
            assert "required" in page.inputs["password"], path
        assert "required" in page.inputs["email"], path


async def test_a_field_shown_again_with_its_error_points_to_the_message(client, db):
    response = await sign_up(client, email="not-an-email")
    assert response.status_code == 422
    page = _inputs(response.text)
    email = page.inputs["email"]
    assert set(email) <= KNOWN, sorted(set(email) - KNOWN)
    assert email["value"] == "not-an-email" and email["aria-invalid"] == "true"
    assert email["aria-describedby"] in page.ids and "required" in email


GLUED = re.compile(r'<[a-zA-Z][^>]*="[^"]*"[a-zA-Z-]')


async def test_no_page_glues_two_attributes_together(client, db):
    from tests.factories import make_business

    shop = await make_business(db)
    paths = ["/", "/search?q=amazi", f"/b/{shop['slug']}", "/account/login", "/account/signup", "/account/reset"]
    for path in paths:
        response = await client.get(path, headers=HTML)
        assert response.status_code == 200, path
        assert not GLUED.findall(response.text), (path, GLUED.findall(response.text)[:3])
    await sign_up(client)
    for path in ("/dashboard", "/dashboard/new"):
        response = await client.get(path, headers=HTML)
        assert response.status_code == 200, path
        assert not GLUED.findall(response.text), (path, GLUED.findall(response.text)[:3])


async def test_the_browsers_root_files_exist(client, db):
    icon = await client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "image/" in icon.headers["content-type"]
    robots = await client.get("/robots.txt")
    assert robots.status_code == 200 and "User-agent" in robots.text
    home = await client.get("/", headers=HTML)
    assert 'rel="icon"' in home.text
