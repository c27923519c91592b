"""Hostile input, shared by the hypothesis tests (``tests/test_fuzz_*.py``) and the atheris
harnesses (``fuzz/``): what member text can look like, which functions are parsers, and what
their output must look like.

- :func:`member_text` — text as members could type it, and as nobody should: the parsers' own
  vocabulary (so that examples get past the first ``if``), mixed with control and format
  characters, bidi marks, zero-width joiners, combining marks, lone surrogates, full-width
  forms, emoji sequences, huge numbers and long repetitions.
- :func:`parsers` — every public function of ``handlers/*/parse.py``, ``text.timephrase``
  and ``text.normalize`` that takes member text, found by introspection so a new parser is fuzzed
  without anyone adding it here (one that cannot be called from its annotations fails
  :func:`parsers` loudly rather than being skipped).
- :func:`conforms` — a value against a type annotation, recursively through dataclasses,
  tuples, unions and literals; datetimes must be aware. That is the parsers' output contract.
- :func:`fuzz_settings` — hypothesis settings; ``LVZHI_FUZZ_EXAMPLES`` raises the number of
  examples (CI runs a modest number).
- :class:`CallbackServer` — the app with both callbacks, in an event loop of its own, for the
  synchronous hypothesis tests and the atheris harness.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import importlib.util
import inspect
import os
import pkgutil
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

import handlers
from bot.app import create_app
from bot.appkeys import RUNTIME
from bot.clock import SystemClock
from bot.config import build_config
from bot.delivery.sandbox import SandboxSender
from bot.runtime import Runtime
from storage import Database
from storage.migrate import upgrade
from storage.models import Delivery, InboundMessage, Member
from tests.wecom_client import AIBot, Callback, WeComApp

FUZZ_ENV = "LVZHI_FUZZ_EXAMPLES"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def fuzz_examples(default: int) -> int:
    """How many examples a property runs: ``default``, or ``LVZHI_FUZZ_EXAMPLES``."""
    return int(os.environ.get(FUZZ_ENV) or default)


def fuzz_settings(default: int, *, deadline_seconds: float = 2.0) -> settings:
    """No example database (CI starts clean, and a shared tree must not grow files); a
    per-example deadline that is the "never hangs" bound. The short runs of the plain test
    command use a fixed seed, so CI sees the same examples every time; a longer run
    (``LVZHI_FUZZ_EXAMPLES``) explores new ones on every run."""
    return settings(
        max_examples=fuzz_examples(default),
        deadline=dt.timedelta(seconds=deadline_seconds),
        derandomize=not os.environ.get(FUZZ_ENV),
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# -- what members type -----------------------------------------------------------------------

# The parsers' vocabulary: commands, names, numbers, times and separators.
VOCABULARY = """
打卡 补卡 我的打卡 本周打卡情况 打卡统计 开启打卡 关闭打卡 学习打卡 #打卡# 【打卡】 心得
通知 全体委员 第3学习小组 第三学习小组 收到 已收到 好的收到 通知情况 TZ-12 通知私信
关闭通知私信 定期通知 每周一8:00 每天 每个工作日 停止定期通知 DQ-2 无需回复 无需回执
会议 开会 参加 请假 会议情况 HY-3 督办 任务 完成 已完成 DB-4 督办情况 销号
社情民意 提交社情民意 标题： 内容： 类别： 反映人： 提交 审核 采用 退回 转办 分类
重新提交 确认提交 不提交了 取消 帮助 我的社情民意 2025-001 SQ2025-12 编号
今天 明天 后天 昨天 前天 大前天 下周五 本周三 上周三 周日 星期天 礼拜天 下下周一
11月18日 18号 2025-11-17 2025/11/17 2025年11月17日 12.10 下个月3号 月底 年底
9点 上午9点 下午3点半 晚上8点 中午12点 18:00 8:30 九点十五分 20点 24时 凌晨
前 之前 以前 截止 为止 内 本周内 3天后 两小时后 3天内 3天前 半小时 一个半小时
30分钟 40min 1小时 一小时 二十五 一百零二 两 廿五 二〇二五 零五 半 1.5 一点五
《乡土中国》 《习近平谈治国理政》 第四卷 第三章 〈〉 “ ” 、 。 ， ： ； ！ ？ （ ）
"""
TOKENS = (
    *VOCABULARY.split(),
    "@履职助手 ",
    "@履职助手\u2005",
    "\u3000",
    "\n",
    "\n\n",
    " ",
    ":",
    ",",
    "-",
    "/",
    "#",
)

# Characters a careless or hostile client can put in a message.
ODD_CHARACTERS = (
    [chr(c) for c in range(0x00, 0x20)]
    + ["\x7f", "\x85", "\xa0", "\xad"]
    + list("\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e")
    + list("\u2060\u2066\u2067\u2068\u2069\ufeff\ufff9\ufffa\ufffb\ufffc\ufffd\uffff")
    + ["\u0301", "\u0489", "\u20dd", "\ufe0f", "\U000e0001", "\U0010ffff"]
    + ["\ud800", "\udfff"]  # lone surrogates: not in UTF-8, but a str can hold them
    + list("０１２３４５６７８９：；，．！？（）［］＃＠ＡＺａｚ")
    + list("²³¹①⑴⒈١٢٣۴५๕〇Ⅻ½")  # digits to str.isdigit(), not to int()
    + ["👍", "👨\u200d👩\u200d👧", "🇨🇳", "1\ufe0f\u20e3", "ﷺ", "ǅ", "ß", "İ", "ﬃ"]
    + list("عربي עברית ไทย 한국어 ")
)

HUGE = ("9" * 40, "二" * 60, "1" * 400 + "分钟", "第" + "9" * 30 + "学习小组", "12" * 50 + "月")


def member_text(max_tokens: int = 40) -> st.SearchStrategy[str]:
    """Text made of the parsers' vocabulary and hostile characters, in any order."""
    piece = st.one_of(
        st.sampled_from(TOKENS),
        st.sampled_from(ODD_CHARACTERS),
        st.sampled_from(HUGE),
        st.text(max_size=4),  # anything at all, surrogates included
        st.integers(min_value=-(10**20), max_value=10**20).map(str),
    )
    return st.lists(piece, max_size=max_tokens).map("".join)


