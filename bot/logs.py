"""Logging set-up, with every configured secret redacted from every line."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "***"


class RedactSecrets(logging.Filter):
    """Replaces secret values (and WeCom key/token query parameters) in the formatted message."""

    _QUERY = re.compile(r"((?:access_token|corpsecret|key|secret)=)[^&\s\"']+", re.IGNORECASE)

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._QUERY.sub(rf"\1{REDACTED}", message)
        for secret in self.secrets:
            cleaned = cleaned.replace(secret, REDACTED)
        if record.exc_info and record.exc_text is None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            exc_text = self._QUERY.sub(rf"\1{REDACTED}", record.exc_text)
            for secret in self.secrets:
                exc_text = exc_text.replace(secret, REDACTED)
            record.exc_text = exc_text
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def setup_logging(level: str, secrets: Iterable[str]) -> RedactSecrets:
    """Configure the root logger once; returns the filter so callers can add secrets later."""
    redactor = RedactSecrets(secrets)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(redactor)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    pin_library_levels()
    return redactor


# Loggers whose level holds whatever ``[log] level`` says.
PINNED_LEVELS = {
    "aiohttp.access": logging.WARNING,
    "alembic": logging.WARNING,  # "Running upgrade …" is noise
    "apscheduler": logging.WARNING,
    # aiosqlite's DEBUG lines carry SQL parameters, which include the stored access token.
    "aiosqlite": logging.INFO,
}


def pin_library_levels() -> None:
    """Set the :data:`PINNED_LEVELS` (``setup_logging`` does; tests that capture every logger
    at DEBUG do too, to see what a deployment would log)."""
    for name, level in PINNED_LEVELS.items():
        logging.getLogger(name).setLevel(level)
