"""Queueing emails in the outbox (the durable sender with providers and failover is the notifications issue)."""

from __future__ import annotations


async def queue_email(conn, *, to: str, subject: str, body: str, language: str, kind: str, html: str = "") -> int:
    """Insert an email into the outbox on `conn`, inside the caller's transaction: if that transaction
    rolls back, the email never existed."""
    return await conn.fetchval(
        """INSERT INTO email_outbox (to_address, subject, body_text, body_html, language, kind)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
        to,
        subject[:200],
        body,
        html,
        language,
        kind,
    )
