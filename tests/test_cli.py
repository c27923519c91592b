"""The ``lvzhi`` entry point: a command imports only what it uses, every command's arguments
are declared, and commands act at the clock they are given."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import COMMANDS, build_parser, main
from bot.clock import FakeClock
from tests.harness import shanghai

PROBE = """
import contextlib, io, sys
from bot.cli import main
with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):
    main(sys.argv[1:])
heavy = ("bot.commands.", "handlers", "storage", "sqlalchemy", "matplotlib", "openpyxl",
         "aiohttp", "wechatpy", "apscheduler", "asyncio")
print(" ".join(sorted(m for m in sys.modules if m.startswith(heavy))))
"""
# What parsing a message must not load: the database layer, the web server, charts and
# spreadsheets, WeCom's crypto, the scheduler, the event loop.
NOT_FOR_PARSING = ("storage", "sqlalchemy", "aiohttp", "matplotlib", "openpyxl", "wechatpy")
NOT_FOR_PARSING += ("apscheduler", "asyncio")


def imported_by(*argv: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True
    )
    return set(done.stdout.split())


def test_help_imports_no_command_and_a_command_only_its_own() -> None:
    assert imported_by("--help") == set()
    groups = {m for m in imported_by("groups", "--help") if m.startswith("bot.commands.")}
    assert groups == {"bot.commands.groups", "bot.commands.common"}


@pytest.mark.parametrize(
    ("role", "text"),
    [
        ("member", "打卡"),
        ("member", "今天天气不错"),  # understood by nothing: every parser has had a look
        ("member", "打卡 《论语》 三十分钟"),
        ("secretary", "通知 全体委员：周五下午三点开会"),
    ],
)
def test_parse_imports_only_the_parsers(role: str, text: str) -> None:
    """``lvzhi parse`` stays fast (issue 18: under 0.3 s): the features' routers and parsers
    load, the database, web, chart and spreadsheet libraries do not."""
    modules = imported_by("parse", "--role", role, text)
    assert {"handlers.checkin.parse", "handlers.understand.intents"} <= modules
    assert sorted(m for m in modules if m.startswith(NOT_FOR_PARSING)) == []


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_declares_its_arguments(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        build_parser([name]).parse_args([name, "--help"])
    assert done.value.code == 0
    assert COMMANDS[name].help in capsys.readouterr().out


def test_a_command_acts_at_the_clock_it_is_given(
    tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "lvzhi.toml"
    config.write_text(f'[database]\nurl = "{sqlite_url}"\n', encoding="utf-8")
    clock = FakeClock(shanghai(2027, 3, 1, 9, 0))
    argv = ["--config", str(config), "export", "checkins", "-o", str(tmp_path)]
    assert main(argv, clock=clock) == 0
    assert (tmp_path / "2027年学习打卡统计.xlsx").exists()  # the clock's year, not today's
    assert main([*argv, "--year", "2028"], clock=clock) == 2  # a year still to come
    assert "2000 至 2027" in capsys.readouterr().err
