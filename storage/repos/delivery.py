"""The outbox (deliveries), the rate gates' send log, and the shared access tokens."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    Integer,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import CursorResult

from storage.fast import Prepared
from storage.models import AccessToken, Delivery, GateCooldown, SendLogEntry
from storage.repos.base import Repo


class ClaimedJob(NamedTuple):
    """A row of the worker's claim (``_JOB_COLUMNS`` and when it was due)."""

    id: int
    channel: str
    target: str
    payload: dict[str, Any]
    attempts: int
    parts_sent: int
    next_attempt_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxStats:
    pending: int
    overdue: int
    dead: int
    sent: int


# The worker's hot path, built once: a round's claim returning only the columns a job needs,
# and the batch of sent deliveries settled in one statement.
_deliveries = cast(Table, Delivery.__table__)
_d = _deliveries.c
_JOB_COLUMNS = (_d.id, _d.channel, _d.target, _d.payload, _d.attempts, _d.parts_sent)


def _claim_statement(*, skip_locked: bool) -> Any:
    now = bindparam("p_now", type_=_d.next_attempt_at.type)
    due = (
        select(_d.id)
        .where(
            _d.status == "pending",
            _d.next_attempt_at <= now,
            or_(_d.lease_until.is_(None), _d.lease_until < now),
        )
        .order_by(_d.next_attempt_at, _d.id)
        .limit(bindparam("p_limit", type_=Integer()))
    )
    if skip_locked:
        due = due.with_for_update(skip_locked=True)
    return (
        update(_deliveries)
        .where(_d.id.in_(due.scalar_subquery()))
        .values(
            lease_owner=bindparam("p_owner", type_=_d.lease_owner.type),
            lease_until=bindparam("p_until", type_=_d.lease_until.type),
        )
        .returning(*_JOB_COLUMNS, _d.next_attempt_at)
    )


_CLAIM = {
    "sqlite": Prepared(_claim_statement(skip_locked=False)),
    "postgresql": Prepared(_claim_statement(skip_locked=True)),
}
_ENQUEUE_KEYS = (
    "idempotency_key",
    "channel",
    "target",
    "payload",
    "status",
    "attempts",
    "parts_sent",
    "next_attempt_at",
    "deadline",
    "created_at",
)
_ENQUEUE = {
    name: Prepared(
        module.insert(_deliveries).on_conflict_do_nothing(index_elements=["idempotency_key"]),
        _ENQUEUE_KEYS,
    )
    for name, module in (("sqlite", sqlite_dialect), ("postgresql", postgresql_dialect))
}
_MARK_SENT = Prepared(
    update(_deliveries)
    .where(_d.id.in_(bindparam("p_ids", expanding=True)), _d.status == "pending")
    .values(
        status="sent",
        sent_at=bindparam("p_now", type_=_d.sent_at.type),
        lease_owner=None,
        lease_until=None,
    )
)
_EXPIRE_OVERDUE = Prepared(
    update(_deliveries)
    .where(
        _d.status == "pending",
        _d.deadline.is_not(None),
        _d.deadline < bindparam("p_now", type_=_d.deadline.type),
        or_(_d.lease_until.is_(None), _d.lease_until < bindparam("p_now", type_=_d.deadline.type)),
    )
    .values(status="expired", last_error="past its deadline")
)


