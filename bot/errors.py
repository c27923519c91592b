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


class ConfigError(Exception):
    """A configuration problem, phrased for the person who wrote the file: ``key`` names the
    entry as it is written there (``[server] port``, a rules file's ``items[2].fact``),
    ``problem`` says in Chinese what is wrong and what is accepted, so that the two read as one
    sentence: ``[server] port 必须在 1 到 65535 之间，现在是 70000``. Never a secret's value."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key} {problem}")
        self.key = key
        self.problem = problem
