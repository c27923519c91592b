"""Official Account followers (公众号关注者) and customer-group sends (客户群群发)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update

from storage.models import Delivery, Group, Member
from storage.models_wechat import CustomerGroupSend, WeChatFollower
from storage.repos.base import Repo
from storage.repos.delivery import _lock_id

# Sends that use up a slot of the month: created (or about to be) and not known to have failed.
COUNTED = ("reserved", "awaiting", "sent")


@dataclass(frozen=True, slots=True)
class PendingBinding:
    """A binding under way, as the secretary's 绑定码 list shows it."""

    member: Member
    code: str
    expires_at: datetime


class WeChatRepo(Repo):
    async def follower(self, app_id: str, openid: str) -> WeChatFollower | None:
        return await self.session.scalar(
            select(WeChatFollower).where(
                WeChatFollower.app_id == app_id, WeChatFollower.openid == openid
            )
        )

    async def touch(
        self, app_id: str, openid: str, *, now: datetime, message: bool, subscribed: bool | None
    ) -> WeChatFollower:
        """The follower row of ``openid`` (created on first contact), updated for this contact.

        A message from the follower opens a new customer-service window (客服消息 48 h);
        events do not (WeChat gives them a one-minute quota only, which we do not use).
        """
        statement = (
            self.upsert_insert(WeChatFollower)
            .values(
                app_id=app_id,
                openid=openid,
                subscribed=True,
                custom_sent=0,
                bind_attempts=0,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["app_id", "openid"])
        )
        await self.session.execute(statement)
        follower = await self.follower(app_id, openid)
        assert follower is not None
        if message:
            follower.last_message_at = now
            follower.custom_sent = 0
            follower.custom_refused_at = None
        if subscribed is not None:
            follower.subscribed = subscribed
        follower.updated_at = now
        await self.session.flush()
        return follower

    async def by_member(self, app_id: str, member_id: int) -> WeChatFollower | None:
        return await self.session.scalar(
            select(WeChatFollower).where(
                WeChatFollower.app_id == app_id, WeChatFollower.member_id == member_id
            )
        )

    async def start_binding(
        self,
        follower: WeChatFollower,
        member_id: int | None,
        *,
        code: str,
        expires_at: datetime,
        reset_attempts: bool = False,
    ) -> None:
        """Keep ``code`` for the member a mobile number named (None: a number not in the
        roster, whose code nobody can see, so that both cases look the same)."""
        follower.pending_member_id = member_id
        follower.bind_code = code
        follower.bind_code_expires_at = expires_at
        if reset_attempts:
            follower.bind_attempts = 0
        await self.session.flush()

    async def failed_attempt(self, follower: WeChatFollower, *, give_up_after: int) -> bool:
        """Count a wrong code; True when that was the last one allowed."""
        follower.bind_attempts += 1
        await self.session.flush()
        return follower.bind_attempts >= give_up_after

    async def lock_binding(self, follower: WeChatFollower, *, until: datetime) -> None:
        """Too many wrong codes: no code, and no new one before ``until``."""
        follower.pending_member_id = None
        follower.bind_code = None
        follower.bind_code_expires_at = until
        await self.session.flush()

    async def cancel_binding(self, follower: WeChatFollower) -> None:
        follower.pending_member_id = None
        follower.bind_code = None
        follower.bind_code_expires_at = None
        await self.session.flush()

    async def bind(self, follower: WeChatFollower, member_id: int, *, now: datetime) -> None:
        """Bind ``follower`` to the member; a previous OpenID of that member is unbound."""
        await self.session.execute(
            update(WeChatFollower)
            .where(
                WeChatFollower.app_id == follower.app_id,
                WeChatFollower.member_id == member_id,
                WeChatFollower.id != follower.id,
            )
            .values(member_id=None, bound_at=None, updated_at=now)
        )
        follower.member_id = member_id
        follower.bound_at = now
        follower.bind_attempts = 0
        await self.cancel_binding(follower)

    async def unbind(self, follower: WeChatFollower, *, now: datetime) -> None:
        follower.member_id = None
        follower.bound_at = None
        follower.updated_at = now
        await self.session.flush()

    async def pending_bindings(self, app_id: str, now: datetime) -> list[PendingBinding]:
        rows = await self.session.execute(
            select(WeChatFollower, Member)
            .join(Member, Member.id == WeChatFollower.pending_member_id)
            .where(
                WeChatFollower.app_id == app_id,
                WeChatFollower.bind_code.is_not(None),
                WeChatFollower.bind_code_expires_at > now,
            )
            .order_by(WeChatFollower.bind_code_expires_at)
        )
        return [
            PendingBinding(member, str(f.bind_code), f.bind_code_expires_at)
            for f, member in rows
            if f.bind_code_expires_at is not None
        ]

    async def note_custom_sent(self, app_id: str, openid: str) -> None:
        await self.session.execute(
            update(WeChatFollower)
            .where(WeChatFollower.app_id == app_id, WeChatFollower.openid == openid)
            .values(custom_sent=WeChatFollower.custom_sent + 1)
        )

    async def note_window_closed(self, app_id: str, openid: str, now: datetime) -> None:
        """WeChat refused a custom message (45015/45047): the window is shut until they write."""
        await self.session.execute(
            update(WeChatFollower)
            .where(WeChatFollower.app_id == app_id, WeChatFollower.openid == openid)
            .values(custom_refused_at=now)
        )

    async def note_unsubscribed(self, app_id: str, openid: str) -> None:
        await self.session.execute(
            update(WeChatFollower)
            .where(WeChatFollower.app_id == app_id, WeChatFollower.openid == openid)
            .values(subscribed=False)
        )

    async def set_channel_pref(self, member_id: int, pref: str | None) -> None:
        await self.session.execute(
            update(Member).where(Member.id == member_id).values(channel_pref=pref)
        )

    async def claim_passive_reply(self, key: str, now: datetime) -> Delivery | None:
        """Take the queued reply ``key`` for the HTTP answer (被动回复): mark it sent, unless a
        worker already holds or sent it. The condition and the write are one statement, so
        the reply goes out exactly once, passively or through the worker."""
        row = await self.session.scalar(
            update(Delivery)
            .where(
                Delivery.idempotency_key == key,
                Delivery.status == "pending",
                Delivery.parts_sent == 0,
                (Delivery.lease_until.is_(None)) | (Delivery.lease_until < now),
            )
            .values(status="sent", sent_at=now, lease_owner=None, lease_until=None)
            .returning(Delivery)
            .execution_options(synchronize_session=False)
        )
        return row


