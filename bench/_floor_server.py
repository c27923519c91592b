"""The floor of the callback benchmarks: lvzhi's work for a check-in, at plain sqlite3's cost.

Where the reference server (``_reference_server.py``) does the least a callback must cost
(verify, decrypt, one insert), this one does **the same work as** ``lvzhi serve`` for a 1:1
check-in, with nothing between Python and SQLite but the ``sqlite3`` module:

- the HTTP edge is the project's own (``bot.wecom.callback``'s envelope, freshness check and
  ``from_app_xml``), and the text is parsed by the project's own dispatcher (``handlers``);
- ONE transaction on the database's own thread (one thread hop, statements prepared once by
  sqlite3's statement cache): ``BEGIN IMMEDIATE``; the inbound row under its dedup key (a retry
  stops here); the member; their open dialog; their study group with its campaign; the
  check-in (insert, or add to the period's row); the streak (the member's periods); the
  group's progress; the reply into the outbox; ``COMMIT`` — the same tables and rows as lvzhi,
  so the benchmark's stored-once and delivered-once checks apply unchanged;
- a minimal delivery worker: each round claims a batch, checks and reserves the targets' rate
  gate slots and reads their addresses in one transaction, sends to (fake) WeCom, and settles
  the batch in one statement.

No SQLAlchemy, no ORM, no savepoint, no other handler: what is left is what this design costs
in one Python process. ``bench_callback`` prints lvzhi's figures beside this floor's.

    FLOOR_TOKEN=… FLOOR_AES_KEY=… FLOOR_CORP_ID=… FLOOR_AGENT_ID=… FLOOR_SECRET=… \\
        python bench/_floor_server.py --db PATH --port PORT --api-base URL [--path P]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import json
import os
import sqlite3
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.dispatcher import Dispatcher, ParseContext  # noqa: E402
from bot.pipeline import NOT_IN_ROSTER  # noqa: E402
from bot.wecom.callback import DEFAULT_MAX_SKEW, EncryptedEnvelope, xml_envelope  # noqa: E402
from bot.wecom.crypto import CallbackCrypto, CallbackRejected, check_freshness  # noqa: E402
from bot.wecom.inbound import from_app_xml  # noqa: E402
from bot.workcalendar import WorkCalendar  # noqa: E402
from handlers import routers  # noqa: E402
from handlers.checkin import UNITS, CheckInIntent, _study_summary  # noqa: E402
from handlers.checkin.rules import streak  # noqa: E402
from handlers.text.periods import CURRENT_NOUN, as_cadence, period_containing  # noqa: E402

T = TypeVar("T")
ZONE = ZoneInfo("Asia/Shanghai")
BATCH = 50
LEASE = timedelta(seconds=60)
GATE_LIMIT, GATE_WINDOW = 30, timedelta(seconds=60)  # lvzhi's member gate
REPLY_TTL = timedelta(hours=24)


def ts(value: datetime) -> str:
    """A UTC datetime as SQLAlchemy stores it on SQLite (naive, microseconds)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


# -- the statements (sqlite3 prepares each once and keeps it in its statement cache) ----------

