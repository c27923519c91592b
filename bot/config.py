"""Configuration: one TOML file loaded into frozen, typed dataclasses.

Every section and key here is mirrored, with a comment, in ``config.example.toml``. Any key can
also come from the environment as ``LVZHI_<SECTION>_<KEY>`` (e.g. ``LVZHI_WECOM_SECRET``), which
wins over the file: that is how secrets stay out of files that get copied around.

A bad file or value raises :class:`ConfigError` naming the key; the CLI prints that one line and
exits with code 2.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import ipaddress
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("lvzhi.toml")
ENV_PREFIX = "LVZHI_"


def secret_field(default: str = "") -> typing.Any:
    """A field that never shows in ``repr`` (and so never in a log line by accident)."""
    return field(default=default, repr=False, metadata={"secret": True})


@dataclass(frozen=True, slots=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = 256 * 1024


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    url: str = "sqlite+aiosqlite:///./lvzhi.db"
    pool_size: int = 10
    sqlite_busy_timeout_ms: int = 5000
    echo: bool = False


@dataclass(frozen=True, slots=True)
class WeComConfig:
    corp_id: str = ""
    agent_id: int = 0
    secret: str = secret_field()
    token: str = secret_field()
    encoding_aes_key: str = secret_field()
    api_base: str = "https://qyapi.weixin.qq.com"
    callback_path: str = "/wecom/callback"
    request_timeout_seconds: float = 10.0
    # WeCom's server-side duplicate check for message/send (seconds, at most 4 h): it closes most
    # of the crash window between WeCom's 200 and our commit for messages to members.
    duplicate_check_seconds: int = 1800
    # The AI bot (智能机器人): members @ it in group chats. Empty token disables its callback.
    aibot_path: str = "/wecom/aibot"
    aibot_token: str = secret_field()
    aibot_encoding_aes_key: str = secret_field()

    @property
    def configured(self) -> bool:
        """True when the self-built app can really talk to WeCom (otherwise: sandbox mode)."""
        return bool(self.corp_id and self.secret and self.token and self.encoding_aes_key)

    # WeCom customer groups (客户群) reached through externalcontact/add_msg_template: WeCom lets
    # one customer group receive 4 enterprise group-sends a calendar month; a staff member must
    # confirm each one in the WeCom client, and the bot polls for the result.
    customer_group_monthly_cap: int = 4
    customer_group_poll_seconds: float = 300.0
    customer_group_confirm_hours: float = 24.0

    @property
    def aibot_configured(self) -> bool:
        return bool(self.aibot_token and self.aibot_encoding_aes_key)


WECHAT_MODES = ("plain", "compatible", "safe")


@dataclass(frozen=True, slots=True)
class WeChatConfig:
    """公众号 (Official Account): followers talk to the bot, bound to roster members by OpenID."""

    app_id: str = ""
    app_secret: str = secret_field()
    token: str = secret_field()
    encoding_aes_key: str = secret_field()
    # 消息加解密方式: plain (明文), compatible (兼容) or safe (安全).
    mode: str = "safe"
    callback_path: str = "/wechat/callback"
    api_base: str = "https://api.weixin.qq.com"
    # WeChat waits 5 s for a passive reply; a reply ready within this many seconds goes in the
    # HTTP answer, a later one through message/custom/send. 0 disables passive replies.
    passive_reply_seconds: float = 4.0
    # 客服消息: allowed for 48 h after the follower's last message, a few messages per message.
    service_window_hours: float = 48.0
    service_window_messages: int = 5
    # 模板消息 (template) or 订阅通知 (subscribe) for reminders outside the window; empty: none.
    template_id: str = ""
    template_api: str = "template"
    template_title_key: str = "thing1"
    template_content_key: str = "thing2"
    template_value_chars: int = 20
    template_url: str = ""
    # The binding dialog (绑定 手机号 → a code the secretary sees).
    bind_code_minutes: int = 30
    bind_max_attempts: int = 5

    @property
    def configured(self) -> bool:
        """True when the Official Account callback and API can be used."""
        needs_key = self.mode != "plain"
        return bool(
            self.app_id
            and self.app_secret
            and self.token
            and (self.encoding_aes_key or not needs_key)
        )


@dataclass(frozen=True, slots=True)
class TimeConfig:
    timezone: str = "Asia/Shanghai"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class SchedulerConfig:
    enabled: bool = True
    planner_interval_seconds: float = 30.0
    # Start warning admins (weekly) this many days before a year whose holidays are provisional.
    calendar_warning_days: int = 30
    # No scheduled push between these times (HH:MM-HH:MM in [time] timezone; "" for none).
    quiet_hours: str = "21:30-07:30"
    # Whether the office's own alerts (lists for secretaries, nudges) keep quiet hours too.
    quiet_hours_office: bool = True


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    concurrency: int = 8
    batch_size: int = 50
    poll_interval_seconds: float = 1.0
    lease_seconds: int = 60
    max_attempts: int = 8
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 600.0
    default_ttl_hours: int = 24
    robot_limit: int = 18
    robot_window_seconds: float = 60.0
    member_limit: int = 30
    member_window_seconds: float = 60.0
    appchat_limit: int = 180
    appchat_window_seconds: float = 60.0
    cooldown_seconds: float = 60.0


@dataclass(frozen=True, slots=True)
class NoticesConfig:
    """通知、会议、督办: reminder delays, task nudges and the three-colour windows."""

    ack_reminder_hours: float = 4.0
    reply_reminder_hours: float = 24.0
    meeting_reminder_hours: float = 2.0
    task_nudge_offsets: str = "3d,1d,0d"
    task_nudge_time: str = "09:00"
    blue_window_days: float = 3.0
    yellow_window_days: float = 1.0
    daily_list_time: str = "09:00"


@dataclass(frozen=True, slots=True)
class ReportsConfig:
    """社情民意: review nudges to the secretaries, the draft expiry warning, stored media."""

    review_nudge_hours: float = 48.0
    review_nudge_time: str = "09:00"
    draft_warning_minutes: int = 5
    media_dir: str = "./media"
    # How often attachments' media is fetched from WeCom (it keeps a media id 3 days).
    media_fetch_seconds: int = 300
    max_attachment_bytes: int = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ProposalsConfig:
    """提案: the number's format, each step's deadline in days, the answer's classification."""

    # {year} and {seq} (with an optional format, {seq:04d}); the office's own prefix.
    number_format: str = "TA-{year}-{seq:04d}"
    review_days: int = 15  # 审查 (立案 / 不予立案 / 并案) after submission
    assign_days: int = 7  # 交办 after 立案
    answer_days: int = 90  # the unit's 答复 after 交办 (and again after 重新办理)
    rating_days: int = 15  # the proposer's 满意度 after 答复
    # The three colours of 三色督办 for a step's deadline (as [notices] does for tasks).
    blue_window_days: float = 14.0
    yellow_window_days: float = 7.0
    # The answer's classification: a code, a space, its name; the first is the best.
    classifications: tuple[str, ...] = ("A 已解决/采纳", "B 列入计划", "C 留作参考")