def long_text(seed: str, length: int = 20_000) -> str:
    """``seed`` repeated to ``length`` characters: the input that makes a regex backtrack."""
    return (seed * (length // max(1, len(seed)) + 1))[:length]


aware_now = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),
    max_value=dt.datetime(2099, 12, 31),
    timezones=st.just(SHANGHAI),
)


# -- which functions are parsers -------------------------------------------------------------

# Shared text handling with functions that take member text.
PARSER_MODULES = ("text.timephrase", "text.normalize")
# Public functions of those modules that do not take member text, and why.
NOT_MEMBER_TEXT = {
    "nudge_offsets": "reads [notices] task_nudge_offsets, already validated with the config",
    "format_number": "reads [proposals] number_format, already validated with the config",
    "year_seq": "takes a number find_number has read, never member text",
}


@dataclasses.dataclass(frozen=True, slots=True)
class Parser:
    name: str  # module.function
    function: Callable[..., Any]
    arguments: st.SearchStrategy[dict[str, Any]]
    returns: Any  # the resolved return annotation

    def call_with(self, text: str, now: dt.datetime) -> Any:
        """Call with ``text`` for every text parameter, defaults for the optional ones."""
        hints = typing.get_type_hints(self.function)
        kwargs: dict[str, Any] = {}
        for parameter in inspect.signature(self.function).parameters.values():
            hint = hints[parameter.name]
            if hint is str:
                kwargs[parameter.name] = text
            elif hint is dt.datetime:
                kwargs[parameter.name] = now
            elif hint == dict[str, Any]:
                kwargs[parameter.name] = {"Event": text, "EventKey": text, "ResponseCode": text}
            elif hint is bool and parameter.default is inspect.Parameter.empty:
                kwargs[parameter.name] = False
        return self.function(**kwargs)


