"""``lvzhi simulate``: each command shows what it caused, when it caused it — a push queued by
one command is not passed off as the answer to the next."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli_members import Cli

ROSTER = Path(__file__).resolve().parent.parent / "examples" / "roster.csv"


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    made = Cli(tmp_path, capsys)
    assert made("members", "import", str(ROSTER))[0] == 0
    return made


def test_a_scheduled_notice_is_announced_then_shown_apart(cli: Cli) -> None:
    code, out, _ = cli(
        "simulate", "--user", "sunli", "--at", "2025-11-25T10:00",
        "通知 第1学习小组 明天上午9点：周五学习会，请准时参加",
    )  # fmt: skip
    assert code == 0
    assert out.splitlines()[-1] == (
        "（另已排定 1 条推送，最早 2025-11-26 09:00 发出；lvzhi tick --until 时间 可快进查看）"
    )
    code, out, _ = cli("simulate", "--user", "zhangwei", "--at", "2025-11-26T10:00", "收到")
    assert code == 0
    assert out.splitlines() == [
        "（此前排定、现已到期的 1 条推送，先行发出）",
        "2025-11-26 10:00 → group:第1学习小组",
        "【通知 TZ-1】周五学习会，请准时参加",
        "（请回复「收到」确认）",
        "",
        "（以下是这条消息的结果）",
        "→ member:zhangwei",
        "已确认收到通知 TZ-1「周五学习会，请准时参加」。",
        "",
    ]
    code, out, _ = cli("simulate", "--user", "lina", "--at", "2025-11-26T10:05", "收到")
    assert out.splitlines()[0] == "→ member:lina"  # nothing earlier is shown again