@dataclass(frozen=True, slots=True)
class ActivitiesConfig:
    """履职登记: the kinds of activity a member may register."""

    kinds: tuple[str, ...] = ("调研", "视察", "界别活动", "委员工作室", "协商发言", "培训", "其他")


@dataclass(frozen=True, slots=True)
class DialogConfig:
    timeout_minutes: int = 30


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    """管理后台: the secretaries' web console under ``/console/``."""

    enabled: bool = True
    # Off only for plain-HTTP localhost: a Secure cookie is never sent over http://.
    secure_cookies: bool = True
    session_hours: float = 12.0
    max_failed_logins: int = 5
    # Higher than per account: an office behind one NAT address shares it.
    max_failed_logins_per_ip: int = 20
    lockout_minutes: int = 15
    # WeCom web login (网页授权 inside WeCom, 扫码登录 in a browser): offered when [wecom] is
    # configured; a roster secretary or admin signs in with WeCom instead of a password.
    wecom_login: bool = True
    # The console's public origin as WeCom redirects back to it (https://host[:port]): the
    # host must be the app's 可信域名. Empty: taken from the request.
    public_url: str = ""
    # Reverse proxies (addresses or networks) whose X-Forwarded-For is believed for the
    # client's address (the per-address lockout). Empty: the header is ignored, the peer counts.
    trusted_proxies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DutyConfig:
    """履职档案: the scoring rules file (empty: the built-in default) and the weekly chart."""

    rules_file: str = ""
    weekly_chart: bool = True


