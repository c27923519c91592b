"""Models of the WeChat reach: Official Account (公众号) followers and customer-group sends.

A follower is one OpenID of one Official Account. It may be bound to a roster member (once the
binding dialog — 绑定 手机号, then the code a secretary hands over — succeeded, or by import);
until then it is a stranger who only gets the explanation of how to bind. The follower row also
tracks the customer-service window (客服消息: allowed for 48 h after the follower's last
message, a few messages per message) so that the delivery worker knows, before calling WeChat,
whether a custom message can still reach them or a template message has to.

A customer-group send (客户群群发) is one ``externalcontact/add_msg_template`` task created for
one delivery: WeCom holds it until the group's owner confirms it in the WeCom client, and the
delivery is recorded sent only when ``get_groupmsg_send_result`` says so. The rows also count
the sends of a group in a calendar month, which WeCom caps.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, BigId


class WeChatFollower(Base):
    """关注者: one OpenID of the Official Account, bound to a member or not (yet)."""

    __tablename__ = "wechat_followers"
    __table_args__ = (
        UniqueConstraint("app_id", "openid"),
        UniqueConstraint("app_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    app_id: Mapped[str] = mapped_column(String(32))
    openid: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    subscribed: Mapped[bool] = mapped_column(default=True)
    bound_at: Mapped[datetime | None]
    # The customer-service window: opened by the follower's last message, used up by
    # ``custom_sent`` messages, or closed early when WeChat refused one (45015/45047).
    last_message_at: Mapped[datetime | None]
    custom_sent: Mapped[int] = mapped_column(default=0)
    custom_refused_at: Mapped[datetime | None]
    # A binding under way: the member the mobile number named, and the code to type back.
    pending_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    bind_code: Mapped[str | None] = mapped_column(String(8))
    bind_code_expires_at: Mapped[datetime | None]
    bind_attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CustomerGroupSend(Base):
    """客户群群发: one add_msg_template task for one delivery, waiting for its owner to confirm.

    status: reserved (counted against the month's cap, not yet created in WeCom) → awaiting
    (created; the owner has to confirm) → sent | failed | expired (not confirmed in time, the
    task cancelled in WeCom).
    """

    __tablename__ = "customer_group_sends"
    __table_args__ = (
        Index("ix_customer_group_sends_chat_month", "chat_id", "month"),
        Index("ix_customer_group_sends_status_check", "status", "next_check_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), unique=True
    )
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    chat_id: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))  # "2025-11", in the configured zone
    msgid: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="reserved")
    preview: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    next_check_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


__all__ = ["CustomerGroupSend", "WeChatFollower"]
