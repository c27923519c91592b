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
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_CONFIG_PATH = Path("lvzhi.toml")
ENV_PREFIX = "LVZHI_"


class ConfigError(Exception):
    """A configuration problem, phrased for the person who wrote the file."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


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

    @property
    def aibot_configured(self) -> bool:
        return bool(self.aibot_token and self.aibot_encoding_aes_key)


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
    # Start warning admins this many days before a year the holiday calendar does not cover.
    calendar_warning_days: int = 30


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
class DialogConfig:
    timeout_minutes: int = 30


@dataclass(frozen=True, slots=True)
class LogConfig:
    level: str = "INFO"


@dataclass(frozen=True, slots=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    wecom: WeComConfig = field(default_factory=WeComConfig)
    time: TimeConfig = field(default_factory=TimeConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    dialog: DialogConfig = field(default_factory=DialogConfig)
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
    if config.log.level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError("[log] level", "must be DEBUG, INFO, WARNING or ERROR")
