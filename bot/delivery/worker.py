"""The delivery worker: drains the outbox into WeCom, exactly once as far as WeCom lets us.

Each round it expires what is past its deadline, leases a batch of due deliveries, resolves
each one's address, passes every part through the rate gate and the sender, and records the
outcome at once. Deliveries to the same target go in order; different targets in parallel.

The only duplicate window is a crash after WeCom accepted a part and before ``parts_sent`` /
``sent`` was committed: the lease then runs out and another round sends that part again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from bot.clock import Clock
from bot.config import DeliveryConfig, WeChatConfig
from bot.delivery.base import Address, Failed, Outcome, Retry, Sender, Sent, Throttled
from bot.delivery.groupcommit import GroupCommit
from bot.delivery.routing import group_route, member_route, openid_route
from bot.delivery.text import part_limit, split_utf8
from storage import Database, Tx
from storage.models import Member
from storage.repos.delivery import SlotRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    """A leased delivery, detached from its session."""

    id: int
    channel: str
    target: str
    payload: dict[str, Any]
    attempts: int
    parts_sent: int

    @classmethod
    def of(cls, row: Any) -> Job:
        """From a claimed row: a Delivery, or the worker's claim's columns."""
        return cls(row.id, row.channel, row.target, row.payload, row.attempts, row.parts_sent)


@dataclass(frozen=True, slots=True)
class Reserved:
    """What the round's claim reserved for a job's next part: a gate slot (its id), or the
    time the gate opens again (``slot`` None: the gate was full or cooling)."""

    slot: int | None
    opens_at: datetime | None
    at: datetime


@dataclass(frozen=True, slots=True)
class _SentPart:
    """A part WeCom accepted, waiting to be recorded with the others of its batch."""

    job: int
    slot: int
    parts_sent: int
    last: bool


class _RecordSent:
    """Records a batch's accepted parts in three statements whatever their number: their gate
    slots moved to when the sends were done, the finished deliveries marked sent, and the
    parts of the others counted (long texts only)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def run_all(self, tx: Tx, items: list[_SentPart]) -> list[bool]:
        now = self.clock.now()  # after every send of the batch: never before one arrived
        await tx.gates.settle_slots([i.slot for i in items], sent_at=now)
        await tx.deliveries.mark_sent_many([i.job for i in items if i.last], now)
        for item in items:
            if not item.last:
                await tx.deliveries.mark_part_sent(item.job, item.parts_sent)
        return [not i.last for i in items]


class ConfirmedSends(Protocol):
    """Sends that WeCom holds until a person confirms them (客户群群发): see
    :class:`bot.wecom.customer_groups.CustomerGroups`."""

    async def submit(self, job: Job, address: Address, *, owner: str) -> Outcome | None:
        """Create the send; None once it waits for confirmation, else an outcome to record."""
        ...

    async def poll(self) -> None:
        """Look at the sends waiting for confirmation that are due for a check."""
        ...


@dataclass(frozen=True, slots=True)
class Gate:
    key: str
    limit: int
    window: timedelta