INSERT_INBOUND = (
    "INSERT INTO inbound_messages (dedup_key, channel, sender, chat_id, msg_type, content, raw,"
    " sent_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING"
)
MEMBER = "SELECT id, role, active FROM members WHERE userid = ?"
DIALOG = "SELECT kind, expires_at FROM dialogs WHERE chat = ? AND userid = ?"
STUDY_GROUP = (
    "SELECT g.id, g.name, c.id, c.cadence, c.active, c.skip_holidays, c.starts_on"
    " FROM groups g JOIN group_members gm ON gm.group_id = g.id"
    " LEFT JOIN campaigns c ON c.group_id = g.id"
    " WHERE gm.member_id = ? AND g.kind = 'study_group' ORDER BY g.id LIMIT 1"
)
INSERT_CHECKIN = (
    "INSERT INTO checkins (campaign_id, member_id, period_start, period_end, titles, minutes,"
    " notes, entries, makeup, first_at, last_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)"
    " ON CONFLICT (campaign_id, member_id, period_start) DO NOTHING"
)
MERGE_CHECKIN = (
    "UPDATE checkins SET minutes = minutes + ?, last_at = ?"
    " WHERE campaign_id = ? AND member_id = ? AND period_start = ?"
)
PERIODS = (
    "SELECT period_start FROM checkins WHERE campaign_id = ? AND member_id = ?"
    " ORDER BY period_start DESC"
)
PROGRESS = (
    "SELECT (SELECT count(*) FROM group_members WHERE group_id = ?),"
    " (SELECT count(DISTINCT c.member_id) FROM checkins c"
    "  JOIN group_members gm ON gm.member_id = c.member_id"
    "  WHERE c.campaign_id = ? AND c.period_start = ? AND gm.group_id = ?)"
)
INSERT_DELIVERY = (
    "INSERT INTO deliveries (idempotency_key, channel, target, payload, status, attempts,"
    " parts_sent, next_attempt_at, deadline, created_at) VALUES (?, 'member', ?, ?, 'pending',"
    " 0, 0, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING"
)
CLAIM = (
    "UPDATE deliveries SET lease_owner = ?, lease_until = ? WHERE id IN ("
    " SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?"
    " AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_attempt_at, id LIMIT ?)"
    " RETURNING id, target, payload, next_attempt_at"
)
ADDRESSES = (
    "SELECT userid FROM members WHERE userid IN (SELECT value FROM json_each(?)) AND active"
)
GATE_LOAD = (
    "SELECT gate, count(*) FROM send_log WHERE gate IN (SELECT value FROM json_each(?))"
    " AND at > ? GROUP BY gate"
)
LOG_SEND = "INSERT INTO send_log (gate, at) VALUES (?, ?)"
SETTLE = (
    "UPDATE deliveries SET status = 'sent', sent_at = ?, lease_owner = NULL, lease_until = NULL"
    " WHERE id IN (SELECT value FROM json_each(?)) AND status = 'pending' AND lease_owner = ?"
)


class Database:
    """One sqlite3 connection owned by one thread: every transaction is one hop to it."""

    def __init__(self, path: str) -> None:
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sqlite")
        self.conn: sqlite3.Connection = self._thread.submit(self._open, path).result()

    @staticmethod
    def _open(path: str) -> sqlite3.Connection:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in (
            "journal_mode=WAL",
            "busy_timeout=5000",
            "foreign_keys=ON",
            "synchronous=FULL",
        ):
            conn.execute(f"PRAGMA {pragma}")
        return conn

    async def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work`` inside BEGIN IMMEDIATE … COMMIT, on the connection's thread."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._run, work)

    def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    def close(self) -> None:
        self._thread.submit(self.conn.close).result()
        self._thread.shutdown()


@dataclass(frozen=True, slots=True)
class Message:
    dedup_key: str
    sender: str
    text: str
    raw: str
    msg_type: str
    sent_at: datetime


def handle(conn: sqlite3.Connection, message: Message, dispatcher: Dispatcher) -> bool:
    """The check-in's transaction (on the database thread); False for a retry."""
    now_utc = datetime.now(UTC)
    now = now_utc.astimezone(ZONE)
    fresh = conn.execute(
        INSERT_INBOUND,
        (
            message.dedup_key,
            "app",
            message.sender,
            None,
            message.msg_type,
            message.text[:8000],
            message.raw[:20000],
            ts(message.sent_at),
            ts(now_utc),
        ),
    ).rowcount
    if not fresh:
        return False
    member = conn.execute(MEMBER, (message.sender,)).fetchone()
    if member is None or not member[2]:
        answer = NOT_IN_ROSTER
    else:
        answer = checkin(conn, message, dispatcher, member, now)
    payload = json.dumps({"msgtype": "text", "content": answer})
    conn.execute(
        INSERT_DELIVERY,
        (
            f"reply:{message.dedup_key}:0",
            message.sender,
            payload,
            ts(now_utc),
            ts(now_utc + REPLY_TTL),
            ts(now_utc),
        ),
    )
    return True