class DeliveryRepo(Repo):
    async def enqueue(
        self,
        *,
        key: str,
        channel: str,
        target: str,
        payload: dict[str, Any],
        now: datetime,
        send_at: datetime | None = None,
        deadline: datetime | None = None,
    ) -> bool:
        """Queue one message; False if a delivery with this idempotency key already exists."""
        values = {
            "idempotency_key": key,
            "channel": channel,
            "target": target,
            "payload": payload,
            "status": "pending",
            "attempts": 0,
            "parts_sent": 0,
            "next_attempt_at": send_at or now,
            "deadline": deadline,
            "created_at": now,
        }
        return bool(await self.changed(_ENQUEUE[self.dialect], values))

    async def claim(
        self, *, owner: str, now: datetime, limit: int, lease: timedelta
    ) -> list[Delivery]:
        """Lease up to ``limit`` due deliveries to ``owner``.

        On PostgreSQL the candidate rows are locked with SKIP LOCKED, so concurrent workers in
        other processes take disjoint sets; a lease left by a crashed worker runs out and the
        row becomes claimable again.
        """
        due = (
            select(Delivery.id)
            .where(
                Delivery.status == "pending",
                Delivery.next_attempt_at <= now,
                or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
            )
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        statement = (
            update(Delivery)
            .where(Delivery.id.in_(due.scalar_subquery()))
            .values(lease_owner=owner, lease_until=now + lease)
            .returning(Delivery)
            .execution_options(synchronize_session=False)
        )
        rows = await self.session.scalars(statement)
        return sorted(rows, key=lambda d: (d.next_attempt_at, d.id))

    async def claim_jobs(
        self, *, owner: str, now: datetime, limit: int, lease: timedelta
    ) -> list[Any]:
        """:meth:`claim` for the worker: rows of (id, channel, target, payload, attempts,
        parts_sent), no entities, from a statement built once; soonest first."""
        outcome = await self.fast(
            _CLAIM[self.dialect],
            {"p_now": now, "p_limit": limit, "p_owner": owner, "p_until": now + lease},
        )
        rows = [ClaimedJob(*row) for row in outcome.rows]
        return sorted(rows, key=lambda r: (r.next_attempt_at, r.id))

    async def mark_sent_many(self, delivery_ids: Sequence[int], now: datetime) -> None:
        """:meth:`mark_sent` for a batch, in one statement."""
        if delivery_ids:
            await self.fast(_MARK_SENT, {"p_ids": list(delivery_ids), "p_now": now})

    async def renew_lease(
        self, delivery_id: int, *, owner: str, now: datetime, lease: timedelta
    ) -> bool:
        """Extend ``owner``'s lease; False if the delivery is no longer pending and theirs.

        A lease that ran out but was not claimed by anyone else is still ``owner``'s to renew
        (a claim changes ``lease_owner`` in the same statement that takes it).
        """
        result = await self.session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.status == "pending",
                Delivery.lease_owner == owner,
            )
            .values(lease_until=now + lease)
        )
        return bool(cast(CursorResult[Any], result).rowcount)

    async def mark_sent(self, delivery_id: int, now: datetime) -> None:
        await self.session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status == "pending")
            .values(status="sent", sent_at=now, lease_owner=None, lease_until=None)
        )

    async def mark_part_sent(self, delivery_id: int, parts_sent: int) -> None:
        await self.session.execute(
            update(Delivery).where(Delivery.id == delivery_id).values(parts_sent=parts_sent)
        )

    async def reschedule(
        self,
        delivery_id: int,
        *,
        at: datetime,
        error: str | None,
        count_attempt: bool,
    ) -> None:
        """Put a pending delivery back in the queue for ``at``, releasing its lease."""
        values: dict[str, Any] = {
            "next_attempt_at": at,
            "lease_owner": None,
            "lease_until": None,
            "last_error": error[:500] if error else None,
        }
        if count_attempt:
            values["attempts"] = Delivery.attempts + 1
        await self.session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status == "pending")
            .values(**values)
        )

    async def hold_back(
        self, channel: str, target: str, *, until: datetime, owner: str, now: datetime
    ) -> int:
        """Move every pending delivery to ``target`` due by ``until`` to ``until``, with
        ``owner``'s leases on them released; how many moved.

        For a target whose gate is closed: its messages then wait together and are claimed
        again in the order they were queued (equal times go by id). Moved one by one, each to
        the moment its own reservation was refused, a later message could come due before an
        earlier one. Deliveries another worker holds a live lease on are left to it.
        """
        return await self.changed(
            update(Delivery)
            .where(
                Delivery.channel == channel,
                Delivery.target == target,
                Delivery.status == "pending",
                Delivery.next_attempt_at <= until,
                or_(
                    Delivery.lease_owner.is_(None),
                    Delivery.lease_owner == owner,
                    Delivery.lease_until < now,
                ),
            )
            .values(next_attempt_at=until, lease_owner=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )

    async def finish(self, delivery_id: int, *, status: str, error: str, now: datetime) -> None:
        """End a delivery visibly: ``dead`` or ``expired``."""
        await self.session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status == "pending")
            .values(
                status=status,
                last_error=error[:500],
                lease_owner=None,
                lease_until=None,
                attempts=Delivery.attempts + (1 if status == "dead" else 0),
            )
        )

    async def expire_overdue(self, now: datetime) -> int:
        return await self.changed(_EXPIRE_OVERDUE, {"p_now": now})

    async def stats(self, now: datetime, overdue_after: timedelta) -> OutboxStats:
        rows = dict(
            (
                await self.session.execute(
                    select(Delivery.status, func.count()).group_by(Delivery.status)
                )
            ).all()
        )
        overdue = await self.session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.status == "pending", Delivery.next_attempt_at < now - overdue_after)
        )
        return OutboxStats(
            pending=int(rows.get("pending", 0)),
            overdue=int(overdue or 0),
            dead=int(rows.get("dead", 0)),
            sent=int(rows.get("sent", 0)),
        )

    async def get(self, delivery_id: int) -> Delivery | None:
        return await self.session.get(Delivery, delivery_id)

    async def by_key(self, key: str) -> Delivery | None:
        return await self.session.scalar(select(Delivery).where(Delivery.idempotency_key == key))

    async def list(self, *, status: str | None = None, limit: int = 1000) -> list[Delivery]:
        query = select(Delivery).order_by(Delivery.id).limit(limit)
        if status is not None:
            query = query.where(Delivery.status == status)
        return list(await self.session.scalars(query))

    async def latest_id(self) -> int:
        return int(await self.session.scalar(select(func.max(Delivery.id))) or 0)

    async def pending_after(self, delivery_id: int) -> Sequence[Delivery]:
        """Deliveries queued after ``delivery_id`` and not sent yet, soonest first."""
        rows = await self.session.scalars(
            select(Delivery)
            .where(Delivery.id > delivery_id, Delivery.status == "pending")
            .order_by(Delivery.next_attempt_at, Delivery.id)
        )
        return list(rows)

    async def due_count(self, now: datetime) -> int:
        """Pending deliveries due by ``now``, whether or not a worker holds them right now."""
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
            )
            or 0
        )

    async def next_due(self) -> datetime | None:
        return await self.session.scalar(
            select(func.min(Delivery.next_attempt_at)).where(Delivery.status == "pending")
        )