def parsers() -> list[Parser]:
    """Every parser of member text, with a strategy for its arguments."""
    found = []
    for module in _parser_modules():
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or name.startswith("_"):
                continue
            if name in NOT_MEMBER_TEXT:
                continue
            hints = typing.get_type_hints(function)
            arguments = _arguments(function, hints)
            if arguments is None:
                continue  # a builder or formatter (ints, matches): no member text goes in
            short = module.__name__.removeprefix("handlers.")
            found.append(Parser(f"{short}.{name}", function, arguments, hints["return"]))
    assert found, "no parsers found"
    return found


def _parser_modules() -> list[types.ModuleType]:
    # Each feature is a package and keeps its parsers in a ``parse`` module.
    names = [
        f"{info.name}.parse"
        for info in pkgutil.iter_modules(handlers.__path__)
        if info.ispkg and importlib.util.find_spec(f"handlers.{info.name}.parse") is not None
    ]
    names += PARSER_MODULES
    return [importlib.import_module(f"handlers.{name}") for name in sorted(names)]


def _arguments(
    function: Callable[..., Any], hints: dict[str, Any]
) -> st.SearchStrategy[dict[str, Any]] | None:
    """Strategies for every parameter, or None when the first one is not text."""
    parameters = list(inspect.signature(function).parameters.values())
    if not parameters or hints.get(parameters[0].name) not in (str, dict[str, Any]):
        return None
    strategies: dict[str, st.SearchStrategy[Any]] = {}
    for parameter in parameters:
        strategy = strategy_for(hints[parameter.name])
        if strategy is None:
            if parameter.default is inspect.Parameter.empty:
                return None
            continue  # an optional parameter we cannot generate keeps its default
        strategies[parameter.name] = strategy
    return st.fixed_dictionaries(strategies)


