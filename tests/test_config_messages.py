"""Every configuration error reads as one Simplified Chinese sentence for the person editing
``lvzhi.toml`` (or the scoring rules file): it names the section and key as written there, says
what is wrong and what is accepted, and never shows a secret's value.

A table of bad configurations covering every section and every check in ``bot/config.py`` and
``handlers/duty/rules.py``; each message may contain ASCII words only where they are what the
person types: section and key names, the accepted literal values (``DEBUG``, ``safe``, ``true``…),
units (``3d``), the value the person wrote (quoted), a path, a URL or an environment variable.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config, ConfigError, build_config
from handlers.duty import check_rules
from handlers.duty.facts import FACTS
from handlers.duty.rules import parse_rules

SECTION_FIELDS = {
    name: {f.name for f in dataclasses.fields(section)}
    for name, section in typing.get_type_hints(Config).items()
}
SECRET_FIELDS = {
    (name, f.name)
    for name, section in typing.get_type_hints(Config).items()
    for f in dataclasses.fields(section)
    if f.metadata.get("secret")
}
RULES_KEYS = {
    "name", "max_total", "unmet_grade", "items", "requirements", "grades",
    "label", "fact", "points", "cap", "at_least",
}  # fmt: skip
# What the person may type, named in the messages as it must be written.
LITERALS = {
    "true", "false", "yes", "no",  # TOML booleans, and the environment's spellings
    "DEBUG", "INFO", "WARNING", "ERROR",  # [log] level
    "plain", "compatible", "safe", "template", "subscribe",  # [wechat] mode, template_api
    "HH", "MM", "d",  # time of day, and days in task_nudge_offsets ("3d")
    "year", "seq", "TA",  # [proposals] number_format placeholders and its default prefix
    "Asia", "Shanghai",  # the time zone to write
    "TOML", "UTF", "EncodingAESKey", "AgentId", "IP",  # names the person sees in the admin
}  # fmt: skip
ALLOWED = {*SECTION_FIELDS, *(k for keys in SECTION_FIELDS.values() for k in keys)}
ALLOWED |= RULES_KEYS | set(FACTS) | LITERALS

# The value the person wrote, echoed as Python shows it ('x'), and examples in TOML ("3d,1d").
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
URL = re.compile(r"[a-z+]+://[A-Za-z0-9./-]*")
ENV = re.compile(r"\bLVZHI_[A-Z_]+")
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
CJK = re.compile(r"[\u4e00-\u9fff]")

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, decodes to 32 bytes
WECOM = {
    "corp_id": "ww0123456789",
    "agent_id": 1000002,
    "secret": "CORP-SECRET-VALUE",
    "token": "TOKEN-VALUE",
    "encoding_aes_key": AES_KEY,
}

# (configuration, environment, the key the error must name)
CASES: list[tuple[dict[str, Any], dict[str, str], str]] = [
    ({"srever": {}}, {}, "[srever]"),
    ({"server": 3}, {}, "[server]"),
    ({"server": {"prot": 80}}, {}, "[server] prot"),
    ({"server": {"port": "eighty"}}, {}, "[server] port"),
    ({"server": {"port": 70000}}, {}, "[server] port"),
    ({"server": {"port": 8.5}}, {}, "[server] port"),
    ({}, {"LVZHI_SERVER_PORT": "x"}, "环境变量 LVZHI_SERVER_PORT（即 [server] port）"),
    ({}, {"LVZHI_DATABASE_ECHO": "maybe"}, "环境变量 LVZHI_DATABASE_ECHO（即 [database] echo）"),
    ({"database": {"url": "mysql://lvzhi:DB-PASSWORD@db/lvzhi"}}, {}, "[database] url"),
    ({"database": {"echo": "yes"}}, {}, "[database] echo"),
    ({"wecom": {**WECOM, "encoding_aes_key": "SHORT-SECRET-KEY"}}, {}, "[wecom] encoding_aes_key"),
    ({"wecom": {**WECOM, "encoding_aes_key": "!" * 43}}, {}, "[wecom] encoding_aes_key"),
    (
        {"wecom": {"aibot_encoding_aes_key": AES_KEY[:-2] + "!!"}},
        {},
        "[wecom] aibot_encoding_aes_key",
    ),
    ({"wecom": {"secret": 12345678}}, {}, "[wecom] secret"),
    ({"wecom": {"token": "ONLY-TOKEN-VALUE"}}, {}, "[wecom] corp_id"),
    ({"wecom": {**WECOM, "agent_id": 0}}, {}, "[wecom] agent_id"),
    ({"wecom": {"callback_path": "wecom"}}, {}, "[wecom] callback_path"),
    ({"wecom": {"aibot_path": "/wecom/callback"}}, {}, "[wecom] aibot_path"),
    ({"wecom": {"api_base": "qyapi.weixin.qq.com"}}, {}, "[wecom] api_base"),
    ({"wecom": {"duplicate_check_seconds": 20000}}, {}, "[wecom] duplicate_check_seconds"),
    ({"wecom": {"customer_group_monthly_cap": 0}}, {}, "[wecom] customer_group_monthly_cap"),
    ({"wecom": {"customer_group_poll_seconds": 0}}, {}, "[wecom] customer_group_poll_seconds"),
    ({"wecom": {"customer_group_confirm_hours": -1}}, {}, "[wecom] customer_group_confirm_hours"),
    ({"wechat": {"mode": "secure"}}, {}, "[wechat] mode"),
    ({"wechat": {"encoding_aes_key": "WECHAT-SECRET-KEY"}}, {}, "[wechat] encoding_aes_key"),
    ({"wechat": {"callback_path": "wechat"}}, {}, "[wechat] callback_path"),
    ({"wechat": {"callback_path": "/wecom/aibot"}}, {}, "[wechat] callback_path"),
    ({"wechat": {"api_base": "ftp://api.weixin.qq.com"}}, {}, "[wechat] api_base"),
    ({"wechat": {"template_api": "message"}}, {}, "[wechat] template_api"),
    ({"wechat": {"passive_reply_seconds": 5}}, {}, "[wechat] passive_reply_seconds"),
    ({"wechat": {"service_window_messages": 0}}, {}, "[wechat] service_window_messages"),
    ({"wechat": {"template_value_chars": 0}}, {}, "[wechat] template_value_chars"),
    ({"wechat": {"bind_max_attempts": 0}}, {}, "[wechat] bind_max_attempts"),
    ({"wechat": {"bind_code_minutes": 0}}, {}, "[wechat] bind_code_minutes"),
    ({"wechat": {"service_window_hours": 72}}, {}, "[wechat] service_window_hours"),
    ({"wechat": {"app_secret": "WECHAT-APP-SECRET"}}, {}, "[wechat] app_id"),
    ({"time": {"timezone": "Mars/Olympus"}}, {}, "[time] timezone"),
    ({"scheduler": {"quiet_hours": "21:30"}}, {}, "[scheduler] quiet_hours"),
    ({"scheduler": {"quiet_hours": "25:00-07:00"}}, {}, "[scheduler] quiet_hours"),
    ({"scheduler": {"quiet_hours": "night-07:00"}}, {}, "[scheduler] quiet_hours"),
    ({"scheduler": {"quiet_hours": "08:00-08:00"}}, {}, "[scheduler] quiet_hours"),
    ({"scheduler": {"enabled": 1}}, {}, "[scheduler] enabled"),
    ({"delivery": {"concurrency": 0}}, {}, "[delivery] concurrency"),
    ({"delivery": {"max_attempts": True}}, {}, "[delivery] max_attempts"),
    ({"delivery": {"member_limit": 0}}, {}, "[delivery] member_limit"),
    ({"dialog": {"timeout_minutes": "30"}}, {}, "[dialog] timeout_minutes"),
    ({"dialog": {"timeout": 30}}, {}, "[dialog] timeout"),
    ({"notices": {"task_nudge_time": "9点"}}, {}, "[notices] task_nudge_time"),
    ({"notices": {"daily_list_time": "24:00"}}, {}, "[notices] daily_list_time"),
    ({"notices": {"task_nudge_offsets": "3,1d"}}, {}, "[notices] task_nudge_offsets"),
    ({"notices": {"yellow_window_days": 5}}, {}, "[notices] yellow_window_days"),
    ({"reports": {"review_nudge_time": "9:75"}}, {}, "[reports] review_nudge_time"),
    ({"reports": {"review_nudge_hours": 0}}, {}, "[reports] review_nudge_hours"),
    ({"reports": {"draft_warning_minutes": -1}}, {}, "[reports] draft_warning_minutes"),
    ({"reports": {"media_fetch_seconds": 0}}, {}, "[reports] media_fetch_seconds"),
    ({"reports": {"max_attachment_bytes": 0}}, {}, "[reports] max_attachment_bytes"),
    ({"proposals": {"number_format": "TA-{year}-{n}"}}, {}, "[proposals] number_format"),
    ({"proposals": {"number_format": "TA-{seq}"}}, {}, "[proposals] number_format"),
    ({"proposals": {"answer_days": 0}}, {}, "[proposals] answer_days"),
    ({"proposals": {"yellow_window_days": 30}}, {}, "[proposals] yellow_window_days"),
    ({"proposals": {"classifications": []}}, {}, "[proposals] classifications"),
    ({"proposals": {"classifications": ["A已解决"]}}, {}, "[proposals] classifications"),
    ({"proposals": {"classifications": ["A 甲", "A 乙"]}}, {}, "[proposals] classifications"),
    ({"proposals": {"classifications": "A 已解决"}}, {}, "[proposals] classifications"),
    ({"activities": {"kinds": []}}, {}, "[activities] kinds"),
    ({"activities": {"kinds": ["调研", "调研"]}}, {}, "[activities] kinds"),
    ({"console": {"session_hours": 0}}, {}, "[console] session_hours"),
    ({"console": {"max_failed_logins": 0}}, {}, "[console] max_failed_logins"),
    ({"console": {"max_failed_logins_per_ip": 0}}, {}, "[console] max_failed_logins_per_ip"),
    ({"console": {"lockout_minutes": 0}}, {}, "[console] lockout_minutes"),
    (
        {"console": {"public_url": "https://lvzhi.example.gov.cn/console"}},
        {},
        "[console] public_url",
    ),
    ({"console": {"trusted_proxies": ["10.0.0.0/33"]}}, {}, "[console] trusted_proxies"),
    ({"duty": {"rules_file": 7}}, {}, "[duty] rules_file"),
    ({"backup": {"time": "3am"}}, {}, "[backup] time"),
    ({"backup": {"keep": 0}}, {}, "[backup] keep"),
    ({"retention": {"inbound_days": 0}}, {}, "[retention] inbound_days"),
    ({"retention": {"send_log_days": 0}}, {}, "[retention] send_log_days"),
    ({"retention": {"alerts_days": 0}}, {}, "[retention] alerts_days"),
    ({"log": {"level": "verbose"}}, {}, "[log] level"),
]  # fmt: skip

# (a scoring rules document, the entry the error must name after the file)
GRADES = [{"name": "合格", "at_least": 0}]
ITEM = {"label": "学习打卡", "fact": "checkins", "points": 1}
RULES: list[tuple[dict[str, Any], str]] = [
    ({"nmae": "x", "items": [ITEM], "grades": GRADES}, "nmae"),
    ({"name": 3, "items": [ITEM], "grades": GRADES}, "name"),
    ({"items": [ITEM], "grades": GRADES, "max_total": 0}, "max_total"),
    ({"items": [ITEM], "grades": GRADES, "max_total": "100"}, "max_total"),
    ({"items": [], "grades": GRADES}, "items"),
    ({"items": ITEM, "grades": GRADES}, "items"),
    ({"items": [{**ITEM, "weight": 2}], "grades": GRADES}, "items[1].weight"),
    ({"items": [{**ITEM, "label": " "}], "grades": GRADES}, "items[1].label"),
    ({"items": [{"label": "x", "fact": "checkins"}], "grades": GRADES}, "items[1].points"),
    ({"items": [{**ITEM, "cap": 0}], "grades": GRADES}, "items[1].cap"),
    ({"items": [{**ITEM, "cap": 5, "at_least": 3}], "grades": GRADES}, "items[1].cap"),
    ({"items": [{**ITEM, "fact": "reprots"}], "grades": GRADES}, "items[1].fact"),
    ({"items": [{**ITEM, "fact": []}], "grades": GRADES}, "items[1].fact"),
    ({"items": [{"label": "x", "points": 1}], "grades": GRADES}, "items[1].fact"),
    ({"items": [ITEM], "requirements": [{"label": "x", "fact": "checkins"}], "grades": GRADES},
     "requirements[1].at_least"),
    ({"items": [ITEM], "grades": []}, "grades"),
    ({"items": [ITEM], "grades": [{"name": "合格", "at_least": 60}]}, "grades"),
    ({"items": [ITEM], "grades": GRADES * 2}, "grades[2].name"),
    ({"items": [ITEM], "grades": [{"name": "合格"}]}, "grades[1].at_least"),
]  # fmt: skip


def english_words(message: str, *names: str) -> list[str]:
    """The ASCII words in ``message`` that are none of what the person types; ``names`` are
    the entry the message is about (as the person wrote it, maybe misspelled) and paths."""
    for name in names:
        message = message.replace(name, "")
    message = URL.sub("", ENV.sub("", QUOTED.sub("", message)))
    return [w for w in WORD.findall(message) if w not in ALLOWED]


def secrets_in(data: dict[str, Any], environ: dict[str, str]) -> list[str]:
    found = [
        str(value)
        for section, values in data.items()
        if isinstance(values, dict)
        for key, value in values.items()
        if (section, key) in SECRET_FIELDS
    ]
    if "url" in data.get("database", {}):
        found.append("DB-PASSWORD")
    return found + [v for k, v in environ.items() if k.endswith(("SECRET", "TOKEN", "KEY"))]


@pytest.mark.parametrize(("data", "environ", "key"), CASES)
def test_each_configuration_error_is_a_chinese_sentence(
    data: dict[str, Any], environ: dict[str, str], key: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        build_config(data, environ)
    error = raised.value
    assert error.key == key
    assert str(error) == f"{key} {error.problem}"
    assert CJK.match(error.problem) or error.problem.startswith(("[", "'")), error.problem
    assert english_words(str(error), key) == [], str(error)
    for secret in secrets_in(data, environ):
        assert secret not in str(error), str(error)


@pytest.mark.parametrize(("rules", "entry"), RULES)
def test_each_scoring_rules_error_is_a_chinese_sentence(
    tmp_path: Path, rules: dict[str, Any], entry: str
) -> None:
    source = str(tmp_path / "rules.toml")
    with pytest.raises(ConfigError) as raised:
        parse_rules(rules, source)
    error = raised.value
    assert error.key == f"评分规则文件 {source} 中的 {entry}"
    assert CJK.match(error.problem) or error.problem.startswith("["), error.problem
    assert english_words(str(error), error.key) == [], str(error)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "不存在，请检查路径"),
        ("[[items]\n", "不是合法的 TOML 格式：第 1 行第 8 列附近有语法错误"),
        ('name = "x', "不是合法的 TOML 格式：文件末尾有语法错误（如缺少右括号或引号）"),
    ],
)
def test_a_rules_file_that_cannot_be_read_names_the_setting(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    path = tmp_path / "rules.toml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    config = build_config({"duty": {"rules_file": str(path)}}, {})
    with pytest.raises(ConfigError) as raised:
        check_rules(config)
    assert str(raised.value) == f"[duty] rules_file 指定的评分规则文件 {path} {problem}"
    assert english_words(str(raised.value), str(path)) == []


def test_the_table_covers_every_section() -> None:
    named = {key.split("]")[0].split("[")[-1] for _, _, key in CASES}
    assert named >= set(SECTION_FIELDS), set(SECTION_FIELDS) - named


def test_the_checker_finds_english() -> None:
    """The word check itself: a leftover English phrase is caught, names and values are not."""
    assert english_words("[server] port must be between 1 and 65535") == [
        "must", "be", "between", "and",
    ]  # fmt: skip
    assert english_words("[log] level 必须是 DEBUG 或 INFO，现在是 'verbose'") == []