@dataclass(frozen=True, slots=True)
class BackupConfig:
    """``lvzhi serve`` backs up by itself once a day (``lvzhi backup`` does it by hand)."""

    enabled: bool = True
    # Where the daily archives go. Empty: a ``backups`` folder beside the SQLite file (on
    # PostgreSQL, ./backups).
    dir: str = ""
    # How many archives to keep (the newest); older ones are deleted after a new one is made.
    keep: int = 7
    # When (local time, HH:MM) the daily backup runs; a server that was down then runs it as
    # soon as it is up again that day.
    time: str = "03:00"


@dataclass(frozen=True, slots=True)
class RetentionConfig:
    """How long the operational tables keep their rows (days). The office's records —
    check-ins, reports and their history, notices, meetings, tasks, the audit log — are
    never pruned. ``lvzhi prune`` runs it by hand; ``serve`` after the daily backup."""

    enabled: bool = True
    # Accepted callbacks (inbound_messages). At least 1 day: longer than the callback
    # freshness window (3 h), so a replayed callback is refused by its stale timestamp once
    # its de-duplication row is gone.
    inbound_days: int = 90
    # Deliveries that ended (sent, dead, expired) this long ago.
    deliveries_days: int = 90
    # The rate gates' send log (only the last minute matters to a gate) and ended cool-downs.
    send_log_days: int = 7
    # Conversations (drafts, confirmations) that expired this long ago.
    dialogs_days: int = 7
    # Operator alerts (the console's overview shows the recent ones).
    alerts_days: int = 365


@dataclass(frozen=True, slots=True)
class LogConfig:
    level: str = "INFO"