class CustomerGroupRepo(Repo):
    async def by_chat_id(self, chat_id: str) -> Group | None:
        return await self.session.scalar(select(Group).where(Group.customer_chat_id == chat_id))

    async def attach(self, group: Group, *, chat_id: str, owner: str) -> None:
        """Reach ``group`` through a customer group (its other channels are dropped)."""
        group.customer_chat_id = chat_id
        group.customer_owner = owner
        group.app_chat_id = None
        group.robot_key = None
        await self.session.flush()

    async def detach(self, group: Group) -> None:
        group.customer_chat_id = None
        group.customer_owner = None
        await self.session.flush()

    async def reserve(
        self,
        *,
        delivery_id: int,
        group_id: int | None,
        chat_id: str,
        owner: str,
        month: str,
        cap: int,
        preview: str,
        now: datetime,
    ) -> CustomerGroupSend | None:
        """A slot of ``chat_id``'s month for this delivery, or None when the cap is reached.

        A retry of the same delivery gets its earlier row back (it may have been created in
        WeCom before a crash). The count and the insert happen under one lock per chat (an
        advisory lock on PostgreSQL; SQLite's single writer), so processes never overshoot.
        """
        if self.dialect == "postgresql":
            await self.session.execute(
                select(func.pg_advisory_xact_lock(_lock_id(f"customer-group:{chat_id}")))
            )
        existing = await self.session.scalar(
            select(CustomerGroupSend).where(CustomerGroupSend.delivery_id == delivery_id)
        )
        if existing is not None:
            return existing
        if await self.used(chat_id, month) >= cap:
            return None
        row = CustomerGroupSend(
            delivery_id=delivery_id,
            group_id=group_id,
            chat_id=chat_id,
            owner=owner,
            month=month,
            status="reserved",
            preview=preview,
            created_at=now,
            next_check_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def used(self, chat_id: str, month: str) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(CustomerGroupSend)
            .where(
                CustomerGroupSend.chat_id == chat_id,
                CustomerGroupSend.month == month,
                CustomerGroupSend.status.in_(COUNTED),
            )
        )
        return int(count or 0)

    async def created(
        self, send_id: int, *, msgid: str, delivery_id: int, check_at: datetime
    ) -> None:
        """WeCom accepted the task: the send and its delivery wait for the owner."""
        await self.session.execute(
            update(CustomerGroupSend)
            .where(CustomerGroupSend.id == send_id)
            .values(msgid=msgid, status="awaiting", next_check_at=check_at)
        )
        await self.session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status == "pending")
            .values(
                status="awaiting",
                lease_owner=None,
                lease_until=None,
                last_error="等待群主在企业微信中确认发送",
            )
        )

    async def release(self, send_id: int) -> None:
        """The task was certainly not created: give the slot back."""
        await self.session.execute(
            delete(CustomerGroupSend).where(
                CustomerGroupSend.id == send_id, CustomerGroupSend.status == "reserved"
            )
        )

    async def due_checks(self, now: datetime, limit: int = 50) -> list[CustomerGroupSend]:
        rows = await self.session.scalars(
            select(CustomerGroupSend)
            .where(CustomerGroupSend.status == "awaiting", CustomerGroupSend.next_check_at <= now)
            .order_by(CustomerGroupSend.next_check_at, CustomerGroupSend.id)
            .limit(limit)
        )
        return list(rows)

    async def check_later(self, send_id: int, at: datetime, error: str | None = None) -> None:
        await self.session.execute(
            update(CustomerGroupSend)
            .where(CustomerGroupSend.id == send_id, CustomerGroupSend.status == "awaiting")
            .values(next_check_at=at, last_error=error[:500] if error else None)
        )

    async def settle(
        self, send: CustomerGroupSend, *, status: str, now: datetime, error: str | None = None
    ) -> bool:
        """End an awaiting send and its delivery (sent | failed | expired); False if another
        process settled it first."""
        result = await self.changed(
            update(CustomerGroupSend)
            .where(CustomerGroupSend.id == send.id, CustomerGroupSend.status == "awaiting")
            .values(
                status=status,
                confirmed_at=now if status == "sent" else None,
                last_error=error[:500] if error else None,
            )
        )
        if not result:
            return False
        delivery_status = {"sent": "sent", "failed": "dead", "expired": "expired"}[status]
        await self.session.execute(
            update(Delivery)
            .where(Delivery.id == send.delivery_id, Delivery.status == "awaiting")
            .values(
                status=delivery_status,
                sent_at=now if status == "sent" else None,
                last_error=error[:500] if error else None,
            )
        )
        return True

    async def awaiting(self, limit: int = 100) -> list[tuple[CustomerGroupSend, str]]:
        """Sends waiting for their owner's confirmation, oldest first, with the group's name."""
        rows = await self.session.execute(
            select(CustomerGroupSend, Group.name)
            .outerjoin(Group, Group.id == CustomerGroupSend.group_id)
            .where(CustomerGroupSend.status == "awaiting")
            .order_by(CustomerGroupSend.created_at, CustomerGroupSend.id)
            .limit(limit)
        )
        return [(send, name or send.chat_id) for send, name in rows]

    async def by_delivery(self, delivery_id: int) -> CustomerGroupSend | None:
        return await self.session.scalar(
            select(CustomerGroupSend).where(CustomerGroupSend.delivery_id == delivery_id)
        )