def strategy_for(annotation: Any) -> st.SearchStrategy[Any] | None:
    """A strategy for a parameter's annotation, or None for what a parser does not take."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is str:
        return member_text()
    if annotation is bool:
        return st.booleans()
    if annotation is dt.datetime:
        return aware_now
    if annotation is dt.time:
        return st.times()
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin is tuple and args[1:] == (Ellipsis,) and args[0] is str:
        return st.lists(member_text(3), max_size=3).map(tuple)
    if annotation == dict[str, Any]:  # a decrypted callback's fields (template-card clicks)
        nested = st.dictionaries(st.text(max_size=5), st.text())
        values = st.one_of(st.none(), member_text(4), nested)
        names = st.sampled_from(["EventKey", "ResponseCode", "Event", "TaskId"])
        return st.dictionaries(st.one_of(names, st.text()), values, max_size=6)
    return None


# -- what comes out --------------------------------------------------------------------------


def conforms(value: Any, annotation: Any, where: str = "result") -> None:
    """Assert that ``value`` matches ``annotation`` (recursively); datetimes must be aware."""
    if annotation is Any or annotation is typing.Any:
        return
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is None or annotation is type(None):
        assert value is None, f"{where}: {value!r} is not None"
    elif origin in (types.UnionType, typing.Union):
        errors = []
        for option in args:
            try:
                conforms(value, option, where)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{where}: {value!r} matches none of {annotation}: {errors}")
    elif origin is typing.Literal:
        assert value in args, f"{where}: {value!r} not one of {args}"
    elif origin is tuple:
        assert isinstance(value, tuple), f"{where}: {value!r} is not a tuple"
        items = args if args[1:] != (Ellipsis,) else (args[0],) * len(value)
        assert len(items) == len(value), f"{where}: {value!r} has the wrong length"
        for n, (item, hint) in enumerate(zip(value, items, strict=True)):
            conforms(item, hint, f"{where}[{n}]")
    elif origin is list:
        assert isinstance(value, list), f"{where}: {value!r} is not a list"
        for n, item in enumerate(value):
            conforms(item, args[0], f"{where}[{n}]")
    elif origin is dict:
        assert isinstance(value, dict), f"{where}: {value!r} is not a dict"
        for key, item in value.items():
            conforms(key, args[0], f"{where} key")
            conforms(item, args[1], f"{where}[{key!r}]")
    elif origin is typing.ClassVar:
        return
    else:
        _conforms_class(value, annotation, where)


def _conforms_class(value: Any, cls: type, where: str) -> None:
    if cls is float:
        assert isinstance(value, int | float) and not isinstance(value, bool), where
    else:
        assert isinstance(value, cls), f"{where}: {value!r} is not {cls.__name__}"
    if isinstance(value, dt.datetime):
        assert value.tzinfo is not None, f"{where}: naive datetime {value!r}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        hints = typing.get_type_hints(type(value))
        for item in dataclasses.fields(value):
            conforms(getattr(value, item.name), hints[item.name], f"{where}.{item.name}")


# -- the callback endpoints, driven from synchronous code -----------------------------------

CALLBACK_APP = WeComApp()
CALLBACK_BOT = AIBot()
CALLBACK_MEMBER = "zhangwei"
REQUEST_TIMEOUT = 10.0  # seconds: "never a hang" for one request
REFUSALS = frozenset({400, 403, 413})


@dataclasses.dataclass
class CallbackServer:
    """The app on loopback (a sandbox sender: nothing leaves the machine), in an event loop
    that synchronous code — hypothesis examples, atheris inputs — drives one request at a
    time. The roster holds one member, :data:`CALLBACK_MEMBER`."""

    runner: asyncio.Runner
    client: TestClient[Any, Any]
    runtime: Runtime

    def send(self, callback: Callback, path: str = CALLBACK_APP.path) -> int:
        async def go() -> int:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                response = await callback.send(self.client, path)
                await response.read()
                return response.status

        return self.runner.run(go())

    def counts(self) -> tuple[int, int]:
        """(inbound rows, deliveries)."""

        async def go() -> tuple[int, int]:
            async with self.runtime.db.read() as tx:
                inbound = await tx.session.scalar(select(func.count(InboundMessage.id)))
                outbox = await tx.session.scalar(select(func.count(Delivery.id)))
            return int(inbound or 0), int(outbox or 0)

        return self.runner.run(go())

    def stored(self, dedup_key: str) -> list[InboundMessage]:
        async def go() -> list[InboundMessage]:
            async with self.runtime.db.read() as tx:
                query = select(InboundMessage).where(InboundMessage.dedup_key == dedup_key)
                return list(await tx.session.scalars(query))

        return self.runner.run(go())

    def refused_and_nothing_stored(self, callback: Callback, path: str = CALLBACK_APP.path) -> int:
        before = self.counts()
        status = self.send(callback, path)
        assert status in REFUSALS, f"answered {status}"
        assert self.counts() == before, "a refused request changed the database"
        return status


@contextlib.contextmanager
def callback_server(runner: asyncio.Runner, url: str) -> Iterator[CallbackServer]:
    """Migrate ``url``, add the member, serve the app with both callbacks configured."""
    client, runtime = runner.run(_start_callback_app(url))
    try:
        yield CallbackServer(runner, client, runtime)
    finally:
        runner.run(client.close())


async def _start_callback_app(url: str) -> tuple[TestClient[Any, Any], Runtime]:
    db = Database(url)
    try:
        await upgrade(db)
        now = dt.datetime.now(dt.UTC)
        async with db.transaction() as tx:
            member = Member(userid=CALLBACK_MEMBER, name="张伟", created_at=now, updated_at=now)
            await tx.members.add(member)
    finally:
        await db.dispose()
    config = build_config(
        {
            "database": {"url": url},
            "wecom": {**CALLBACK_APP.config(), **CALLBACK_BOT.config()},
            "scheduler": {"enabled": False},
        },
        environ={},
    )
    clock = SystemClock()
    app = create_app(config, clock=clock, sender=SandboxSender(clock))
    client = TestClient(TestServer(app))
    await client.start_server()
    return client, app[RUNTIME]
