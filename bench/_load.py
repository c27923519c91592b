"""What the HTTP benchmarks share: a generated roster, really encrypted check-in callbacks,
server processes (``lvzhi serve`` and the minimal reference server), closed- and open-loop load,
percentiles, and counting what was stored.

Callbacks are sealed with wechatpy exactly as the HTTP tests seal them
(:mod:`tests.wecom_client`), so every server does the full verify → decrypt → parse work. They
are all built before the clock starts: encrypting is WeCom's work, not ours.

Servers run in processes of their own (``python -m bot serve``, the real CLI), so that the load
generator's CPU — and the fake WeCom's, which lives in a thread of the load generator — is not
taken from the server's event loop. On a 2-core machine they still share the cores.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import os
import platform
import random
import socket
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # ``tests.wecom_client`` lives beside ``bench/``, not installed
    sys.path.insert(0, str(ROOT))

# ``fake_in_thread`` is re-exported: the benchmarks get all their helpers from here.
from bench_delivery import fake_in_thread as fake_in_thread  # noqa: E402
from bench_delivery import postgres_drop, postgres_scratch  # noqa: E402

from bot.messages import SYSTEM_ALERT  # noqa: E402
from storage import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    Campaign,
    CheckIn,
    Delivery,
    Group,
    GroupMember,
    InboundMessage,
    Member,
)
from tests.fakewecom import FakeWeCom  # noqa: E402
from tests.wecom_client import WeComApp, encrypted_callback, text_message_xml  # noqa: E402

PG_ENV = "LVZHI_TEST_POSTGRES_URL"
SHANGHAI = timedelta(hours=8)
REFERENCE_SERVER = Path(__file__).resolve().parent / "_reference_server.py"
FLOOR_SERVER = Path(__file__).resolve().parent / "_floor_server.py"


# -- the machine -----------------------------------------------------------------------------


def machine_line() -> str:
    """One line naming what the figures were measured on, and how busy it was."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs, {platform.platform()}; load average {load}"
    )


async def postgres_version(url: str) -> str:
    db = Database(url)
    try:
        async with db.read() as tx:
            return str(await tx.session.scalar(text("SHOW server_version")))
    finally:
        await db.dispose()


async def postgres_reachable(url: str | None) -> bool:
    if not url:
        return False
    try:
        await postgres_version(url)
    except Exception as exc:
        print(f"  PostgreSQL at {url} not reachable ({type(exc).__name__}): skipped")
        return False
    return True


@contextlib.asynccontextmanager
async def scratch_database(
    backend: str, directory: Path, pg_url: str | None
) -> AsyncIterator[str]:
    """A fresh, empty database URL: a new SQLite file, or a scratch PostgreSQL database that is
    dropped afterwards."""
    if backend == "sqlite":
        path = directory / f"bench-{time.monotonic_ns()}.db"
        yield f"sqlite+aiosqlite:///{path}"
        return
    assert pg_url is not None
    url = await postgres_scratch(pg_url)
    try:
        yield url
    finally:
        await postgres_drop(pg_url, url)


# -- the roster ------------------------------------------------------------------------------


def userid(number: int) -> str:
    """The generated member ``number`` (1-based), as ``bench_checkin_stats`` names them."""
    return f"u{number}"


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def shanghai_today(now: datetime) -> date:
    return (now.astimezone(UTC) + SHANGHAI).date()


