"""WeChat reach: Official Account followers, customer-group sends, channel preference

Revision ID: 0005_wechat
Revises: 0004
Create Date: 2026-11-27 09:00:00

Hand-written: the followers (公众号 OpenIDs bound to members), the customer-group sends
(客户群群发 waiting for their owner's confirmation), a member's preferred channel and a group's
customer-group chat. SQLite cannot ADD a UNIQUE column, so the customer chat id is unique
through an index (the model says ``unique=True, index=True``, which is the same thing).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_wechat"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("members", sa.Column("channel_pref", sa.String(length=8), nullable=True))
    op.add_column("groups", sa.Column("customer_chat_id", sa.String(length=64), nullable=True))
    op.add_column("groups", sa.Column("customer_owner", sa.String(length=64), nullable=True))
    op.create_index(
        op.f("ix_groups_customer_chat_id"), "groups", ["customer_chat_id"], unique=True
    )
    op.create_table(
        "wechat_followers",
        sa.Column("id", ID, nullable=False),
        sa.Column("app_id", sa.String(length=32), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("member_id", ID, nullable=True),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.Column("bound_at", TS, nullable=True),
        sa.Column("last_message_at", TS, nullable=True),
        sa.Column("custom_sent", sa.Integer(), nullable=False),
        sa.Column("custom_refused_at", TS, nullable=True),
        sa.Column("pending_member_id", ID, nullable=True),
        sa.Column("bind_code", sa.String(length=8), nullable=True),
        sa.Column("bind_code_expires_at", TS, nullable=True),
        sa.Column("bind_attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_wechat_followers_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["pending_member_id"],
            ["members.id"],
            name=op.f("fk_wechat_followers_pending_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_followers")),
        sa.UniqueConstraint("app_id", "openid", name=op.f("uq_wechat_followers_app_id_openid")),
        sa.UniqueConstraint(
            "app_id", "member_id", name=op.f("uq_wechat_followers_app_id_member_id")
        ),
    )
    op.create_table(
        "customer_group_sends",
        sa.Column("id", ID, nullable=False),
        sa.Column("delivery_id", ID, nullable=False),
        sa.Column("group_id", ID, nullable=True),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("msgid", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("preview", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("next_check_at", TS, nullable=False),
        sa.Column("confirmed_at", TS, nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_customer_group_sends_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_customer_group_sends_group_id_groups"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_group_sends")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_customer_group_sends_delivery_id")),
    )
    op.create_index(
        "ix_customer_group_sends_chat_month",
        "customer_group_sends",
        ["chat_id", "month"],
        unique=False,
    )
    op.create_index(
        "ix_customer_group_sends_status_check",
        "customer_group_sends",
        ["status", "next_check_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_customer_group_sends_status_check", table_name="customer_group_sends")
    op.drop_index("ix_customer_group_sends_chat_month", table_name="customer_group_sends")
    op.drop_table("customer_group_sends")
    op.drop_table("wechat_followers")
    op.drop_index(op.f("ix_groups_customer_chat_id"), table_name="groups")
    with op.batch_alter_table("groups") as batch:
        batch.drop_column("customer_owner")
        batch.drop_column("customer_chat_id")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("channel_pref")
