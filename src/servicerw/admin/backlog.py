"""What waits for the operators and the workers, as Prometheus gauges read at scrape time: reviews waiting
for moderation, photos waiting for processing, emails waiting to be sent or being sent. One query, each part
answered by a partial index (`idx_reviews_pending`, `idx_email_outbox_due`) or a small table; registered
with `core.metrics.on_scrape` by `assembly.build_services`."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily

from servicerw.core import db

BACKLOG = """
SELECT (SELECT count(*) FROM reviews WHERE status = 'pending') AS reviews,
       (SELECT count(*) FROM business_images WHERE status = 'pending') AS photos,
       count(*) FILTER (WHERE status = 'pending') AS emails_pending,
       count(*) FILTER (WHERE status = 'sending') AS emails_sending
FROM email_outbox WHERE status IN ('pending', 'sending')
"""


async def backlog_metrics() -> list[GaugeMetricFamily]:
    row = await db.fetchrow(BACKLOG)
    reviews = GaugeMetricFamily("servicerw_reviews_pending", "Reviews waiting for moderation")
    reviews.add_metric([], row["reviews"])
    photos = GaugeMetricFamily("servicerw_photos_pending", "Uploaded photos waiting to be processed")
    photos.add_metric([], row["photos"])
    outbox = GaugeMetricFamily(
        "servicerw_email_outbox_waiting",
        "Emails not sent yet, whatever their age, by status (pending: waiting for a try; sending: claimed)",
        labels=["status"],
    )
    outbox.add_metric(["pending"], row["emails_pending"])
    outbox.add_metric(["sending"], row["emails_sending"])
    return [reviews, photos, outbox]