def _lock_id(name: str) -> int:
    """A stable signed 64-bit id for pg_advisory_xact_lock."""
    return int.from_bytes(hashlib.sha1(name.encode()).digest()[:8], "big", signed=True)


# Several gates' advisory locks in one statement, always in ascending order: transactions that
# each lock several gates this way can wait for one another but never deadlock.
_LOCK_IN_ORDER = text(
    "SELECT pg_advisory_xact_lock(k) FROM "
    "(SELECT unnest(CAST(:ids AS bigint[])) AS k ORDER BY k) AS ordered"
)

# The hot path of every send, built once: a gate's cool-down (if running) and its sends in the
# window, in one round trip; and the new slot, without the ORM's unit of work.
_send_log = cast(Table, SendLogEntry.__table__)
_cooldowns = cast(Table, GateCooldown.__table__)
_GATE_STATE = union_all(
    select(_cooldowns.c.until.label("at"), literal(True).label("cooling")).where(
        _cooldowns.c.gate == bindparam("gate"),
        _cooldowns.c.until > bindparam("now", type_=_cooldowns.c.until.type),
    ),
    select(_send_log.c.at, literal(False)).where(
        _send_log.c.gate == bindparam("gate"),
        _send_log.c.at > bindparam("since", type_=_send_log.c.at.type),
    ),
)
_LOG_SEND = insert(_send_log)
# The same for a set of gates at once (a worker round's), and its new slots with their ids.
_GATES_STATE = Prepared(
    union_all(
        select(
            _cooldowns.c.gate, _cooldowns.c.until.label("at"), literal(True).label("cooling")
        ).where(
            _cooldowns.c.gate.in_(bindparam("gates", expanding=True)),
            _cooldowns.c.until > bindparam("now", type_=_cooldowns.c.until.type),
        ),
        select(_send_log.c.gate, _send_log.c.at, literal(False)).where(
            _send_log.c.gate.in_(bindparam("gates", expanding=True)),
            _send_log.c.at > bindparam("since", type_=_send_log.c.at.type),
        ),
    )
)
_LOG_SENDS = insert(_send_log).returning(_send_log.c.id, sort_by_parameter_order=True)
# SQLite, inline: one short INSERT per slot, without opening a session for the batch's form.
_LOG_SEND_ONE = Prepared(insert(_send_log).returning(_send_log.c.id), ("gate", "at"))
_SETTLE_SLOTS = Prepared(
    update(_send_log)
    .where(
        _send_log.c.id.in_(bindparam("p_ids", expanding=True)),
        _send_log.c.at < bindparam("p_at", type_=_send_log.c.at.type),
    )
    .values(at=bindparam("p_at", type_=_send_log.c.at.type))
)


