"""Domain exceptions: raised where a problem is found, turned into a Chinese reply in one place."""

from __future__ import annotations


class UserFacingError(Exception):
    """Something the sender should be told, in Chinese, instead of a result."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PermissionDenied(UserFacingError):
    """The sender's role does not allow this (a member trying a secretary's command)."""


class NotFound(UserFacingError):
    pass