async def insert_roster(
    conn: AsyncConnection,
    *,
    members: int,
    per_group: int,
    now: datetime,
    starts_on: date,
    updated_at: datetime | None = None,
) -> int:
    """Bulk-insert members ``u1…uN`` (``u1`` a secretary) in study groups ``第N学习小组`` of
    ``per_group``, each group with an active weekly campaign; returns the number of groups.

    Ids are explicit, so the rows are related without reading anything back; on PostgreSQL the
    sequences are moved past them, so later inserts by the bot do not collide.
    """
    groups = -(-members // per_group)
    await conn.execute(
        insert(Member),
        [
            {
                "id": i + 1,
                "userid": userid(i + 1),
                "name": f"委员{i + 1}",
                "role": "secretary" if i == 0 else "member",
                "sector": "",
                "committee": "",
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(members)
        ],
    )
    await conn.execute(
        insert(Group),
        [
            {"id": g + 1, "name": f"第{g + 1}学习小组", "kind": "study_group", "created_at": now}
            for g in range(groups)
        ],
    )
    await conn.execute(
        insert(GroupMember),
        [{"group_id": i // per_group + 1, "member_id": i + 1} for i in range(members)],
    )
    await conn.execute(
        insert(Campaign),
        [
            {
                "id": g + 1,
                "group_id": g + 1,
                "cadence": "weekly",
                "reminders": [{"offset_days": -2, "time": "20:00"}],
                "summary": {"offset_days": 1, "time": "09:00"},
                "skip_holidays": True,
                "makeup_days": 3,
                "makeup_per_month": 2,
                "active": True,
                "starts_on": starts_on,
                "created_at": now,
                "updated_at": updated_at or now,
            }
            for g in range(groups)
        ],
    )
    if conn.dialect.name == "postgresql":
        for table in ("members", "groups", "campaigns"):
            await conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
    return groups


async def seed_roster(url: str, *, members: int, per_group: int = 30) -> None:
    """Migrate a fresh database and give it ``members`` members in study groups with weekly
    campaigns that started this week (so the planner has nothing to catch up on)."""
    now = datetime.now(UTC)
    db = Database(url)
    try:
        await upgrade(db)
        async with db.write_engine.begin() as conn:
            await insert_roster(
                conn,
                members=members,
                per_group=per_group,
                now=now,
                starts_on=monday_of(shanghai_today(now)),
            )
    finally:
        await db.dispose()


# -- callbacks -------------------------------------------------------------------------------

TITLES = (
    "习近平新时代中国特色社会主义思想学习纲要",
    "习近平谈治国理政",
    "党的二十大报告",
    "乡土中国",
    "中国共产党简史",
    "人民政协重要文献选编",
)


def checkin_text(n: int) -> str:
    """The ``n``-th check-in, in one of the shapes members write (all parse as 打卡)."""
    title = TITLES[n % len(TITLES)]
    minutes = 20 + n % 7 * 10
    shapes = (
        f"打卡 《{title}》 {minutes}分钟",
        f"#打卡# 今日学习《{title}》第{n % 9 + 1}章，{minutes}分钟",
        f"学习打卡：《{title}》 {minutes}分钟 心得：收获很大",
        f"【打卡】《{title}》{minutes}min",
    )
    return shapes[n % len(shapes)]


@dataclass(frozen=True, slots=True)
class Post:
    """One prepared callback: what WeCom would POST for ``sender``'s message."""

    sender: str
    path_query: str
    body: bytes
    headers: Mapping[str, str]


def wecom_app(fake: FakeWeCom) -> WeComApp:
    """The self-built app as both sides see it: the fake's corp id, agent id and secret (for
    the outbound API), the test app's callback token and AES key (for the callbacks)."""
    return WeComApp(corp_id=fake.corp_id, agent_id=fake.agent_id, secret=fake.secret)


def checkin_posts(
    app: WeComApp, senders: Sequence[str], *, first_msg_id: int = 1, at: datetime | None = None
) -> list[Post]:
    """One encrypted text callback per sender, each a distinct check-in message."""
    at = at or datetime.now(UTC)
    posts = []
    for n, sender in enumerate(senders):
        msg_id = first_msg_id + n
        xml = text_message_xml(
            app, sender=sender, content=checkin_text(msg_id), msg_id=msg_id, create_time=at
        )
        callback = encrypted_callback(app, xml, timestamp=at)
        posts.append(Post(sender, callback.url(app.path), callback.body, dict(callback.headers)))
    return posts


# -- server processes ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string


def write_lvzhi_config(path: Path, sections: Mapping[str, Mapping[str, Any]]) -> Path:
    """A ``lvzhi.toml`` holding ``sections`` (the benchmark's settings, nothing else)."""
    lines = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {_toml(value)}" for key, value in values.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def lvzhi_config(url: str, fake: FakeWeCom, app: WeComApp) -> dict[str, dict[str, Any]]:
    """The serve benchmarks' configuration: WeCom mode against the fake, quiet logs; the rest
    (planner, worker, pool sizes) as ``lvzhi serve`` has it by default."""
    return {
        "database": {"url": url},
        "wecom": {**app.config(), "api_base": fake.url},
        "log": {"level": "WARNING"},
    }


@dataclass
class ServerProcess:
    """A server running in a child process, on loopback."""

    name: str
    process: asyncio.subprocess.Process
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def memory_kb(self) -> dict[str, int]:
        """VmRSS (resident now) and VmHWM (peak resident) from /proc, in kB."""
        found = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
        return found

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    async def stop(self) -> None:
        """SIGTERM (aiohttp's graceful shutdown: the runtime closes), SIGKILL after 15 s or if
        the caller is cancelled meanwhile (never leave a server behind)."""
        if self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            async with asyncio.timeout(15):
                await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        except asyncio.CancelledError:
            self.process.kill()
            raise


async def start_server(
    name: str, argv: Sequence[str], *, port: int, cwd: Path, env: Mapping[str, str] | None = None
) -> ServerProcess:
    """Start ``argv`` and wait until ``GET /healthz`` answers 200 (60 s at most)."""
    log_path = cwd / f"{name}-{port}.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    server = ServerProcess(name, process, port, log_path)
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        while True:
            if process.returncode is not None:
                raise RuntimeError(
                    f"{name} exited with {process.returncode}:\n{server.log_tail()}"
                )
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{server.base_url}/healthz") as response:
                    if response.status == 200:
                        return server
            if time.monotonic() > deadline:
                await server.stop()
                raise RuntimeError(f"{name} not ready after 60 s:\n{server.log_tail()}")
            await asyncio.sleep(0.1)


async def start_lvzhi(
    directory: Path, sections: Mapping[str, Mapping[str, Any]], *, source: Path | None = None
) -> ServerProcess:
    """``lvzhi serve`` (``python -m bot serve``, the console script's code) on a free port.

    ``source``: run the ``bot``/``handlers``/``storage`` packages of another source tree (put
    first on PYTHONPATH, ahead of the editable install) — how before/after figures are taken.
    """
    port = free_port()
    config = write_lvzhi_config(directory / f"lvzhi-{port}.toml", sections)
    argv = [sys.executable, "-m", "bot", "--config", str(config), "serve", "--port", str(port)]
    env = {"PYTHONPATH": str(source)} if source else None
    return await start_server("lvzhi", argv, port=port, cwd=directory, env=env)


async def start_reference(directory: Path, url: str, app: WeComApp) -> ServerProcess:
    """The minimal reference server (bench/_reference_server.py) on a free port."""
    port = free_port()
    argv = [
        sys.executable,
        str(REFERENCE_SERVER),
        "--url",
        url,
        "--port",
        str(port),
        "--path",
        app.path,
    ]
    env = {
        "REFERENCE_TOKEN": app.token,
        "REFERENCE_AES_KEY": app.encoding_aes_key,
        "REFERENCE_CORP_ID": app.corp_id,
    }
    return await start_server("reference", argv, port=port, cwd=directory, env=env)


async def start_floor(directory: Path, url: str, fake: FakeWeCom, app: WeComApp) -> ServerProcess:
    """The same-work floor server (bench/_floor_server.py; SQLite only) on a free port."""
    port = free_port()
    database = make_url(url).database
    assert make_url(url).get_backend_name() == "sqlite" and database, url
    argv = [
        sys.executable,
        str(FLOOR_SERVER),
        "--db",
        database,
        "--port",
        str(port),
        "--path",
        app.path,
        "--api-base",
        fake.url,
    ]
    env = {
        "FLOOR_TOKEN": app.token,
        "FLOOR_AES_KEY": app.encoding_aes_key,
        "FLOOR_CORP_ID": app.corp_id,
        "FLOOR_AGENT_ID": str(app.agent_id),
        "FLOOR_SECRET": app.secret,
    }
    return await start_server("floor", argv, port=port, cwd=directory, env=env)


# -- load ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    """A prepared POST to one server."""

    url: str
    post: Post


def aim(posts: Sequence[Post], base_urls: Sequence[str]) -> list[Request]:
    """Spread ``posts`` round-robin over the servers."""
    servers = itertools.cycle(base_urls)
    return [Request(f"{next(servers)}{post.path_query}", post) for post in posts]


@dataclass(frozen=True, slots=True)
class Answer:
    """What one request got: status (0 for a client-side error), when it was due, how long."""

    request: Request
    status: int
    due: float  # time.monotonic() when it should have been sent
    latency: float  # seconds from ``due`` to the whole answer read


@dataclass
class LoadResult:
    answers: list[Answer]
    seconds: float  # from the first request due to the last answer

    @property
    def statuses(self) -> collections.Counter[int]:
        return collections.Counter(a.status for a in self.answers)

    @property
    def all_ok(self) -> bool:
        return set(self.statuses) == {200}

    @property
    def per_second(self) -> float:
        return len(self.answers) / self.seconds if self.seconds else float("nan")

    def latency_ms(self) -> Percentiles:
        return Percentiles.of([a.latency * 1000 for a in self.answers])


def _session(limit: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit),
        timeout=aiohttp.ClientTimeout(total=60),
    )


async def _post(session: aiohttp.ClientSession, request: Request, due: float) -> Answer:
    try:
        async with session.post(
            request.url, data=request.post.body, headers=request.post.headers
        ) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError):
        status = 0
    return Answer(request, status, due, time.monotonic() - due)


async def closed_loop(requests: Sequence[Request], concurrency: int) -> LoadResult:
    """``concurrency`` clients, each sending its next request as soon as its last is answered
    (a request is due when its client picks it up)."""
    pending = collections.deque(requests)
    answers: list[Answer] = []

    async def client(session: aiohttp.ClientSession) -> None:
        while pending:
            answers.append(await _post(session, pending.popleft(), time.monotonic()))

    async with _session(concurrency) as session:
        started = time.monotonic()
        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(client(session))
        return LoadResult(answers, time.monotonic() - started)


async def open_loop(requests: Sequence[Request], offsets: Sequence[float]) -> LoadResult:
    """Each request sent at its own offset from now, whatever the earlier ones are doing (the
    way independent members arrive). Latency counts from when it was due, so a client that
    falls behind shows up in the figures instead of hiding (coordinated omission)."""
    async with _session(0) as session:
        started = time.monotonic()
        tasks = []
        for request, offset in zip(requests, offsets, strict=True):
            due = started + offset
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_post(session, request, due)))
        answers = list(await asyncio.gather(*tasks))
        return LoadResult(answers, time.monotonic() - started)


