"""Storage: models, repositories and migrations. The only package that speaks SQL."""

from storage.db import Database
from storage.tx import Tx

__all__ = ["Database", "Tx"]