@dataclass(frozen=True, slots=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    wecom: WeComConfig = field(default_factory=WeComConfig)
    wechat: WeChatConfig = field(default_factory=WeChatConfig)
    time: TimeConfig = field(default_factory=TimeConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    dialog: DialogConfig = field(default_factory=DialogConfig)
    notices: NoticesConfig = field(default_factory=NoticesConfig)
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    proposals: ProposalsConfig = field(default_factory=ProposalsConfig)
    activities: ActivitiesConfig = field(default_factory=ActivitiesConfig)
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    duty: DutyConfig = field(default_factory=DutyConfig)
    backup: BackupConfig = field(default_factory=BackupConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    log: LogConfig = field(default_factory=LogConfig)

    @property
    def sandbox(self) -> bool:
        return not self.wecom.configured

    def secrets(self) -> list[str]:
        """Every configured secret value, for the log redaction filter."""
        found: list[str] = []
        for section in dataclasses.fields(self):
            value = getattr(self, section.name)
            for item in dataclasses.fields(value):
                if item.metadata.get("secret") and getattr(value, item.name):
                    found.append(getattr(value, item.name))
        return found


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read ``path`` (or ``./lvzhi.toml`` if present, else defaults) and the environment.

    An explicitly named file must exist; the default one is optional.
    """
    environ = os.environ if environ is None else environ
    data: dict[str, typing.Any] = {}
    if path is not None or DEFAULT_CONFIG_PATH.exists():
        file = path if path is not None else DEFAULT_CONFIG_PATH
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(str(file), "file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(str(file), f"cannot read: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(file), f"not valid TOML: {exc}") from None
    return build_config(data, environ)


def build_config(data: Mapping[str, typing.Any], environ: Mapping[str, str]) -> Config:
    sections = typing.get_type_hints(Config)
    for name, value in data.items():
        if name not in sections:
            raise ConfigError(f"[{name}]", "unknown section")
        if not isinstance(value, dict):
            raise ConfigError(f"[{name}]", "must be a table")
    built = {}
    for name, section_type in sections.items():
        built[name] = _build_section(name, section_type, data.get(name, {}), environ)
    config = Config(**built)
    _validate(config)
    return config


def _build_section(
    name: str, section_type: type, values: Mapping[str, typing.Any], environ: Mapping[str, str]
) -> typing.Any:
    hints = typing.get_type_hints(section_type)
    known = {f.name for f in dataclasses.fields(section_type)}
    for key in values:
        if key not in known:
            raise ConfigError(f"[{name}] {key}", "unknown key")
    kwargs: dict[str, typing.Any] = {}
    for key in known:
        env_name = f"{ENV_PREFIX}{name}_{key}".upper()
        if env_name in environ:
            kwargs[key] = _from_env(f"{env_name}", environ[env_name], hints[key])
        elif key in values:
            kwargs[key] = _checked(f"[{name}] {key}", values[key], hints[key])
    return section_type(**kwargs)


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _checked(key: str, value: typing.Any, expected: typing.Any) -> typing.Any:
    if expected == tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(key, "expected a list of strings")
        return tuple(value)
    if isinstance(expected, types.UnionType):
        expected = next(t for t in typing.get_args(expected) if t is not type(None))
    ok = (isinstance(value, expected) and not (expected is int and isinstance(value, bool))) or (
        expected is float and isinstance(value, int) and not isinstance(value, bool)
    )
    if not ok:
        raise ConfigError(
            key, f"expected {_TYPE_NAMES.get(expected, expected)}, got {type(value).__name__}"
        )
    return float(value) if expected is float else value


def _from_env(key: str, raw: str, expected: typing.Any) -> typing.Any:
    if expected == tuple[str, ...]:  # a list in the environment: comma-separated
        return tuple(item.strip() for item in raw.split(",") if item.strip())
    try:
        if expected is bool:
            if raw.lower() not in {"1", "0", "true", "false", "yes", "no"}:
                raise ValueError(raw)
            return raw.lower() in {"1", "true", "yes"}
        if expected is int:
            return int(raw)
        if expected is float:
            return float(raw)
    except ValueError:
        raise ConfigError(key, f"expected {_TYPE_NAMES[expected]}, got {raw!r}") from None
    return raw


def decode_aes_key(encoding_aes_key: str) -> bytes:
    """WeCom's EncodingAESKey: 43 characters of base64 without the trailing '='.

    Published keys are not always canonical base64 (the last character's spare bits may be
    set), so decode leniently and check only that 32 bytes come out.
    """
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
    if len(key) != 32:
        raise ValueError(f"must decode to 32 bytes (43 characters), got {len(key)} bytes")
    return key


def _validate(config: Config) -> None:
    server, wecom, db, delivery = config.server, config.wecom, config.database, config.delivery
    if not 0 < server.port < 65536:
        raise ConfigError("[server] port", f"must be between 1 and 65535, got {server.port}")
    if not db.url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError(
            "[database] url", "must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
        )
    for key, value in (
        ("encoding_aes_key", wecom.encoding_aes_key),
        ("aibot_encoding_aes_key", wecom.aibot_encoding_aes_key),
    ):
        if value:
            try:
                decode_aes_key(value)
            except ValueError as exc:
                raise ConfigError(f"[wecom] {key}", str(exc)) from None
    for key, path in (("callback_path", wecom.callback_path), ("aibot_path", wecom.aibot_path)):
        if not path.startswith("/"):
            raise ConfigError(f"[wecom] {key}", "must start with /")
    if wecom.callback_path == wecom.aibot_path:
        raise ConfigError(
            "[wecom] aibot_path", "must differ from callback_path (one path per app)"
        )
    if not wecom.api_base.startswith(("http://", "https://")):
        raise ConfigError("[wecom] api_base", "must be an http(s) URL")
    if not 0 <= wecom.duplicate_check_seconds <= 4 * 3600:
        raise ConfigError("[wecom] duplicate_check_seconds", "must be between 0 and 14400")
    partial = [k for k in ("corp_id", "secret", "token", "encoding_aes_key") if getattr(wecom, k)]
    if partial and len(partial) < 4:
        missing = sorted({"corp_id", "secret", "token", "encoding_aes_key"} - set(partial))
        raise ConfigError(f"[wecom] {missing[0]}", "missing (the other WeCom credentials are set)")
    if wecom.configured and wecom.agent_id <= 0:
        raise ConfigError("[wecom] agent_id", "must be the app's AgentId (a positive integer)")
    try:
        config.time.zone  # noqa: B018 - validating that the zone exists
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            "[time] timezone", f"unknown time zone {config.time.timezone!r}"
        ) from None
    for key in ("concurrency", "batch_size", "max_attempts", "robot_limit", "member_limit"):
        if getattr(delivery, key) < 1:
            raise ConfigError(f"[delivery] {key}", "must be at least 1")
    _validate_wechat(config.wechat, wecom)
    _validate_notices(config.notices)
    _validate_scheduler(config)
    _validate_reports(config.reports)
    _validate_proposals(config.proposals, config.activities)
    _validate_console(config.console)
    _validate_backup(config.backup, config.retention)
    if config.log.level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError("[log] level", "must be DEBUG, INFO, WARNING or ERROR")


def _validate_wechat(wechat: WeChatConfig, wecom: WeComConfig) -> None:
    if wechat.mode not in WECHAT_MODES:
        raise ConfigError("[wechat] mode", "must be plain, compatible or safe")
    if wechat.encoding_aes_key:
        try:
            decode_aes_key(wechat.encoding_aes_key)
        except ValueError as exc:
            raise ConfigError("[wechat] encoding_aes_key", str(exc)) from None
    if not wechat.callback_path.startswith("/"):
        raise ConfigError("[wechat] callback_path", "must start with /")
    if wechat.callback_path in (wecom.callback_path, wecom.aibot_path):
        raise ConfigError(
            "[wechat] callback_path", "must differ from the WeCom paths (one path per app)"
        )
    if not wechat.api_base.startswith(("http://", "https://")):
        raise ConfigError("[wechat] api_base", "must be an http(s) URL")
    if wechat.template_api not in ("template", "subscribe"):
        raise ConfigError("[wechat] template_api", "must be template or subscribe")
    if not 0 <= wechat.passive_reply_seconds < 5:
        raise ConfigError("[wechat] passive_reply_seconds", "must be at least 0 and below 5")
    for key in ("service_window_messages", "template_value_chars", "bind_max_attempts"):
        if getattr(wechat, key) < 1:
            raise ConfigError(f"[wechat] {key}", "must be at least 1")
    if wechat.bind_code_minutes < 1:
        raise ConfigError("[wechat] bind_code_minutes", "must be at least 1")
    if not 0 < wechat.service_window_hours <= 48:
        raise ConfigError("[wechat] service_window_hours", "must be more than 0 and at most 48")
    filled = [k for k in ("app_id", "app_secret", "token") if getattr(wechat, k)]
    if filled and not wechat.configured:
        needed = ["app_id", "app_secret", "token"]
        if wechat.mode != "plain":
            needed.append("encoding_aes_key")
        missing = [k for k in needed if not getattr(wechat, k)]
        raise ConfigError(f"[wechat] {missing[0]}", "missing (the other 公众号 settings are set)")
    if wecom.customer_group_monthly_cap < 1:
        raise ConfigError("[wecom] customer_group_monthly_cap", "must be at least 1")
    if wecom.customer_group_poll_seconds <= 0 or wecom.customer_group_confirm_hours <= 0:
        raise ConfigError(
            "[wecom] customer_group_poll_seconds", "poll and confirm times must be positive"
        )


def _validate_scheduler(config: Config) -> None:
    from bot.quiet import QuietHours

    try:
        QuietHours.parse(config.scheduler.quiet_hours, config.time.zone)
    except ValueError as exc:
        raise ConfigError("[scheduler] quiet_hours", str(exc)) from None


def _validate_notices(notices: NoticesConfig) -> None:
    for key in ("task_nudge_time", "daily_list_time"):
        value = getattr(notices, key)
        hour, _, minute = value.partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            raise ConfigError(f"[notices] {key}", f"must be HH:MM, got {value!r}")
    for item in notices.task_nudge_offsets.split(","):
        if not (item.strip().endswith("d") and item.strip()[:-1].isdigit()):
            raise ConfigError(
                "[notices] task_nudge_offsets", f'must look like "3d,1d,0d", got {item!r}'
            )
    if notices.yellow_window_days > notices.blue_window_days:
        raise ConfigError("[notices] yellow_window_days", "must not exceed blue_window_days")


def _validate_reports(reports: ReportsConfig) -> None:
    hour, _, minute = reports.review_nudge_time.partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise ConfigError(
            "[reports] review_nudge_time", f"must be HH:MM, got {reports.review_nudge_time!r}"
        )
    if reports.review_nudge_hours <= 0:
        raise ConfigError("[reports] review_nudge_hours", "must be more than 0")
    if reports.draft_warning_minutes < 0:
        raise ConfigError("[reports] draft_warning_minutes", "must not be negative")
    if reports.media_fetch_seconds <= 0:
        raise ConfigError("[reports] media_fetch_seconds", "must be more than 0")
    if reports.max_attachment_bytes <= 0:
        raise ConfigError("[reports] max_attachment_bytes", "must be more than 0")


def _is_hh_mm(value: str) -> bool:
    hour, _, minute = value.partition(":")
    return hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60


def _validate_proposals(proposals: ProposalsConfig, activities: ActivitiesConfig) -> None:
    fmt = proposals.number_format
    try:
        sample = fmt.format(year=2025, seq=1)
    except (KeyError, IndexError, ValueError):
        raise ConfigError(
            "[proposals] number_format", "may use only {year} and {seq} (e.g. TA-{year}-{seq:04d})"
        ) from None
    if "{year" not in fmt or "{seq" not in fmt or not 3 <= len(sample) <= 24:
        raise ConfigError(
            "[proposals] number_format", "must contain {year} and {seq}, at most 24 characters"
        )
    for key in ("review_days", "assign_days", "answer_days", "rating_days"):
        if getattr(proposals, key) < 1:
            raise ConfigError(f"[proposals] {key}", "must be at least 1")
    if proposals.yellow_window_days > proposals.blue_window_days:
        raise ConfigError("[proposals] yellow_window_days", "must not exceed blue_window_days")
    codes = [c.split(" ", 1)[0] for c in proposals.classifications]
    if not codes or any(" " not in c.strip() for c in proposals.classifications):
        raise ConfigError(
            "[proposals] classifications", 'each is "CODE name", e.g. "A 已解决/采纳"'
        )
    if len(set(codes)) != len(codes):
        raise ConfigError("[proposals] classifications", "codes must differ")
    if not activities.kinds or len(set(activities.kinds)) != len(activities.kinds):
        raise ConfigError("[activities] kinds", "must list at least one kind, each once")


def _validate_backup(backup: BackupConfig, retention: RetentionConfig) -> None:
    if not _is_hh_mm(backup.time):
        raise ConfigError("[backup] time", f"must be HH:MM, got {backup.time!r}")
    if backup.keep < 1:
        raise ConfigError("[backup] keep", "must be at least 1")
    for key in ("inbound_days", "deliveries_days", "send_log_days", "dialogs_days"):
        if getattr(retention, key) < 1:
            raise ConfigError(f"[retention] {key}", "must be at least 1 (day)")
    if retention.alerts_days < 1:
        raise ConfigError("[retention] alerts_days", "must be at least 1 (day)")


def _validate_console(console: ConsoleConfig) -> None:
    if console.session_hours <= 0:
        raise ConfigError("[console] session_hours", "must be more than 0")
    for key in ("max_failed_logins", "max_failed_logins_per_ip", "lockout_minutes"):
        if getattr(console, key) < 1:
            raise ConfigError(f"[console] {key}", "must be at least 1")
    if console.public_url and (
        not console.public_url.startswith(("http://", "https://"))
        or console.public_url.rstrip("/").count("/") > 2
    ):
        raise ConfigError(
            "[console] public_url", "must be an origin like https://lvzhi.example.gov.cn"
        )
    for proxy in console.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ConfigError(
                "[console] trusted_proxies",
                f"{proxy!r} is not an address or network (e.g. 127.0.0.1, 10.0.0.0/8)",
            ) from None