def poisson_offsets(count: int, window: float, seed: int = 7) -> list[float]:
    """Arrival times of ``count`` independent members spread over ``window`` seconds: a
    Poisson process of rate count/window, conditioned to fit the window (sorted uniforms)."""
    rng = random.Random(seed)
    return sorted(rng.uniform(0, window) for _ in range(count))


async def warm_up(requests: Sequence[Request]) -> None:
    """Send ``requests`` one by one, unmeasured: first connections, lazy imports, caches."""
    result = await closed_loop(requests, 1)
    if not result.all_ok:
        raise RuntimeError(f"warm-up failed: {dict(result.statuses)}")


# -- figures ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Percentiles:
    """Nearest-rank percentiles of a sample (p999 of 3,000 values is the 3rd largest)."""

    count: int
    p50: float
    p99: float
    p999: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Percentiles:
        ordered = sorted(values)
        if not ordered:
            nan = float("nan")
            return cls(0, nan, nan, nan, nan)
        return cls(
            len(ordered),
            percentile(ordered, 50),
            percentile(ordered, 99),
            percentile(ordered, 99.9),
            ordered[-1],
        )

    def line(self, unit: str = "ms") -> str:
        return (
            f"p50 {self.p50:7.1f} {unit}, p99 {self.p99:7.1f} {unit}, p999 {self.p999:7.1f} {unit}"
        )