class DeliveryWorker:
    def __init__(
        self,
        db: Database,
        sender: Sender,
        config: DeliveryConfig,
        clock: Clock,
        *,
        owner: str | None = None,
        wechat: WeChatConfig | None = None,
        confirmed_sends: ConfirmedSends | None = None,
    ) -> None:
        self.db = db
        self.sender = sender
        self.config = config
        self.clock = clock
        self.wechat = wechat  # the 公众号, when configured: members may be routed there
        self.confirmed_sends = confirmed_sends
        self.owner = owner or f"worker-{uuid.uuid4().hex[:12]}"
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._slots = asyncio.Semaphore(config.concurrency)
        self._stopping = False
        self.last_error: str | None = None
        # The per-send steps of all slots are committed together (bot.delivery.groupcommit).
        self._group = GroupCommit(db)
        self._record_sent = _RecordSent(clock)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"delivery {self.owner}")

    async def stop(self, grace: float = 5.0) -> None:
        """Stop once the sends in flight are recorded (``grace`` seconds at most), then cancel.

        Cancelling at once would cut sends between WeCom's 200 and our commit: a duplicate
        window opened by every planned restart. Jobs not yet started are handed back.
        """
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            done, _ = await asyncio.wait({task}, timeout=grace)
            if not done:
                task.cancel()
        except asyncio.CancelledError:
            task.cancel()
            raise
        finally:
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await self._group.settle()  # what was sent is recorded before we go
            self._stopping = False

    def wake(self) -> None:
        """Something was queued: look at the outbox now rather than at the next poll."""
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                handled = await self.run_once()
            except Exception as exc:  # the database may be away for a moment; keep going
                log.exception("delivery round failed")
                self.last_error = f"delivery round failed: {type(exc).__name__}"
                handled = 0
            if handled:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.poll_interval_seconds)
            self._wake.clear()

    async def drain(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Run rounds until nothing is due (for the CLI simulator and tests)."""
        async with asyncio.timeout(timeout):
            while await self.run_once():
                pass

    # -- one round ---------------------------------------------------------------------------

    async def run_once(self) -> int:
        """One round: in ONE transaction expire what is overdue, lease a batch, read its
        addresses and reserve a gate slot for each job's next part; then send (one target's
        jobs in order, targets in parallel), each accepted part recorded with the others of
        its moment (group commit) in a few set-based statements."""
        if self.confirmed_sends is not None:
            try:
                await self.confirmed_sends.poll()
            except Exception:  # never let the confirmation checks stop the outbox
                log.exception("checking the sends waiting for confirmation failed")
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await tx.deliveries.expire_overdue(now)
            rows = await tx.deliveries.claim_jobs(
                owner=self.owner,
                now=now,
                limit=self.config.batch_size,
                lease=timedelta(seconds=self.config.lease_seconds),
            )
            jobs = [Job.of(row) for row in rows]
            if not jobs:
                return 0
            addresses = await self._resolve_in(tx, jobs)
            reserved = await self._reserve_round(tx, jobs, addresses, now)
        by_target: dict[tuple[str, str], list[Job]] = {}
        for job in jobs:
            by_target.setdefault((job.channel, job.target), []).append(job)
        await asyncio.gather(
            *(self._run_in_order(queue, addresses, reserved) for queue in by_target.values())
        )
        return len(jobs)

    async def _resolve_all(self, jobs: list[Job]) -> dict[int, Address | Failed]:
        """Every job's address, read in one transaction."""
        async with self.db.read() as tx:
            return await self._resolve_in(tx, jobs)

    async def _resolve_in(self, tx: Tx, jobs: list[Job]) -> dict[int, Address | Failed]:
        """Every job's address: the members and groups of the round read in one query each
        (a read per delivery was a good part of the worker's cost in a broadcast)."""
        userids = {
            j.target for j in jobs if j.channel == "member" and not j.target.startswith("#")
        }
        members = await tx.members.by_userids(userids) if userids else {}
        ids = [int(j.target[1:]) for j in jobs if j.channel == "member" and j.target[1:].isdigit()]
        if ids:
            await tx.members.by_ids(ids)  # into the session: routing's get() finds them there
        groups = [int(j.target) for j in jobs if j.channel == "group" and j.target.isdigit()]
        if groups:
            await tx.groups.by_ids(groups)
        return {job.id: await self._resolve(tx, job, members) for job in jobs}

    async def _reserve_round(
        self,
        tx: Tx,
        jobs: list[Job],
        addresses: dict[int, Address | Failed],
        now: datetime,
    ) -> dict[int, Reserved]:
        """A gate slot for each job's next part, in queue order, all gates at once."""
        wanted: dict[str, list[Job]] = {}
        gates: dict[str, Gate] = {}
        for job in jobs:
            address = addresses[job.id]
            if isinstance(address, Failed):
                continue
            if address.kind == "customer_group" and self.confirmed_sends is not None:
                continue  # not through a gate slot: see _deliver
            gate = self._gate(address)
            gates[gate.key] = gate
            wanted.setdefault(gate.key, []).append(job)
        granted = await tx.gates.reserve_slots(
            [
                SlotRequest(key, gates[key].limit, gates[key].window, len(queue))
                for key, queue in wanted.items()
            ],
            now=now,
        )
        reserved: dict[int, Reserved] = {}
        for key, queue in wanted.items():
            slots = granted[key]
            for n, job in enumerate(queue):
                slot = slots.ids[n] if n < len(slots.ids) else None
                reserved[job.id] = Reserved(slot, None if slot else slots.opens_at, now)
        return reserved

    async def _run_in_order(
        self,
        queue: list[Job],
        addresses: dict[int, Address | Failed],
        reserved: dict[int, Reserved] | None = None,
    ) -> None:
        reserved = {} if reserved is None else reserved  # the round's: shared by its queues
        clean = True  # every part so far accepted: the claim's reservations still hold
        async with self._slots:
            for job in queue:
                if self._stopping:
                    # Hand the rest back now rather than leave them until their leases end.
                    await self._hold_back(job, self.clock.now())
                    return
                try:
                    closed_until, clean = await self._deliver(
                        job, addresses[job.id], reserved.get(job.id) if clean else None
                    )
                except Exception:
                    # Unexpected (a bug, the database gone): leave the lease to run out so the
                    # delivery is retried, and carry on with the others — each of them through
                    # a transaction of its own before its send (the round's reservations are
                    # dropped): with the database away, nothing more is sent that could not
                    # be recorded.
                    log.exception("delivery %s failed unexpectedly", job.id)
                    reserved.clear()
                    clean = False
                    continue
                if closed_until is not None:
                    # The rest of the queue, and whatever else is due for this target, goes
                    # through the same closed gate: all of it waits until it opens, in one
                    # write, and then goes in the order it was queued.
                    await self._hold_back(job, closed_until)
                    return

    async def _deliver(
        self, job: Job, address: Address | Failed, reserved: Reserved | None = None
    ) -> tuple[datetime | None, bool]:
        """Send the job's remaining parts: (the time its gate opens again if it was closed,
        whether every part was accepted).

        ``reserved``: the slot the round's claim took for the next part. It is used while the
        claim is fresh (a quarter of the lease and of the gate's window): the lease is then
        surely still ours and the slot inside the window. Otherwise, and for later parts, the
        lease is renewed and a slot reserved right before the send, as a step of its own.
        """
        if isinstance(address, Failed):
            await self._finish(job, "dead", address.error, alert=address.alert)
            return None, False
        gate = self._gate(address)
        if address.kind == "customer_group" and self.confirmed_sends is not None:
            # One task per delivery, never split: each one uses a slot of the group's month.
            outcome = await self.confirmed_sends.submit(job, address, owner=self.owner)
            if outcome is not None:
                await self._record(job, gate, outcome, 0, 1, None)
            return None, False
        parts = self._parts(job.payload, address)
        lease = timedelta(seconds=self.config.lease_seconds)
        fresh = min(lease, gate.window) / 4
        for index in range(job.parts_sent, len(parts)):
            if reserved is not None and self.clock.now() - reserved.at < fresh:
                slot, retry_at = reserved.slot, reserved.opens_at
            else:
                leased, slot, retry_at = await self._group.run(
                    partial(self._reserve, job=job, gate=gate, at=self.clock.now(), lease=lease),
                    locks=(gate.key,),
                )
                if not leased:
                    log.warning(
                        "delivery %s: lease lost before sending; left to its owner", job.id
                    )
                    return None, False
            reserved = None
            if slot is None:
                return retry_at, False
            outcome = await self._send(address, parts[index])
            if isinstance(outcome, Sent) and not outcome.invalid_recipients:
                last = index + 1 == len(parts)
                await self._group.run_bulk(
                    self._record_sent, _SentPart(job.id, slot, index + 1, last)
                )
                continue
            if not await self._record(job, gate, outcome, index, len(parts), slot):
                return None, isinstance(outcome, Sent)
        return None, True

    async def _hold_back(self, job: Job, until: datetime) -> None:
        """Everything due for ``job``'s target waits until ``until`` (our leases released)."""
        try:
            async with self.db.transaction() as tx:
                await tx.deliveries.hold_back(
                    job.channel, job.target, until=until, owner=self.owner, now=self.clock.now()
                )
        except Exception:  # harmless: their leases run out and they are claimed again
            log.exception("could not hold back the deliveries to %s", job.target)

    async def _send(self, address: Address, part: dict[str, Any]) -> Outcome:
        try:
            return await self.sender.send(address, part)
        except Exception as exc:  # a sender bug must not lose the delivery
            log.exception("sender raised for %s", address.label)
            return Retry(f"sender error: {type(exc).__name__}")

    async def _record(
        self,
        job: Job,
        gate: Gate,
        outcome: Outcome,
        index: int,
        total: int,
        slot: int | None,
    ) -> bool:
        """Write the outcome of one part at once; True to go on with the next part."""
        now = self.clock.now()
        return await self._group.run(
            lambda tx: self._record_in(tx, job, gate, outcome, index, total, slot, now)
        )

    async def _reserve(
        self, tx: Tx, *, job: Job, gate: Gate, at: datetime, lease: timedelta
    ) -> tuple[bool, int | None, datetime | None]:
        """Before a send: (still leased?, the slot reserved, when the gate opens if not)."""
        # Re-check (and extend) the lease right before sending: a batch can outlive its lease,
        # and once another worker has claimed the delivery, sending it here too would be a
        # duplicate outside the crash window.
        if not await tx.deliveries.renew_lease(job.id, owner=self.owner, now=at, lease=lease):
            return False, None, None
        # A closed gate: the caller holds the job back with the rest of its target's messages.
        request = SlotRequest(gate.key, gate.limit, gate.window)
        slots = (await tx.gates.reserve_slots([request], now=at))[gate.key]
        return True, (slots.ids[0] if slots.ids else None), slots.opens_at

    async def _record_in(
        self,
        tx: Tx,
        job: Job,
        gate: Gate,
        outcome: Outcome,
        index: int,
        total: int,
        slot: int | None,
        now: datetime,
    ) -> bool:
        # The slot was logged when reserved, before the request left; WeCom counts it
        # when it arrives. Moving it to now (≥ arrival) keeps the gate's window from
        # opening early by the request's latency, which could otherwise put limit + 1
        # messages into one of WeCom's windows.
        if slot is not None:
            await tx.gates.settle_slots([slot], sent_at=now)
        match outcome:
            case Sent(invalid):
                if invalid:
                    await tx.alerts.raise_alert(
                        at=now,
                        kind="invalid_recipient",
                        message=f"delivery {job.id}: invalid recipients {', '.join(invalid)}",
                    )
                if index + 1 == total:
                    await tx.deliveries.mark_sent(job.id, now)
                    return False
                await tx.deliveries.mark_part_sent(job.id, index + 1)
                return True
            case Throttled(error):
                until = now + timedelta(seconds=self.config.cooldown_seconds)
                await tx.gates.cool_down(gate.key, until)
                await tx.deliveries.reschedule(job.id, at=until, error=error, count_attempt=False)
            case Retry(error):
                self.last_error = error
                if job.attempts + 1 >= self.config.max_attempts:
                    await tx.deliveries.finish(job.id, status="dead", error=error, now=now)
                    await tx.alerts.raise_alert(
                        at=now, kind="dead", message=f"delivery {job.id}: {error}"
                    )
                else:
                    at = now + timedelta(seconds=self._backoff(job.attempts))
                    await tx.deliveries.reschedule(job.id, at=at, error=error, count_attempt=True)
            case Failed(error, alert):
                self.last_error = error
                await tx.deliveries.finish(job.id, status="dead", error=error, now=now)
                await tx.alerts.raise_alert(
                    at=now,
                    kind="config" if alert else "dead",
                    message=f"delivery {job.id}: {error}",
                )
        return False

    async def _finish(self, job: Job, status: str, error: str, *, alert: bool) -> None:
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await tx.deliveries.finish(job.id, status=status, error=error, now=now)
            await tx.alerts.raise_alert(
                at=now, kind="config" if alert else "dead", message=f"delivery {job.id}: {error}"
            )

    # -- helpers -----------------------------------------------------------------------------

    async def _resolve(
        self, tx: Tx, job: Job, members: Mapping[str, Member] | None = None
    ) -> Address | Failed:
        if job.channel == "member":
            return await member_route(tx, job.target, self.wechat, self.clock.now(), known=members)
        if job.channel == "wechat":
            return await openid_route(tx, job.target, self.wechat, self.clock.now())
        if job.channel == "response_url":
            return Address("response_url", job.target, f"aibot-response:{job.id}")
        if job.channel == "card_update":
            # The response code is a one-time credential: it stays out of logs and gate keys.
            return Address("card_update", job.target, f"card-update:{job.id}")
        if job.channel == "group":
            group = await tx.groups.get(int(job.target))
            if group is None:
                return Failed(f"group {job.target} no longer exists")
            return group_route(group)
        return Failed(f"unknown channel {job.channel!r}")

    def _gate(self, address: Address) -> Gate:
        c = self.config
        if address.kind == "robot":
            return Gate(address.label, c.robot_limit, timedelta(seconds=c.robot_window_seconds))
        if address.kind == "appchat":
            return Gate(
                address.label, c.appchat_limit, timedelta(seconds=c.appchat_window_seconds)
            )
        return Gate(address.label, c.member_limit, timedelta(seconds=c.member_window_seconds))

    @staticmethod
    def _parts(payload: dict[str, Any], address: Address) -> list[dict[str, Any]]:
        if address.kind == "card_update" or ("card" in payload and address.kind == "member"):
            return [payload]  # one card (or card update), never split
        if address.kind == "wechat_template":
            return [payload]  # one template message with the first words (the sender cuts)
        if payload.get("msgtype") == "image":
            return [payload]  # one picture, never split
        payload = {k: v for k, v in payload.items() if k != "card"}  # no cards here: the text
        # The limit depends on the channel: markdown is 4096 bytes only for a group robot
        # (and an AI-bot response); message/send and appchat/send cap it at 2048.
        limit = part_limit(address.kind, str(payload.get("msgtype", "text")))
        texts = split_utf8(str(payload.get("content", "")), limit)
        parts = [{**payload, "content": text} for text in texts]
        for part in parts[1:]:
            part.pop("mentions", None)  # @ once, with the first part
        return parts

    def _backoff(self, attempts: int) -> float:
        """Exponential backoff with full jitter, capped."""
        ceiling = min(
            self.config.backoff_max_seconds, self.config.backoff_base_seconds * (2**attempts)
        )
        return random.uniform(ceiling / 2, ceiling)
