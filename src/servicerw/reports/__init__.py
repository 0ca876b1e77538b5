"""Abuse reports: visitors report a listing or a review; operators hide the review, suspend the listing or
dismiss the report."""