def percentile(ordered: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile of sorted values."""
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[min(len(ordered), int(rank)) - 1]


# -- what was stored and delivered -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stored:
    """Counts read back from the database after a run."""

    inbound: int
    inbound_keys: int  # distinct dedup keys: equal to ``inbound`` unless a duplicate got in
    checkins: int  # rows counted for a campaign
    checkin_slots: int  # distinct (campaign, member, period): equal to ``checkins``
    replies: int  # queued replies to callbacks
    sent: int
    pending: int
    dead: int


async def stored_counts(url: str) -> Stored:
    db = Database(url)
    try:
        async with db.read() as tx:
            session = tx.session
            slots = (
                select(CheckIn.campaign_id, CheckIn.member_id, CheckIn.period_start)
                .where(CheckIn.campaign_id.is_not(None))
                .distinct()
                .subquery()
            )
            statuses = dict(
                (
                    await session.execute(
                        select(Delivery.status, func.count()).group_by(Delivery.status)
                    )
                ).all()
            )
            return Stored(
                inbound=await _count(session, select(func.count(InboundMessage.id))),
                inbound_keys=await _count(
                    session, select(func.count(InboundMessage.dedup_key.distinct()))
                ),
                checkins=await _count(
                    session,
                    select(func.count(CheckIn.id)).where(CheckIn.campaign_id.is_not(None)),
                ),
                checkin_slots=await _count(session, select(func.count()).select_from(slots)),
                replies=await _count(
                    session,
                    select(func.count(Delivery.id)).where(
                        Delivery.idempotency_key.like("reply:%")
                    ),
                ),
                sent=int(statuses.get("sent", 0)),
                pending=int(statuses.get("pending", 0)),
                dead=int(statuses.get("dead", 0)),
            )
    finally:
        await db.dispose()


async def _count(session: Any, query: Any) -> int:
    return int(await session.scalar(query) or 0)


def check_stored(stored: Stored, messages: int, existing_checkins: int = 0) -> None:
    """Every message recorded once, counted once, answered once: or the run is void."""
    assert stored.inbound == stored.inbound_keys == messages, (stored, messages)
    checkins = existing_checkins + messages
    assert stored.checkins == stored.checkin_slots == checkins, (stored, checkins)
    assert stored.replies == messages, (stored, messages)


def replies_of(fake: FakeWeCom) -> list[Any]:
    """What the fake accepted, less the bot's own warnings to the office (``SYSTEM_ALERT``:
    e.g. that next year's holidays are provisional, which depends on the day of the run)."""
    return [a for a in list(fake.accepted) if not a.content.startswith(SYSTEM_ALERT)]


async def wait_delivered(fake: FakeWeCom, expected: int, within: float) -> float:
    """Wait until the fake has accepted ``expected`` messages; seconds waited."""
    started = time.monotonic()
    async with asyncio.timeout(within):
        while len(replies_of(fake)) < expected:  # noqa: ASYNC110 - another thread appends
            await asyncio.sleep(0.05)
    return time.monotonic() - started


def check_delivered_once(fake: FakeWeCom, senders: Sequence[str]) -> None:
    """Each sender got exactly one reply, and WeCom dropped or suppressed nothing; each of the
    bot's own warnings to the office (``SYSTEM_ALERT``) went to its recipient at most once."""
    alerts = Counter((a.target, a.content) for a in fake.accepted if a not in replies_of(fake))
    assert all(n == 1 for n in alerts.values()), f"a system alert sent twice: {alerts}"
    replies = Counter(a.target for a in replies_of(fake) if a.endpoint == "message/send")
    expected = Counter(dict.fromkeys(senders, 1))
    missing, doubled = dict(expected - replies), dict(replies - expected)
    assert not missing and not doubled, f"a reply missing {missing} or sent twice {doubled}"
    assert fake.counts["dropped"] == 0 and fake.counts["duplicate_suppressed"] == 0


@dataclass
class Report:
    """Rows of figures printed as they come and written as JSON for the smoke test."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, **row: Any) -> None:
        self.rows.append(row)

    def dump(self, path: Path | None) -> None:
        if path is not None:
            path.write_text(json.dumps(self.rows, ensure_ascii=False, indent=1), "utf-8")


def senders(first: int, count: int) -> list[str]:
    return [userid(n) for n in range(first, first + count)]
