"""The small HTML part of our emails, made from the plain text (the text is the message; HTML only adds
paragraphs and clickable links). Everything the user typed is escaped: a `<script>` arrives as text."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from servicerw.notifications.services import queue_email

_LINK = re.compile(r"(https?://[^\s<>\"']+)")


def email_html(text: str, lang: str) -> str:
    paragraphs = []
    for block in re.split(r"\n{2,}", text.strip()):
        escaped = str(escape(block))
        linked = _LINK.sub(lambda m: f'<a href="{m.group(1)}">{m.group(1)}</a>', escaped)
        paragraphs.append("<p>" + linked.replace("\n", "<br>") + "</p>")
    body = "\n".join(paragraphs)
    return str(
        Markup(
            '<!doctype html><html lang="{lang}"><body style="font-family:sans-serif;font-size:16px;'
            'line-height:1.5;color:#1a1a1a;max-width:36em">{body}'
            '<p style="color:#666;font-size:13px">ServiceRW</p></body></html>'
        ).format(lang=lang, body=Markup(body))
    )


async def queue_message(conn, *, to: str, subject: str, body: str, language: str, kind: str) -> int:
    """Queue an email (plain text + the small HTML made from it) in the caller's transaction."""
    return await queue_email(
        conn, to=to, subject=subject, body=body, html=email_html(body, language), language=language, kind=kind
    )
