"""履职登记 (registered activities): :mod:`parse` reads them, :mod:`chat` registers them and
lets the office confirm or return them, :mod:`importer` checks a spreadsheet of many."""

from handlers.activities.chat import router

__all__ = ["router"]
