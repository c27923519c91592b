"""What the fault tests share: a roster to seed, WeCom's side of a load of callbacks (really
encrypted, retried until answered 200 as WeCom does), and reading back what was stored and
sent.

The server under test is either ``lvzhi serve`` in a subprocess (:mod:`tests.procs`) or the
same app in this process (:func:`serve_in_process`); both are reached over loopback HTTP at a
``base_url``, and both send through the real :class:`~bot.wecom.sender.WeComSender` to a
:class:`~tests.fakewecom.FakeWeCom` in this process.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.app import create_app
from bot.appkeys import RUNTIME
from bot.config import Config
from bot.runtime import Runtime
from storage import Database
from storage.migrate import upgrade
from storage.models import Delivery, Group, GroupMember, InboundMessage, Member
from tests.fakewecom import FakeWeCom
from tests.wecom_client import Callback, WeComApp, encrypted_callback, text_message_xml

APP = WeComApp()
# Short leases and backoffs, so that a killed process's work comes free within the tests'
# time and retries happen in tenths of seconds, not minutes.
FAST_DELIVERY: dict[str, Any] = {
    "concurrency": 8,
    "batch_size": 50,
    "lease_seconds": 2,
    "poll_interval_seconds": 0.05,
    "backoff_base_seconds": 0.1,
    "backoff_max_seconds": 0.5,
    "max_attempts": 30,
    "cooldown_seconds": 1.0,
}


def fake_wecom(**options: Any) -> FakeWeCom:
    """A fake WeCom that knows the test app's corp id, secret and agent id."""
    return FakeWeCom(corp_id=APP.corp_id, secret=APP.secret, agent_id=APP.agent_id, **options)


def wecom_table(fake: FakeWeCom, **overrides: Any) -> dict[str, Any]:
    """``[wecom]``: the test app's callback credentials, its API at the fake. Raw sends (no
    duplicate check) unless overridden, so that every resend shows as a duplicate."""
    return {
        **APP.config(),
        "api_base": fake.url,
        "request_timeout_seconds": 2.0,
        "duplicate_check_seconds": 0,
        **overrides,
    }


def server_settings(db_url: str, fake: FakeWeCom, **tables: dict[str, Any]) -> dict[str, Any]:
    """A whole config as tables: WeCom at the fake, fast delivery, no planner, no console."""
    settings: dict[str, dict[str, Any]] = {
        "database": {"url": db_url},
        "wecom": wecom_table(fake),
        "delivery": dict(FAST_DELIVERY),
        "scheduler": {"enabled": False},
        "console": {"enabled": False},
    }
    for name, values in tables.items():
        settings.setdefault(name, {}).update(values)
    return settings


# -- the roster ------------------------------------------------------------------------------


def member_ids(count: int, prefix: str = "m") -> list[str]:
    return [f"{prefix}{n:04d}" for n in range(count)]


def robot_key(n: int) -> str:
    return f"fault-robot-{n:03d}"


async def seed(
    db_url: str,
    *,
    members: Iterable[str] = (),
    secretary: str | None = None,
    robot_groups: int = 0,
    robot_key_of: Callable[[int], str] = robot_key,
) -> None:
    """Migrate, then add ``members``, a secretary, and ``robot_groups`` study groups with one
    member and one group robot each (so a notice to 全体委员 is one robot post per group)."""
    db = Database(db_url)
    try:
        await upgrade(db)
        now = datetime.now(UTC)
        async with db.transaction() as tx:
            for userid in members:
                tx.session.add(_member(userid, now))
            if secretary:
                tx.session.add(_member(secretary, now, role="secretary"))
            for n in range(robot_groups):
                group = Group(
                    name=f"第{n + 1}学习小组",
                    kind="study_group",
                    robot_key=robot_key_of(n),
                    created_at=now,
                )
                member = _member(f"g{n:03d}", now)
                tx.session.add_all([group, member])
                await tx.flush()
                tx.session.add(GroupMember(group_id=group.id, member_id=member.id))
    finally:
        await db.dispose()


def _member(userid: str, now: datetime, role: str = "member") -> Member:
    return Member(userid=userid, name=f"委员{userid}", role=role, created_at=now, updated_at=now)


# -- callbacks as WeCom sends them -----------------------------------------------------------


def text_callback(sender: str, msg_id: int | str, content: str = "帮助") -> Callback:
    """A text message from ``sender``, encrypted and signed now."""
    now = datetime.now(UTC)
    xml = text_message_xml(APP, sender=sender, content=content, msg_id=msg_id, create_time=now)
    return encrypted_callback(APP, xml, timestamp=now)


