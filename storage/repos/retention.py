"""Pruning the operational tables: rows that only the machinery needed, once they are old.

Only these tables are ever touched here: ``inbound_messages`` (and ``callback_nonces``),
``deliveries`` that ended, ``send_log`` (and ended ``gate_cooldowns``), expired ``dialogs``
and ``alerts``. The office's records — members, groups, check-ins, reports and their history
and versions, notices, meetings, tasks, the audit log, the planner's marks (which keep every
scheduled push at most once, ever) — have no method here.

Deletes go in batches of ``batch`` rows, one transaction each (the caller's), so that on
SQLite the server's writer waits for one short batch at a time, never for the whole prune.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, select

from storage.models import (
    Alert,
    CallbackNonce,
    Delivery,
    DialogState,
    GateCooldown,
    InboundMessage,
    SendLogEntry,
)
from storage.models_wechat import CustomerGroupSend
from storage.repos.base import Repo

# Deliveries that ended; ``pending`` and ``awaiting`` (a customer-group send its owner has yet
# to confirm) are still at work.
ENDED = ("sent", "dead", "expired")

# What can be pruned, by name (``lvzhi prune`` prints these names).
KINDS = ("inbound", "deliveries", "send_log", "dialogs", "alerts")


class RetentionRepo(Repo):
    def _conditions(self, kind: str, before: datetime, month: str) -> list[tuple[Any, Any]]:
        """(model, condition) pairs of what ``kind`` prunes when older than ``before``."""
        if kind == "inbound":
            return [
                (InboundMessage, InboundMessage.received_at < before),
                (CallbackNonce, CallbackNonce.seen_at < before),
            ]
        if kind == "deliveries":
            # A customer-group send counts against its group's monthly cap (4 a month) through
            # its delivery: keep those of the current month and later.
            counted = exists().where(
                CustomerGroupSend.delivery_id == Delivery.id, CustomerGroupSend.month >= month
            )
            return [
                (
                    Delivery,
                    Delivery.status.in_(ENDED) & (Delivery.created_at < before) & ~counted,
                )
            ]
        if kind == "send_log":
            return [
                (SendLogEntry, SendLogEntry.at < before),
                (GateCooldown, GateCooldown.until < before),
            ]
        if kind == "dialogs":
            return [(DialogState, DialogState.expires_at < before)]
        if kind == "alerts":
            return [(Alert, Alert.at < before)]
        raise ValueError(f"unknown retention kind {kind!r}")

    async def count(self, kind: str, before: datetime, *, month: str = "") -> int:
        total = 0
        for model, condition in self._conditions(kind, before, month):
            total += int(
                await self.session.scalar(select(func.count()).select_from(model).where(condition))
                or 0
            )
        return total

    async def prune(self, kind: str, before: datetime, *, batch: int, month: str = "") -> int:
        """Delete up to ``batch`` rows of each of ``kind``'s tables; how many went."""
        total = 0
        for model, condition in self._conditions(kind, before, month):
            total += await self.changed(self._delete(model, condition, batch))
        return total

    @staticmethod
    def _delete(model: Any, condition: ColumnElement[bool], batch: int) -> Any:
        key = _key(model)
        if len(key) == 1:
            chosen = select(key[0]).where(condition).limit(batch)
            return delete(model).where(key[0].in_(chosen))
        # A composite key (dialogs, nonces, cool-downs): few rows, deleted at once.
        return delete(model).where(condition)


def _key(model: Any) -> list[Any]:
    return list(model.__table__.primary_key.columns)
