"""WeCom customer groups (客户群): notices to WeChat groups, confirmed by a staff member.

No API posts silently into a WeChat group. What exists is an enterprise group-send
(企业群发): ``externalcontact/add_msg_template`` with ``chat_type`` group creates a *task* for
the group's owner (群主, a staff member's userid), who sees it in the WeCom client and taps to
send. WeCom lets one customer group receive 4 such sends per calendar month, enterprise-wide.
The text is at most 4000 bytes.

So a delivery to a customer group:

1. takes a slot of the group's month (``customer_group_sends``, under a lock per chat); when
   the month is used up it ends ``dead`` at once, with an alert saying so, instead of creating a
   task WeCom would refuse to deliver;
2. creates the task; the delivery becomes ``awaiting`` (the secretary's ``待确认群发`` and the
   delivery record show it), never ``sent`` on WeCom's "ok" alone;
3. is checked every ``customer_group_poll_seconds`` with ``get_groupmsg_send_result`` (the
   owner's result for that chat): status 1 → ``sent``; 2 or 3 → ``dead`` with the reason and an
   alert; still 0 after ``customer_group_confirm_hours`` → the task is cancelled
   (``cancel_groupmsg_send``) and the delivery ends ``expired``, with an alert.

The worker calls :meth:`CustomerGroups.submit` for ``customer_group`` addresses and
:meth:`CustomerGroups.poll` every round (cheap when nothing is due).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from bot.clock import Clock
from bot.config import Config
from bot.delivery.base import Address, Failed, Outcome, Retry, Throttled
from bot.delivery.text import split_utf8
from bot.delivery.worker import Job
from bot.wecom.api import Reply, WeComCallError, WeComTransportError
from bot.wecom.sender import WeComSender, outcome_of
from storage import Database
from storage.models_wechat import CustomerGroupSend

log = logging.getLogger(__name__)

TEXT_LIMIT = 4000  # bytes: add_msg_template's text.content
SENT, NOT_FRIEND, OVER_LIMIT = 1, 2, 3
FAILURES = {
    NOT_FRIEND: "群主已不在该客户群（或不是好友），企业微信未发送",
    OVER_LIMIT: "该客户群本月已收到其他企业群发，超出企业微信上限，未发送",
}


@dataclass(frozen=True, slots=True)
class Result:
    """What WeCom says of one task for one chat: its status (None: not listed yet)."""

    status: int | None
    sent_at: datetime | None = None


class CustomerGroups:
    def __init__(self, db: Database, sender: WeComSender, config: Config, clock: Clock) -> None:
        self.db = db
        self.sender = sender
        self.config = config
        self.clock = clock
        wecom = config.wecom
        self.cap = wecom.customer_group_monthly_cap
        self.poll_every = timedelta(seconds=wecom.customer_group_poll_seconds)
        self.confirm_within = timedelta(hours=wecom.customer_group_confirm_hours)
        self.lease = timedelta(seconds=config.delivery.lease_seconds)

    # -- creating the task -------------------------------------------------------------------

    async def submit(self, job: Job, address: Address, *, owner: str) -> Outcome | None:
        now = self.clock.now()
        text = split_utf8(str(job.payload.get("content", "")), TEXT_LIMIT)[0]
        async with self.db.transaction() as tx:
            if not await tx.deliveries.renew_lease(job.id, owner=owner, now=now, lease=self.lease):
                return None  # another worker has it now
            group = await tx.customer_groups.by_chat_id(address.value)
            if group is None or not group.customer_owner:
                return Failed(f"{address.label}: 客户群未设置群主（发送成员）", alert=True)
            slot = await tx.customer_groups.reserve(
                delivery_id=job.id,
                group_id=group.id,
                chat_id=address.value,
                owner=group.customer_owner,
                month=self._month(now),
                cap=self.cap,
                preview=text[:200],
                now=now,
            )
            if slot is None:
                return Failed(
                    f"{address.label}: 本月企业群发次数已用完（每个客户群每月 {self.cap} 条），"
                    "未创建群发任务；请改用其他渠道或下月再发"
                )
            if slot.status == "awaiting" and slot.msgid:
                # Created before a crash that kept the delivery pending: just wait for it.
                await tx.customer_groups.created(
                    slot.id, msgid=slot.msgid, delivery_id=job.id, check_at=now
                )
                return None
            slot_id, chat_owner = slot.id, slot.owner
        return await self._create(job, address, slot_id, chat_owner, text)

    async def _create(
        self, job: Job, address: Address, slot_id: int, chat_owner: str, text: str
    ) -> Outcome | None:
        try:
            reply = await self.sender.call(
                lambda token: self.sender.api.add_msg_template(
                    token, sender=chat_owner, chat_id=address.value, content=text
                )
            )
        except (WeComTransportError, WeComCallError) as exc:
            # WeCom may have created the task before the answer was lost: the slot stays
            # taken (conservative for the cap) and the retry reuses it.
            return Retry(f"{address.label}: {exc}")
        msgid = reply.body.get("msgid")
        now = self.clock.now()
        async with self.db.transaction() as tx:
            if reply.ok and isinstance(msgid, str) and msgid:
                await tx.customer_groups.created(
                    slot_id, msgid=msgid, delivery_id=job.id, check_at=now + self.poll_every
                )
                log.info("customer-group send %s created for %s", msgid, address.label)
                return None
            await tx.customer_groups.release(slot_id)  # certainly not created
        outcome = outcome_of(reply, address)
        return (
            outcome
            if isinstance(outcome, Retry | Throttled | Failed)
            else Retry(f"{address.label}: add_msg_template answered without a msgid")
        )

    # -- waiting for the owner ---------------------------------------------------------------

    async def poll(self) -> None:
        now = self.clock.now()
        async with self.db.read() as tx:
            due = await tx.customer_groups.due_checks(now)
        for send in due:
            await self._check(send)

    async def _check(self, send: CustomerGroupSend) -> None:
        try:
            result = await self._result(send)
        except (WeComTransportError, WeComCallError) as exc:
            async with self.db.transaction() as tx:
                await tx.customer_groups.check_later(
                    send.id, self.clock.now() + self.poll_every, str(exc)
                )
            return
        now = self.clock.now()
        if result.status == SENT:
            await self._settle(send, "sent", result.sent_at or now)
        elif result.status in FAILURES:
            await self._settle(send, "failed", now, FAILURES[result.status])
        elif now - send.created_at >= self.confirm_within:
            await self._cancel(send)
            hours = self.confirm_within.total_seconds() / 3600
            error = f"群主 {send.owner} 未在 {hours:g} 小时内确认发送，群发任务已取消"
            await self._settle(send, "expired", now, error)
        else:
            async with self.db.transaction() as tx:
                await tx.customer_groups.check_later(send.id, now + self.poll_every)

    async def _result(self, send: CustomerGroupSend) -> Result:
        cursor = ""
        for _ in range(20):  # pages of 1000: far more than one owner's groups
            reply = await self.sender.call(partial(self._page, send=send, cursor=cursor))
            if not reply.ok:
                raise WeComCallError(reply.describe(), reply.errcode)
            found = _status_of(reply, send.chat_id)
            cursor = str(reply.body.get("next_cursor") or "")
            if found.status is not None or not cursor:
                return found
        return Result(None)

    async def _page(self, token: str, *, send: CustomerGroupSend, cursor: str) -> Reply:
        return await self.sender.api.groupmsg_send_result(
            token, msgid=str(send.msgid), userid=send.owner, cursor=cursor
        )

    async def _cancel(self, send: CustomerGroupSend) -> None:
        try:
            reply = await self.sender.call(
                lambda token: self.sender.api.cancel_groupmsg_send(token, msgid=str(send.msgid))
            )
            if not reply.ok:
                log.warning("cancelling customer-group send %s: %s", send.msgid, reply.describe())
        except (WeComTransportError, WeComCallError) as exc:
            log.warning("cancelling customer-group send %s: %s", send.msgid, exc)

    async def _settle(
        self, send: CustomerGroupSend, status: str, at: datetime, error: str | None = None
    ) -> None:
        async with self.db.transaction() as tx:
            settled = await tx.customer_groups.settle(send, status=status, now=at, error=error)
            if settled and error:
                await tx.alerts.raise_alert(
                    at=self.clock.now(),
                    kind="customer_group",
                    message=f"delivery {send.delivery_id}: {error}",
                )

    def _month(self, now: datetime) -> str:
        """The calendar month WeCom counts in (the configured zone, Asia/Shanghai)."""
        return now.astimezone(self.config.time.zone).strftime("%Y-%m")


def _status_of(reply: Reply, chat_id: str) -> Result:
    for item in reply.body.get("send_list") or ():
        if isinstance(item, dict) and item.get("chat_id") == chat_id:
            status = item.get("status")
            sent = item.get("send_time")
            at = datetime.fromtimestamp(sent, tz=UTC) if isinstance(sent, int) and sent else None
            return Result(status if isinstance(status, int) else None, at)
    return Result(None)
