"""A bot without a server, for scenario tests: members talk, the clock moves, the planner
ticks, and what reached the sandbox channel is read back."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from bot.clock import FakeClock
from bot.config import Config
from bot.delivery.routing import group_route
from bot.delivery.sandbox import SandboxMessage, SandboxSender
from bot.fastforward import fast_forward
from bot.messages import Incoming
from bot.runtime import Runtime, open_runtime
from storage.models import Member

SHANGHAI_OFFSET = timedelta(hours=8)


def shanghai(*args: int) -> datetime:
    """A Shanghai wall-clock time as an aware UTC datetime."""
    return (datetime(*args) - SHANGHAI_OFFSET).replace(tzinfo=UTC)  # type: ignore[misc]


class Bot:
    def __init__(self, runtime: Runtime, clock: FakeClock, sandbox: SandboxSender) -> None:
        self.runtime = runtime
        self.clock = clock
        self.sandbox = sandbox
        self._seen = 0
        self._ids = itertools.count(1)

    @property
    def db(self):
        return self.runtime.db

    async def add_member(
        self, userid: str, name: str, *, group: str | None = None, role: str = "member"
    ) -> Member:
        now = self.clock.now()
        async with self.db.transaction() as tx:
            member = await tx.members.add(
                Member(userid=userid, name=name, role=role, created_at=now, updated_at=now)
            )
            if group:
                found, _ = await tx.groups.get_or_create(group, "study_group", now)
                await tx.groups.add_member(found.id, member.id)
        return member

    async def say(
        self, user: str, text: str, *, group: str | None = None, key: str | None = None
    ) -> list[str]:
        """Send ``text`` as ``user``; the texts the bot sent anywhere in answer.

        The answer in the speaker's own chat comes first, then what went to others in the
        order it was sent: deliveries to different people run concurrently, so their order
        among themselves is not fixed, while each recipient's own order is.
        """
        chat_id = None
        here = {user}
        if group:
            async with self.db.read() as tx:
                found = await tx.groups.by_name(group)
            assert found is not None, group
            chat_id = f"sandbox-group-{found.id}"
            here = {group_route(found).value}
        incoming = Incoming(
            channel="sandbox",
            sender=user,
            text=text,
            sent_at=self.clock.now(),
            dedup_key=key or f"test:{next(self._ids)}",
            chat_id=chat_id,
            chat_name=group,
        )
        await self.runtime.pipeline.handle(incoming)
        sent = sorted(await self.flush(), key=lambda m: m.address.value not in here)
        return [m.text for m in sent]

    async def say_and_collect(
        self, user: str, text: str, *, group: str | None = None
    ) -> list[SandboxMessage]:
        """Like :meth:`say`, but the messages with their addresses."""
        mark = len(self.sandbox.messages)
        await self.say(user, text, group=group)
        return list(self.sandbox.messages)[mark:]

    async def flush(self) -> list[SandboxMessage]:
        await self.runtime.worker.drain()
        new = list(self.sandbox.messages)[self._seen :]
        self._seen = len(self.sandbox.messages)
        return new

    async def tick(self) -> list[SandboxMessage]:
        await self.runtime.planner.tick()
        return await self.flush()

    async def run_until(
        self, end: datetime, step: timedelta
    ) -> list[tuple[datetime, SandboxMessage]]:
        """Move the clock to ``end`` in steps, ticking the planner at each; what was sent when."""
        sent = []
        while self.clock.now() < end:
            self.clock.advance(step)
            for message in await self.tick():
                sent.append((self.clock.now(), message))
        return sent

    async def fast_forward(self, until: datetime) -> list[tuple[datetime, SandboxMessage]]:
        """Let time pass to ``until`` as ``lvzhi tick`` does; what was sent when."""
        self._seen = len(self.sandbox.messages)
        sent = await fast_forward(
            clock=self.clock,
            planner=self.runtime.planner,
            worker=self.runtime.worker,
            db=self.db,
            sandbox=self.sandbox,
            until=until,
        )
        self._seen = len(self.sandbox.messages)
        return [(m.at, m) for m in sent]


@contextlib.asynccontextmanager
async def running_bot(config: Config, clock: FakeClock) -> AsyncIterator[Bot]:
    sandbox = SandboxSender(clock)
    async with open_runtime(
        config, clock=clock, sender=sandbox, start_worker=False, start_planner=False, migrate=True
    ) as runtime:
        yield Bot(runtime, clock, sandbox)