@dataclass(frozen=True, slots=True)
class SlotRequest:
    """Up to ``count`` sends through ``gate`` (at most ``limit`` per ``window``)."""

    gate: str
    limit: int
    window: timedelta
    count: int = 1


@dataclass(frozen=True, slots=True)
class Slots:
    """What a gate granted: the reserved slots' ids (up to the count asked), and when the
    gate opens again if it granted fewer."""

    ids: tuple[int, ...]
    opens_at: datetime | None


class GateRepo(Repo):
    def __init__(self, session: Any, dialect: str) -> None:
        super().__init__(session, dialect)
        self._locked: set[str] = set()  # gates this transaction holds the lock of

    async def lock(self, gates: Iterable[str]) -> None:
        """Hold the locks of ``gates`` until the transaction ends (PostgreSQL; SQLite has one
        writer). A transaction that reserves slots of several gates takes them all here first:
        taken one by one in :meth:`reserve`, in whatever order its steps came, two such
        transactions in different processes could deadlock."""
        wanted = {gate for gate in gates if gate not in self._locked}
        if self.dialect != "postgresql" or not wanted:
            return
        await self.session.execute(_LOCK_IN_ORDER, {"ids": [_lock_id(g) for g in wanted]})
        self._locked |= wanted

    async def reserve(
        self, gate: str, *, limit: int, window: timedelta, now: datetime
    ) -> datetime | None:
        """Take one slot of ``gate``'s sliding window; or say when the next slot opens.

        Returns None when the send may go now (the slot is recorded), otherwise the time to try
        again. The check and the record happen under one lock per gate (an advisory lock on
        PostgreSQL; SQLite's single writer) so processes sharing a gate never overshoot it.
        """
        await self.lock((gate,))
        rows = await self.session.execute(
            _GATE_STATE, {"gate": gate, "now": now, "since": now - window}
        )
        recent: list[datetime] = []
        for at, cooling in rows:
            if cooling:
                return cast(datetime, at)
            recent.append(at)
        if len(recent) >= limit:
            recent.sort()
            return recent[len(recent) - limit] + window
        await self.session.execute(_LOG_SEND, {"gate": gate, "at": now})
        return None

    async def reserve_slots(
        self, requests: Sequence[SlotRequest], *, now: datetime
    ) -> dict[str, Slots]:
        """:meth:`reserve` for several gates, several slots each, in three statements (lock,
        read, insert) whatever their number: a worker round's reservations at once."""
        if not requests:
            return {}
        assert len({r.gate for r in requests}) == len(requests), "one request per gate"
        await self.lock(r.gate for r in requests)
        longest = max(r.window for r in requests)
        rows = (
            await self.fast(
                _GATES_STATE,
                {"gates": [r.gate for r in requests], "now": now, "since": now - longest},
            )
        ).rows
        cooling: dict[str, datetime] = {}
        recent: dict[str, list[datetime]] = {}
        for gate, at, cool in rows:
            if cool:
                cooling[gate] = at
            else:
                recent.setdefault(gate, []).append(at)
        granted: dict[str, tuple[int, datetime | None]] = {}
        for r in requests:
            if r.gate in cooling:
                granted[r.gate] = (0, cooling[r.gate])
                continue
            window = sorted(at for at in recent.get(r.gate, ()) if at > now - r.window)
            free = max(0, r.limit - len(window))
            count = min(r.count, free)
            # With no slot left, the next opens when the oldest of the last ``limit`` leaves.
            taken = [*window, *([now] * count)]
            opens = taken[len(taken) - r.limit] + r.window if count < r.count else None
            granted[r.gate] = (count, opens)
        wanted = [{"gate": gate, "at": now} for gate, (n, _) in granted.items() for _ in range(n)]
        if self.dialect == "sqlite":
            ids = [(await self.fast(_LOG_SEND_ONE, w)).scalar() for w in wanted]
        else:
            ids = list(await self.session.scalars(_LOG_SENDS, wanted)) if wanted else []
        found: dict[str, Slots] = {}
        start = 0
        for gate, (n, opens) in granted.items():
            found[gate] = Slots(tuple(ids[start : start + n]), opens)
            start += n
        return found

    async def settle_slots(self, slot_ids: Sequence[int], *, sent_at: datetime) -> None:
        """:meth:`settle` for the slots of a batch (by their ids), in one statement."""
        if slot_ids:
            await self.fast(_SETTLE_SLOTS, {"p_ids": list(slot_ids), "p_at": sent_at})

    async def settle(self, gate: str, *, reserved_at: datetime, sent_at: datetime) -> None:
        """Move the slot reserved at ``reserved_at`` to ``sent_at``, when the send was done.

        Only ever later, so the window only gets more conservative; if two reservations of a
        gate share a timestamp both move, which is conservative too.
        """
        if sent_at <= reserved_at:
            return
        await self.session.execute(
            update(SendLogEntry)
            .where(SendLogEntry.gate == gate, SendLogEntry.at == reserved_at)
            .values(at=sent_at)
        )

    async def cool_down(self, gate: str, until: datetime) -> None:
        statement = (
            self.upsert_insert(GateCooldown)
            .values(gate=gate, until=until)
            .on_conflict_do_update(index_elements=["gate"], set_={"until": until})
        )
        await self.session.execute(statement)

    async def prune(self, before: datetime) -> None:
        await self.session.execute(delete(SendLogEntry).where(SendLogEntry.at < before))
        await self.session.execute(delete(GateCooldown).where(GateCooldown.until < before))

    async def sends_between(self, gate: str, start: datetime, end: datetime) -> list[datetime]:
        rows = await self.session.scalars(
            select(SendLogEntry.at)
            .where(SendLogEntry.gate == gate, SendLogEntry.at >= start, SendLogEntry.at < end)
            .order_by(SendLogEntry.at)
        )
        return list(rows)


