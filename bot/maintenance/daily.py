"""``serve``'s daily upkeep: the backup at ``[backup] time``, then retention; and the admins'
【系统提醒】 when a backup failed or none succeeded for two days.

The job is woken every few minutes (:meth:`bot.planner.Planner.every`); once the day's backup
time has passed it claims ``backup:<date>`` and ``retention:<date>`` as planner marks, so each
runs once a day whatever restarts happen and however many servers share the database (on
PostgreSQL the first one to claim does it). A server that was down at that time does it when
it is up again that day. A failed backup is not retried until the next day: it raises an alert
(kind ``backup``), which :class:`BackupAlertSource` tells the admins in chat, asking them to
run ``lvzhi backup`` by hand once the cause is fixed.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from bot.clock import Clock
from bot.config import Config
from bot.maintenance.archive import keep_newest
from bot.maintenance.backup import SUCCESS_MARK, backup_dir, make_backup
from bot.maintenance.retention import prune
from bot.messages import SYSTEM_ALERT, Send
from bot.planner import Occurrence, PlanEnv, privately
from storage import Database, Tx

log = logging.getLogger(__name__)

CHECK_SECONDS = 300  # how often the job looks whether the day's run is due
OVERDUE = timedelta(days=2)
ATTEMPT_MARK = "backup:"
ALERT_KIND = "backup"


def daily_time(config: Config) -> time:
    hour, _, minute = config.backup.time.partition(":")
    return time(int(hour), int(minute))


class DailyUpkeep:
    def __init__(self, config: Config, db: Database, clock: Clock) -> None:
        self.config = config
        self.db = db
        self.clock = clock

    async def run(self) -> dict[str, object]:
        """Do what is due today and not done yet; what was done (for logs and tests)."""
        now = self.clock.now().astimezone(self.config.time.zone)
        done: dict[str, object] = {}
        if now.time() < daily_time(self.config):
            return done
        day = now.date().isoformat()
        if self.config.backup.enabled and await self._claim(f"{ATTEMPT_MARK}{day}", now):
            done["backup"] = await self.backup(now)
        if self.config.retention.enabled and await self._claim(f"retention:{day}", now):
            pruned = await prune(self.db, self.config, now)
            log.info("retention: pruned %s", pruned)
            done["retention"] = pruned
        return done

    async def _claim(self, key: str, now: datetime) -> bool:
        async with self.db.transaction() as tx:
            return await tx.planner.mark(key, now)

    async def backup(self, now: datetime) -> object:
        try:
            made = await make_backup(self.config, self.db, now)
            removed = keep_newest(made.path.parent, self.config.backup.keep)
        except Exception as exc:
            log.exception("daily backup failed")
            reason = str(exc) or type(exc).__name__
            async with self.db.transaction() as tx:
                await tx.alerts.raise_alert(at=now, kind=ALERT_KIND, message=reason)
            return exc
        log.info(
            "backup %s: %d bytes in %.1f s; %d old archives removed",
            made.path,
            made.size,
            made.seconds,
            len(removed),
        )
        return made


class BackupAlertSource:
    """【系统提醒】 to the admins (or, with none, the secretaries): each failed daily backup,
    once; and once a day while no backup has succeeded for two days."""

    name = "backup"

    async def due(self, tx: Tx, env: PlanEnv) -> list[Occurrence]:
        if not env.config.backup.enabled:
            return []
        found = [
            Occurrence(
                f"backup-failed:{alert.id}",
                alert.at,
                self.name,
                {"kind": "failed", "reason": alert.message},
                expires_at=alert.at + timedelta(days=1),
                push="office",
            )
            for alert in await tx.alerts.since(env.now - OVERDUE, (ALERT_KIND,))
        ]
        first_try, _ = await tx.planner.first_and_last(ATTEMPT_MARK)
        _, last_ok = await tx.planner.first_and_last(SUCCESS_MARK)
        since = last_ok or first_try  # a server that never tried is not overdue
        if since is not None and env.now - since >= OVERDUE:
            morning = datetime.combine(env.now.date(), time(9, 0), tzinfo=env.zone)
            at = max(since + OVERDUE, morning)
            if at <= env.now:
                last = last_ok.astimezone(env.zone).strftime("%m月%d日%H:%M") if last_ok else ""
                found.append(
                    Occurrence(
                        f"backup-overdue:{env.now.date().isoformat()}",
                        at,
                        self.name,
                        {"kind": "overdue", "last": last},
                        expires_at=at + timedelta(days=1),
                        push="office",
                    )
                )
        return found

    async def expand(self, tx: Tx, occurrence: Occurrence, env: PlanEnv) -> list[Send]:
        args = occurrence.args
        folder = backup_dir(env.config)
        if args["kind"] == "failed":
            text = (
                f"{SYSTEM_ALERT}今天的自动备份没有成功：{args['reason']}。"
                f"请检查备份目录（{folder}）的磁盘空间和权限，处理后在服务器上运行"
                "「lvzhi backup」确认能够备份。"
            )
        else:
            last = f"最近一次成功是{args['last']}" if args["last"] else "还没有成功过"
            text = (
                f"{SYSTEM_ALERT}已经两天没有成功的备份了（{last}）。请检查 lvzhi serve 的日志和"
                f"备份目录（{folder}），并在服务器上运行「lvzhi backup」。"
            )
        admins = await tx.members.by_role("admin") or await tx.members.by_role("secretary")
        return privately(occurrence.key, text, admins)