def dedup_key(sender: str, msg_id: int | str) -> str:
    return f"app:{APP.agent_id}:{sender}:{msg_id}"


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP attempt: the status (None when the connection failed) and how long it took."""

    key: str
    status: int | None
    seconds: float
    error: str = ""


@dataclass
class WeComCaller:
    """WeCom's side: sends callbacks and remembers every answer.

    ``accepted`` holds the dedup keys of the messages answered 200 at least once: exactly
    the ones the server promised to keep.
    """

    http: aiohttp.ClientSession
    base_url: str
    path: str = APP.path
    timeout: float = 10.0
    answers: list[Answer] = field(default_factory=list)
    accepted: set[str] = field(default_factory=set)

    async def send(self, key: str, callback: Callback) -> Answer:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                status, _ = await callback.send_to(self.http, self.base_url, self.path)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            answer = Answer(key, None, time.perf_counter() - started, type(exc).__name__)
        else:
            answer = Answer(key, status, time.perf_counter() - started)
        self.answers.append(answer)
        if answer.status == 200:
            self.accepted.add(key)
        return answer

    async def burst(
        self, calls: Sequence[tuple[str, Callback]], *, concurrency: int = 8
    ) -> list[Answer]:
        """Send every call once, ``concurrency`` at a time; the answers in call order."""
        slots = asyncio.Semaphore(concurrency)

        async def one(key: str, callback: Callback) -> Answer:
            async with slots:
                return await self.send(key, callback)

        return list(await asyncio.gather(*(one(k, c) for k, c in calls)))

    async def retry_until_accepted(
        self, calls: Sequence[tuple[str, Callback]], *, within: float = 30.0
    ) -> int:
        """WeCom's retries: resend every call not yet answered 200 until it is; how many
        resends that took."""
        resends = 0
        deadline = time.perf_counter() + within
        pending = [(k, c) for k, c in calls if k not in self.accepted]
        while pending:
            assert time.perf_counter() < deadline, f"{len(pending)} callbacks never accepted"
            resends += len(pending)
            await self.burst(pending)
            pending = [(k, c) for k, c in pending if k not in self.accepted]
            if pending:
                await asyncio.sleep(0.2)
        return resends


def latency_summary(answers: Iterable[Answer]) -> str:
    seconds = sorted(a.seconds for a in answers)
    if not seconds:
        return "no answers"
    p99 = seconds[min(len(seconds) - 1, int(len(seconds) * 0.99))]
    return (
        f"n={len(seconds)} median {statistics.median(seconds) * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms, max {seconds[-1] * 1000:.0f} ms"
    )


def statuses(answers: Iterable[Answer]) -> dict[str, int]:
    return dict(collections.Counter(str(a.status or a.error) for a in answers))


# -- reading back ----------------------------------------------------------------------------


async def inbound_keys(db_url: str) -> list[str]:
    """Every stored inbound dedup key (a list: a key stored twice would show twice)."""
    db = Database(db_url)
    try:
        async with db.read() as tx:
            return list(await tx.session.scalars(select(InboundMessage.dedup_key)))
    finally:
        await db.dispose()


async def deliveries(db_url: str) -> list[Delivery]:
    db = Database(db_url)
    try:
        async with db.read() as tx:
            return await tx.deliveries.list(limit=100_000)
    finally:
        await db.dispose()


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]], what: str, *, within: float = 30.0
) -> float:
    """Poll ``condition`` (plain or async) until true; the seconds it took."""
    started = time.perf_counter()
    while not await _truth(condition()):
        assert time.perf_counter() - started < within, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


async def _truth(value: bool | Awaitable[bool]) -> bool:
    return await value if inspect.isawaitable(value) else bool(value)


async def outbox_settled(db_url: str) -> bool:
    """Nothing pending in the outbox any more."""
    return all(d.status != "pending" for d in await deliveries(db_url))


async def robot_keys_by_group(db_url: str) -> dict[str, str]:
    """Group id (a group delivery's target) → its robot key (what the fake sees)."""
    db = Database(db_url)
    try:
        async with db.read() as tx:
            return {str(g.id): g.robot_key for g in await tx.groups.all() if g.robot_key}
    finally:
        await db.dispose()


def delivered_counts(fake: FakeWeCom, endpoint: str) -> collections.Counter[str]:
    """Messages WeCom delivered, per target (a member's userid, a robot's key)."""
    return collections.Counter(a.target for a in fake.delivered(endpoint))


# -- the server in this process --------------------------------------------------------------


@dataclass
class InProcessServer:
    base_url: str
    runtime: Runtime


@contextlib.asynccontextmanager
async def serve_in_process(config: Config) -> AsyncIterator[InProcessServer]:
    """``create_app(config)`` on a loopback port of this process, with the system clock and
    the real WeCom sender (pointed at the fake by ``config``)."""
    app = create_app(config)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield InProcessServer(str(server.make_url("")).rstrip("/"), app[RUNTIME])
    finally:
        await server.close()


# -- a database that goes away ---------------------------------------------------------------


class TcpProxy:
    """A loopback TCP proxy in front of a database server, to simulate its restart without
    touching the real one: :meth:`outage` drops every connection through it and refuses new
    ones (nothing listens on its port), then listens again on the same port.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> TcpProxy:
        await self.listen()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.cut()

    async def listen(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Stop listening and reset every open connection, both sides."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    @contextlib.asynccontextmanager
    async def outage(self) -> AsyncIterator[None]:
        await self.cut()
        try:
            yield
        finally:
            await self.listen()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._open.update((writer, up_writer))
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self._open.difference_update((writer, up_writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:  # reset by the other side, or by cut()
        pass
    finally:
        writer.close()  # one side gone: the connection is over
