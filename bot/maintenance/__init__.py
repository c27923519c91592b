"""Keeping an installation for years: backups and restores, retention, the daily run."""