def checkin(
    conn: sqlite3.Connection,
    message: Message,
    dispatcher: Dispatcher,
    member: tuple[int, str, int],
    now: datetime,
) -> str:
    member_id, role, _ = member
    conn.execute(DIALOG, (f"single:{message.sender}", message.sender)).fetchone()
    _, value = dispatcher.parse(message.text.strip(), ParseContext(role, now))
    if not isinstance(value, CheckInIntent):
        return "（基准的底线服务器只做打卡）"
    found = conn.execute(STUDY_GROUP, (member_id,)).fetchone()
    if found is None or found[2] is None or not found[4]:
        return "您所在的小组目前没有打卡活动"
    group_id, group_name, campaign_id, cadence, _, skip_holidays, starts_on = found
    today = now.date()
    period = period_containing(as_cadence(cadence), today)
    entry = {"at": now.isoformat(), "text": message.text[:2000], "makeup": False}
    inserted = conn.execute(
        INSERT_CHECKIN,
        (
            campaign_id,
            member_id,
            period.start.isoformat(),
            period.end.isoformat(),
            json.dumps(list(dict.fromkeys(value.titles))),
            value.minutes or 0,
            json.dumps([value.note] if value.note else []),
            json.dumps([entry]),
            ts(now),
            ts(now),
        ),
    ).rowcount
    if not inserted:
        conn.execute(
            MERGE_CHECKIN,
            (value.minutes or 0, ts(now), campaign_id, member_id, period.start.isoformat()),
        )
    periods = {
        date.fromisoformat(row[0]) for row in conn.execute(PERIODS, (campaign_id, member_id))
    }
    days = streak(
        as_cadence(cadence),
        today,
        periods,
        bool(skip_holidays),
        WorkCalendar.empty(),
        date.fromisoformat(starts_on),
    )
    total, done = conn.execute(
        PROGRESS, (group_id, campaign_id, period.start.isoformat(), group_id)
    ).fetchone()
    noun = CURRENT_NOUN[cadence]
    return (
        f"打卡成功{_study_summary(value)}！已计入{noun}（{period.label}）。\n"
        f"已连续打卡 {days} {UNITS[cadence]}。\n{group_name}{noun}已打卡 {done}/{total}"
    )


# -- the delivery worker -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    target: str
    content: str
    reachable: bool


def claim(conn: sqlite3.Connection, owner: str) -> list[Claimed]:
    """Lease a batch, read its addresses, check and reserve its gate slots: one transaction.
    A target whose gate is full is left for a later round (its lease runs out)."""
    now = datetime.now(UTC)
    rows = conn.execute(CLAIM, (owner, ts(now + LEASE), ts(now), ts(now), BATCH)).fetchall()
    if not rows:
        return []
    rows.sort(key=lambda r: (r[3], r[0]))
    targets = json.dumps(sorted({r[1] for r in rows}))
    known = {userid for (userid,) in conn.execute(ADDRESSES, (targets,))}
    gates = json.dumps([f"member:{t}" for t in sorted({r[1] for r in rows})])
    load = dict(conn.execute(GATE_LOAD, (gates, ts(now - GATE_WINDOW))).fetchall())
    jobs, reserved = [], []
    for id_, target, payload, _ in rows:
        gate = f"member:{target}"
        if load.get(gate, 0) >= GATE_LIMIT:
            continue
        load[gate] = load.get(gate, 0) + 1
        reserved.append((gate, ts(now)))
        jobs.append(Claimed(id_, target, json.loads(payload)["content"], target in known))
    conn.executemany(LOG_SEND, reserved)
    return jobs


def settle(conn: sqlite3.Connection, *, ids: list[int], owner: str) -> None:
    conn.execute(SETTLE, (ts(datetime.now(UTC)), json.dumps(ids), owner))


