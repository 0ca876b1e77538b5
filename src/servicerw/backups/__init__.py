"""Backups and restores of the database and the image storage (`servicerw backup`, `servicerw restore`)."""
