"""``lvzhi reports act`` follows the chat's rules and words: ``报送 … 省政协`` as in chat, the
English action names too, and a verb the workflow lacks refused with the list of those it has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.test_cli_members import Cli

ROSTER = Path(__file__).resolve().parent.parent / "examples" / "roster.csv"
REPORT = "社情民意：关于加强农村饮水工程管护的建议\n目前部分村的饮水设施缺少管护，建议明确责任。"


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    made = Cli(tmp_path, capsys)
    assert made("members", "import", str(ROSTER))[0] == 0
    code, out, _ = made("simulate", "--user", "zhangwei", "--at", "2025-11-25T10:00", REPORT)
    assert code == 0 and "编号 SQ-2025-0001" in out
    return made


def test_the_chat_verbs_move_a_report_on(cli: Cli) -> None:
    assert cli("reports", "act", "SQ-2025-0001", "采用") == (
        0,
        "SQ-2025-0001 → 已采用；已通知 1 人。\n",
        "",
    )
    code, out, _ = cli("reports", "act", "SQ-2025-0001", "报送", "省政协")
    assert (code, out) == (0, "SQ-2025-0001 → 已报送；已通知 1 人。\n")
    code, out, _ = cli("reports", "act", "SQ-2025-0001", "批示", "市领导", "请水务局研究")
    assert (code, out) == (0, "SQ-2025-0001 → 已获批示；已通知 1 人。\n")
    code, out, _ = cli("reports", "act", "SQ-2025-0001", "assign", "--target", "市水务局")
    assert (code, out) == (0, "SQ-2025-0001 → 已转办；已通知 1 人。\n")
    code, out, _ = cli("reports", "show", "SQ-2025-0001")
    steps = [re.sub(r"^· \S+ \S+ ", "", line) for line in out.splitlines() if line[0] == "·"]
    assert steps == [
        "张伟 提交 → 已提交",
        "命令行 采用 → 已采用",
        "命令行 报送 省政协 → 已报送",
        "命令行 批示 市领导 → 已获批示：请水务局研究",
        "命令行 转办 市水务局 → 已转办",
    ]
    assert "办理过程：" in out and not re.search(r"[a-z]{4,}", out)  # no English state names


def test_a_verb_the_workflow_lacks_and_a_missing_detail_are_refused(cli: Cli) -> None:
    code, out, err = cli("reports", "act", "SQ-2025-0001", "表扬")
    assert (code, out) == (1, "")
    assert err == (
        "lvzhi: 没有「表扬」这个操作。可用：不予采用、采用、退回、报送、批示、转办、反馈、办结"
        "（或其英文名）。\n"
    )
    assert cli("reports", "act", "SQ-2025-0001", "待审")[0] == 1  # a list, not an action
    assert cli("reports", "act", "SQ-2025-0001", "退回") == (
        1,
        "",
        "lvzhi: 请写明退回意见，例如「退回 SQ-2025-0042 请补充具体数据」。\n",
    )
    code, out, _ = cli("reports", "act", "SQ-2025-0001", "退回", "请补充具体数据")
    assert (code, out) == (0, "SQ-2025-0001 → 退回修改；已通知 1 人。\n")