class Worker:
    def __init__(self, db: Database, api_base: str, corp_id: str, secret: str, agent_id: int):
        self.db = db
        self.api_base = api_base.rstrip("/")
        self.corp_id, self.secret, self.agent_id = corp_id, secret, agent_id
        self.owner = f"floor-{uuid.uuid4().hex[:8]}"
        self.wake = asyncio.Event()
        self.token = ""

    async def run(self) -> None:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=8)) as http:
            async with http.get(
                f"{self.api_base}/cgi-bin/gettoken",
                params={"corpid": self.corp_id, "corpsecret": self.secret},
            ) as response:
                self.token = (await response.json())["access_token"]
            while True:
                jobs = await self.db.transaction(lambda conn: claim(conn, self.owner))
                if not jobs:
                    self.wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), 1.0)
                    continue
                queues: dict[str, list[Claimed]] = {}
                for job in jobs:  # one target's messages in order, different targets at once
                    queues.setdefault(job.target, []).append(job)
                sent = await asyncio.gather(*(self.send_all(http, q) for q in queues.values()))
                ids = [id_ for done in sent for id_ in done]
                await self.db.transaction(partial(settle, ids=ids, owner=self.owner))

    async def send_all(self, http: aiohttp.ClientSession, queue: list[Claimed]) -> list[int]:
        sent = []
        for job in queue:
            if not await self.send(http, job):
                break
            sent.append(job.id)
        return sent

    async def send(self, http: aiohttp.ClientSession, job: Claimed) -> bool:
        if not job.reachable:
            return False
        body = {
            "touser": job.target,
            "msgtype": "text",
            "agentid": self.agent_id,
            "text": {"content": job.content},
        }
        async with http.post(
            f"{self.api_base}/cgi-bin/message/send",
            params={"access_token": self.token},
            json=body,
        ) as response:
            return bool((await response.json()).get("errcode") == 0)


# -- the HTTP edge -----------------------------------------------------------------------------


def create_app(db_path: str, path: str, env: dict[str, str], api_base: str) -> web.Application:
    app = web.Application()
    agent_id = int(env["FLOOR_AGENT_ID"])
    envelope = EncryptedEnvelope(
        CallbackCrypto(env["FLOOR_TOKEN"], env["FLOOR_AES_KEY"], env["FLOOR_CORP_ID"]),
        xml_envelope,
    )
    dispatcher = Dispatcher(routers())
    state: dict[str, Any] = {}

    async def lifetime(_: web.Application) -> AsyncIterator[None]:
        db = Database(db_path)
        worker = Worker(db, api_base, env["FLOOR_CORP_ID"], env["FLOOR_SECRET"], agent_id)
        state["db"], state["worker"] = db, worker
        task = asyncio.create_task(worker.run())
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        db.close()

    async def receive(request: web.Request) -> web.Response:
        try:
            opened = envelope.open(request.query, await request.read())
            check_freshness(opened.timestamp, datetime.now(UTC), DEFAULT_MAX_SKEW)
            incoming = from_app_xml(opened.plaintext, agent_id=agent_id)
        except CallbackRejected:
            return web.Response(status=403)
        message = Message(
            incoming.dedup_key,
            incoming.sender,
            incoming.text,
            incoming.raw,
            incoming.msg_type,
            incoming.sent_at,
        )
        db: Database = state["db"]
        if await db.transaction(lambda conn: handle(conn, message, dispatcher)):
            state["worker"].wake.set()
        return web.Response()

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.cleanup_ctx.append(lifetime)
    app.router.add_post(path, receive)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="the SQLite file lvzhi's schema is in")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/wecom/callback")
    parser.add_argument("--api-base", required=True, help="(fake) WeCom's base URL")
    args = parser.parse_args()
    web.run_app(
        create_app(args.db, args.path, dict(os.environ), args.api_base),
        host="127.0.0.1",
        port=args.port,
        access_log=None,
        print=None,
    )


if __name__ == "__main__":
    main()
