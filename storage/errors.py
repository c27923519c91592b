"""Telling a database that is away from a statement it refused."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError


def database_unavailable(exc: BaseException) -> bool:
    """True when the database could not do its part — locked by another process, its disk
    full, unreachable, the connection lost — rather than refusing a statement (a constraint,
    a bug). Trying the same work again later can succeed."""
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    # asyncpg's and the socket's own errors when a connection cannot be made at all.
    return isinstance(exc, ConnectionError | TimeoutError)