class TokenRepo(Repo):
    async def get(self, app: str) -> AccessToken | None:
        token = await self.session.get(AccessToken, app, populate_existing=True)
        return token

    async def begin_refresh(
        self, app: str, *, owner: str, now: datetime, lease: timedelta
    ) -> bool:
        """Become the one process fetching ``app``'s token, for at most ``lease``."""
        await self.session.execute(
            self.upsert_insert(AccessToken).values(app=app).on_conflict_do_nothing()
        )
        result = await self.session.execute(
            update(AccessToken)
            .where(
                AccessToken.app == app,
                or_(AccessToken.refresh_until.is_(None), AccessToken.refresh_until < now),
            )
            .values(refresh_owner=owner, refresh_until=now + lease)
        )
        return bool(cast(CursorResult[Any], result).rowcount)

    async def store(self, app: str, *, token: str, expires_at: datetime) -> None:
        await self.session.execute(
            update(AccessToken)
            .where(AccessToken.app == app)
            .values(token=token, expires_at=expires_at, refresh_owner=None, refresh_until=None)
        )

    async def abandon_refresh(self, app: str, owner: str) -> None:
        await self.session.execute(
            update(AccessToken)
            .where(AccessToken.app == app, AccessToken.refresh_owner == owner)
            .values(refresh_owner=None, refresh_until=None)
        )

    async def invalidate(self, app: str, token: str) -> None:
        """Drop ``token`` (WeCom said 40014/42001) unless another process already replaced it."""
        await self.session.execute(
            update(AccessToken)
            .where(and_(AccessToken.app == app, AccessToken.token == token))
            .values(token=None, expires_at=None)
        )
