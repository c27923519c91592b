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
import re
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
        data = read_toml(file, f"配置文件 {file}")
    return build_config(data, environ)


def read_toml(file: Path, where: str) -> dict[str, typing.Any]:
    """The TOML document in ``file``; a :class:`ConfigError` on ``where`` (the file, as the
    person knows it) if it is missing, unreadable or not TOML."""
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(where, "不存在，请检查路径") from None
    except UnicodeDecodeError:
        raise ConfigError(where, "不是 UTF-8 编码，请另存为 UTF-8 后再试") from None
    except OSError as exc:
        raise ConfigError(where, f"无法读取：{_os_problem(exc)}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(where, f"不是合法的 TOML 格式：{_toml_position(exc)}") from None


def _os_problem(exc: OSError) -> str:
    # The operating system's own text (strerror) is English; say the common cases in Chinese.
    if isinstance(exc, PermissionError):
        return "没有读取权限"
    if isinstance(exc, IsADirectoryError):
        return "这是一个目录，不是文件"
    return f"操作系统报告错误（错误码 {exc.errno}）"


_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def _toml_position(exc: tomllib.TOMLDecodeError) -> str:
    # tomllib's message is English ("Expected '=' after a key (at line 3, column 7)"): keep only
    # where the mistake is, which is what the person needs to find it.
    found = _TOML_AT.search(str(exc))
    if found:
        return f"第 {found[1]} 行第 {found[2]} 列附近有语法错误"
    if "end of document" in str(exc):
        return "文件末尾有语法错误（如缺少右括号或引号）"
    return "有语法错误"


def build_config(data: Mapping[str, typing.Any], environ: Mapping[str, str]) -> Config:
    sections = typing.get_type_hints(Config)
    for name, value in data.items():
        if name not in sections:
            known = "、".join(f"[{s}]" for s in sections)
            raise ConfigError(f"[{name}]", f"不是可用的配置节，请核对拼写；可用的有：{known}")
        if not isinstance(value, dict):
            raise ConfigError(
                f"[{name}]", f"必须是一个配置节（以 [{name}] 开头的一段），现在写成了一个值"
            )
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
    fields = [f.name for f in dataclasses.fields(section_type)]
    for key in values:
        if key not in fields:
            raise ConfigError(
                f"[{name}] {key}",
                f"不是可用的配置项，请核对拼写；[{name}] 可用的有：{'、'.join(fields)}",
            )
    kwargs: dict[str, typing.Any] = {}
    for key in fields:
        env_name = f"{ENV_PREFIX}{name}_{key}".upper()
        if env_name in environ:
            where = f"环境变量 {env_name}（即 [{name}] {key}）"
            kwargs[key] = _from_env(where, environ[env_name], hints[key])
        elif key in values:
            kwargs[key] = _checked(f"[{name}] {key}", values[key], hints[key])
    return section_type(**kwargs)


# What a value must be, and what was written instead: a type is never shown with its value, so
# a secret given as the wrong type (an unquoted number) is not echoed.
_TYPE_NAMES = {str: "文字（加引号）", int: "整数", float: "数字", bool: "true 或 false"}
_WRITTEN_AS = {
    str: "文字",
    int: "整数",
    float: "小数",
    bool: "true 或 false",
    list: "列表",
    dict: "一个表",
}


def _written_as(value: typing.Any) -> str:
    return _WRITTEN_AS.get(type(value), "日期或时间")  # tomllib's other types are all dates


def spaced(chinese: str, then: str) -> str:
    """``chinese`` followed by ``then``, with the space Chinese text puts before Latin words."""
    return f"{chinese} {then}" if then[:1].isascii() else chinese + then


def _checked(key: str, value: typing.Any, expected: typing.Any) -> typing.Any:
    if expected == tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(key, '必须是文字的列表，如 ["甲", "乙"]，每一项都要加引号')
        return tuple(value)
    if isinstance(expected, types.UnionType):
        expected = next(t for t in typing.get_args(expected) if t is not type(None))
    ok = (isinstance(value, expected) and not (expected is int and isinstance(value, bool))) or (
        expected is float and isinstance(value, int) and not isinstance(value, bool)
    )
    if not ok:
        raise ConfigError(
            key,
            f"{spaced('必须是', _TYPE_NAMES.get(expected, str(expected)))}，"
            f"{spaced('现在写的是', _written_as(value))}",
        )
    return float(value) if expected is float else value


def _from_env(where: str, raw: str, expected: typing.Any) -> typing.Any:
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
        # Only numbers and switches get here: secrets are strings, never converted.
        accepted = "1、0、true、false、yes 或 no" if expected is bool else _TYPE_NAMES[expected]
        raise ConfigError(where, f"{spaced('必须是', accepted)}，现在是 {raw!r}") from None
    return raw


def decode_aes_key(encoding_aes_key: str) -> bytes:
    """WeCom's EncodingAESKey: 43 characters of base64 without the trailing '='.

    Published keys are not always canonical base64 (the last character's spare bits may be
    set), so decode leniently and check only that 32 bytes come out. The ValueError's text is
    for the person who copied the key, in Chinese, and never contains the key.
    """
    wanted = "必须是 43 个字符的 EncodingAESKey"
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{wanted}，现在的内容含有不该有的字符，请重新复制") from None
    if len(key) != 32:
        raise ValueError(f"{wanted}，现在是 {len(encoding_aes_key)} 个字符")
    return key


def _n(value: float) -> str:
    """A number as the person would write it: 0, 5, 2.5 (not 0.0)."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _at_least(where: str, value: float, least: int, unit: str = "") -> None:
    if value < least:
        raise ConfigError(where, f"必须至少为 {least}{unit}，现在是 {_n(value)}")


def _more_than_zero(where: str, value: float, unit: str = "") -> None:
    if value <= 0:
        raise ConfigError(where, f"必须大于 0{unit}，现在是 {_n(value)}")


def _hh_mm(where: str, value: str) -> None:
    if not _is_hh_mm(value):
        raise ConfigError(where, f"必须写成 HH:MM（24 小时制，如 08:30），现在是 {value!r}")


def _validate(config: Config) -> None:
    server, wecom, db, delivery = config.server, config.wecom, config.database, config.delivery
    if not 0 < server.port < 65536:
        raise ConfigError("[server] port", f"必须在 1 到 65535 之间，现在是 {server.port}")
    if not db.url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        # The URL itself is not shown: it may carry the database password.
        raise ConfigError(
            "[database] url", "必须以 sqlite+aiosqlite:// 或 postgresql+asyncpg:// 开头"
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
            raise ConfigError(f"[wecom] {key}", f"必须以 / 开头，现在是 {path!r}")
    if wecom.callback_path == wecom.aibot_path:
        raise ConfigError(
            "[wecom] aibot_path", "不能与 [wecom] callback_path 相同（每个应用用各自的回调路径）"
        )
    if not wecom.api_base.startswith(("http://", "https://")):
        raise ConfigError("[wecom] api_base", "必须是以 http:// 或 https:// 开头的网址")
    if not 0 <= wecom.duplicate_check_seconds <= 4 * 3600:
        raise ConfigError(
            "[wecom] duplicate_check_seconds",
            f"必须在 0 到 14400 秒之间，现在是 {_n(wecom.duplicate_check_seconds)}",
        )
    credentials = ("corp_id", "secret", "token", "encoding_aes_key")
    partial = [k for k in credentials if getattr(wecom, k)]
    if partial and len(partial) < 4:
        missing = sorted(set(credentials) - set(partial))
        raise ConfigError(
            f"[wecom] {missing[0]}",
            f"未填写：[wecom] 的 {'、'.join(credentials)} 要么都填，要么都不填"
            f"（现在只填了 {'、'.join(partial)}）",
        )
    if wecom.configured and wecom.agent_id <= 0:
        raise ConfigError(
            "[wecom] agent_id", f"必须填写应用的 AgentId（正整数），现在是 {wecom.agent_id}"
        )
    try:
        config.time.zone  # noqa: B018 - validating that the zone exists
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            "[time] timezone",
            f"不是已知的时区：{config.time.timezone!r}，应写成如 Asia/Shanghai",
        ) from None
    for key in ("concurrency", "batch_size", "max_attempts", "robot_limit", "member_limit"):
        _at_least(f"[delivery] {key}", getattr(delivery, key), 1)
    _validate_wechat(config.wechat, wecom)
    _validate_notices(config.notices)
    _validate_scheduler(config)
    _validate_reports(config.reports)
    _validate_proposals(config.proposals, config.activities)
    _validate_console(config.console)
    _validate_backup(config.backup, config.retention)
    if config.log.level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(
            "[log] level", f"必须是 DEBUG、INFO、WARNING 或 ERROR，现在是 {config.log.level!r}"
        )


def _validate_wechat(wechat: WeChatConfig, wecom: WeComConfig) -> None:
    if wechat.mode not in WECHAT_MODES:
        raise ConfigError(
            "[wechat] mode", f"必须是 plain、compatible 或 safe，现在是 {wechat.mode!r}"
        )
    if wechat.encoding_aes_key:
        try:
            decode_aes_key(wechat.encoding_aes_key)
        except ValueError as exc:
            raise ConfigError("[wechat] encoding_aes_key", str(exc)) from None
    if not wechat.callback_path.startswith("/"):
        raise ConfigError(
            "[wechat] callback_path", f"必须以 / 开头，现在是 {wechat.callback_path!r}"
        )
    if wechat.callback_path in (wecom.callback_path, wecom.aibot_path):
        raise ConfigError(
            "[wechat] callback_path",
            "不能与 [wecom] callback_path 或 aibot_path 相同（每个应用用各自的回调路径）",
        )
    if not wechat.api_base.startswith(("http://", "https://")):
        raise ConfigError("[wechat] api_base", "必须是以 http:// 或 https:// 开头的网址")
    if wechat.template_api not in ("template", "subscribe"):
        raise ConfigError(
            "[wechat] template_api",
            f"必须是 template 或 subscribe，现在是 {wechat.template_api!r}",
        )
    if not 0 <= wechat.passive_reply_seconds < 5:
        raise ConfigError(
            "[wechat] passive_reply_seconds",
            f"必须不小于 0 秒且小于 5 秒，现在是 {_n(wechat.passive_reply_seconds)}",
        )
    for key in ("service_window_messages", "template_value_chars", "bind_max_attempts"):
        _at_least(f"[wechat] {key}", getattr(wechat, key), 1)
    _at_least("[wechat] bind_code_minutes", wechat.bind_code_minutes, 1, " 分钟")
    if not 0 < wechat.service_window_hours <= 48:
        raise ConfigError(
            "[wechat] service_window_hours",
            f"必须大于 0 小时且不超过 48 小时，现在是 {_n(wechat.service_window_hours)}",
        )
    filled = [k for k in ("app_id", "app_secret", "token") if getattr(wechat, k)]
    if filled and not wechat.configured:
        needed = ["app_id", "app_secret", "token"]
        if wechat.mode != "plain":
            needed.append("encoding_aes_key")
        missing = [k for k in needed if not getattr(wechat, k)]
        raise ConfigError(
            f"[wechat] {missing[0]}",
            f"未填写：公众号的 {'、'.join(needed)} 要么都填，要么都不填"
            f"（现在只填了 {'、'.join(filled)}）",
        )
    _at_least("[wecom] customer_group_monthly_cap", wecom.customer_group_monthly_cap, 1)
    _more_than_zero(
        "[wecom] customer_group_poll_seconds", wecom.customer_group_poll_seconds, " 秒"
    )
    _more_than_zero(
        "[wecom] customer_group_confirm_hours", wecom.customer_group_confirm_hours, " 小时"
    )


def _validate_scheduler(config: Config) -> None:
    from bot.quiet import QuietHours

    try:
        QuietHours.parse(config.scheduler.quiet_hours, config.time.zone)
    except ValueError as exc:
        raise ConfigError("[scheduler] quiet_hours", str(exc)) from None


def _validate_notices(notices: NoticesConfig) -> None:
    for key in ("task_nudge_time", "daily_list_time"):
        _hh_mm(f"[notices] {key}", getattr(notices, key))
    for item in notices.task_nudge_offsets.split(","):
        if not (item.strip().endswith("d") and item.strip()[:-1].isdigit()):
            raise ConfigError(
                "[notices] task_nudge_offsets",
                f'必须是用逗号分开的天数、每个以 d 结尾，如 "3d,1d,0d"，其中 {item!r} 不对',
            )
    if notices.yellow_window_days > notices.blue_window_days:
        raise ConfigError(
            "[notices] yellow_window_days",
            f"不能大于 [notices] blue_window_days"
            f"（现在是 {_n(notices.yellow_window_days)} 天，"
            f"大于 {_n(notices.blue_window_days)} 天）",
        )


def _validate_reports(reports: ReportsConfig) -> None:
    _hh_mm("[reports] review_nudge_time", reports.review_nudge_time)
    _more_than_zero("[reports] review_nudge_hours", reports.review_nudge_hours, " 小时")
    if reports.draft_warning_minutes < 0:
        raise ConfigError(
            "[reports] draft_warning_minutes",
            f"不能是负数（0 表示不提醒），现在是 {_n(reports.draft_warning_minutes)}",
        )
    _more_than_zero("[reports] media_fetch_seconds", reports.media_fetch_seconds, " 秒")
    _more_than_zero("[reports] max_attachment_bytes", reports.max_attachment_bytes, " 字节")


def _is_hh_mm(value: str) -> bool:
    hour, _, minute = value.partition(":")
    return hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60


def _validate_proposals(proposals: ProposalsConfig, activities: ActivitiesConfig) -> None:
    fmt = proposals.number_format
    try:
        sample = fmt.format(year=2025, seq=1)
    except (KeyError, IndexError, ValueError):
        raise ConfigError(
            "[proposals] number_format",
            "只能使用 {year} 和 {seq} 两个占位符，如 TA-{year}-{seq:04d}",
        ) from None
    if "{year" not in fmt or "{seq" not in fmt or not 3 <= len(sample) <= 24:
        raise ConfigError(
            "[proposals] number_format",
            "必须同时含有 {year} 和 {seq}，生成的编号为 3 到 24 个字符",
        )
    for key in ("review_days", "assign_days", "answer_days", "rating_days"):
        _at_least(f"[proposals] {key}", getattr(proposals, key), 1, " 天")
    if proposals.yellow_window_days > proposals.blue_window_days:
        raise ConfigError(
            "[proposals] yellow_window_days",
            f"不能大于 [proposals] blue_window_days"
            f"（现在是 {_n(proposals.yellow_window_days)} 天，"
            f"大于 {_n(proposals.blue_window_days)} 天）",
        )
    codes = [c.split(" ", 1)[0] for c in proposals.classifications]
    if not codes:
        raise ConfigError("[proposals] classifications", '至少要列出一种，如 ["A 已解决/采纳"]')
    for entry in proposals.classifications:
        if " " not in entry.strip():
            raise ConfigError(
                "[proposals] classifications",
                f'每一项都要写成“代码 空格 名称”，如 "A 已解决/采纳"，其中 {entry!r} 不对',
            )
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated:
        raise ConfigError(
            "[proposals] classifications",
            f"代码不能重复，{'、'.join(map(repr, repeated))} 出现了不止一次",
        )
    if not activities.kinds:
        raise ConfigError("[activities] kinds", '至少要列出一种活动，如 ["调研"]')
    repeated = sorted({k for k in activities.kinds if activities.kinds.count(k) > 1})
    if repeated:
        raise ConfigError(
            "[activities] kinds",
            f"每种活动只能列一次，{'、'.join(map(repr, repeated))} 出现了不止一次",
        )


def _validate_backup(backup: BackupConfig, retention: RetentionConfig) -> None:
    _hh_mm("[backup] time", backup.time)
    _at_least("[backup] keep", backup.keep, 1, " 份")
    for key in ("inbound_days", "deliveries_days", "send_log_days", "dialogs_days"):
        _at_least(f"[retention] {key}", getattr(retention, key), 1, " 天")
    _at_least("[retention] alerts_days", retention.alerts_days, 1, " 天")


def _validate_console(console: ConsoleConfig) -> None:
    _more_than_zero("[console] session_hours", console.session_hours, " 小时")
    _at_least("[console] max_failed_logins", console.max_failed_logins, 1, " 次")
    _at_least("[console] max_failed_logins_per_ip", console.max_failed_logins_per_ip, 1, " 次")
    _at_least("[console] lockout_minutes", console.lockout_minutes, 1, " 分钟")
    if console.public_url and (
        not console.public_url.startswith(("http://", "https://"))
        or console.public_url.rstrip("/").count("/") > 2
    ):
        raise ConfigError(
            "[console] public_url",
            "只写协议和域名（可带端口），不带路径，如 https://lvzhi.example.gov.cn",
        )
    for proxy in console.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ConfigError(
                "[console] trusted_proxies",
                f"{proxy!r} 不是 IP 地址或网段（应写成如 127.0.0.1、10.0.0.0/8）",
            ) from None
