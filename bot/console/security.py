"""The console's security primitives: password hashing, session and CSRF tokens, cookies.

- Passwords: argon2id (argon2-cffi's RFC 9106 defaults), verified in a worker thread because a
  verification deliberately costs tens of milliseconds and 64 MiB; unknown usernames are verified
  against a dummy hash so that timing does not tell which accounts exist.
- Sessions: 256-bit random tokens; the database keeps only their SHA-256, so a leaked table
  does not hand out live sessions. Expiry is decided by the server, not by the cookie.
- CSRF: one random token per session, compared in constant time. The login form, which has
  no session yet, uses a double-submit cookie instead.
- Cookies: ``Secure`` (configurable off for plain-HTTP localhost), ``HttpOnly``,
  ``SameSite=Strict``; with ``Secure`` the session cookie carries the ``__Host-`` prefix, which
  browsers only accept from a secure origin, for path ``/`` and without a domain.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bot.config import ConsoleConfig

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256  # argon2 copes with anything; a megabyte "password" is an attack
TOKEN_BYTES = 32  # 256 bits


class Passwords:
    """argon2id hashing; the blocking work runs in a thread, off the event loop."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    async def verify(self, password_hash: str | None, password: str) -> tuple[bool, bool]:
        """(matches, needs rehash). ``None`` (no such account) still costs one verification."""
        if password_hash is None:
            if self._dummy is None:
                self._dummy = await asyncio.to_thread(self.hasher.hash, secrets.token_hex(16))
            await asyncio.to_thread(self._check, self._dummy, password)
            return False, False
        ok = await asyncio.to_thread(self._check, password_hash, password)
        return ok, ok and self.hasher.check_needs_rehash(password_hash)

    def _check(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def password_problem(password: str) -> str | None:
    """Why ``password`` is not acceptable for a new account (Chinese), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"密码至少需要{MIN_PASSWORD_LENGTH}个字符"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"密码最多{MAX_PASSWORD_LENGTH}个字符"
    if password.strip() != password:
        return "密码首尾不能有空格"
    return None


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_token(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; a missing or empty value never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def client_ip(request: web.Request, trusted_proxies: Sequence[str] = ()) -> str:
    """The client's address for the lockout.

    ``X-Forwarded-For`` is believed only as far as it was written by ``trusted_proxies``
    (``[console] trusted_proxies``; none by default): from the right, each entry a trusted
    proxy appended names the hop before it, and the first address that is not a trusted proxy
    is the client. Anyone else could write anything there, so from an untrusted peer (loopback
    included: a local process or a proxy the office did not name) the header is ignored.
    """
    peer = request.remote or ""
    networks = _networks(tuple(trusted_proxies))
    if not networks or not _within(peer, networks):
        return peer[:64]
    written = ",".join(request.headers.getall("X-Forwarded-For", []))
    hops = [hop.strip() for hop in written.split(",")]
    client = peer
    for hop in reversed([hop for hop in hops if hop]):
        client = hop
        if not _within(hop, networks):
            break
    return client[:64]


@functools.lru_cache(maxsize=8)
def _networks(
    proxies: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _within(
    address: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


@dataclass(frozen=True, slots=True)
class CookiePolicy:
    """Names and attributes of the console's cookies."""

    secure: bool
    max_age: int

    @classmethod
    def of(cls, config: ConsoleConfig) -> CookiePolicy:
        return cls(secure=config.secure_cookies, max_age=int(config.session_hours * 3600))

    @property
    def session_name(self) -> str:
        return "__Host-lvzhi_console" if self.secure else "lvzhi_console"

    @property
    def login_csrf_name(self) -> str:
        return "__Host-lvzhi_login" if self.secure else "lvzhi_login"

    @property
    def path(self) -> str:
        # __Host- cookies must have path "/"; without it, keep the cookie to the console.
        return "/" if self.secure else "/console/"

    def set(self, response: web.StreamResponse, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=self.path,
            secure=self.secure,
            httponly=True,
            samesite="Strict",
        )

    def clear(self, response: web.StreamResponse, name: str) -> None:
        self.set(response, name, "", 0)
