"""``lvzhi members …`` and ``lvzhi groups …`` run in-process against a temporary SQLite file:
exit codes, the printed summary, the ``members list --json`` contract, robot-key masking."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "roster.csv"
HEADER = ["姓名", "企业微信账号", "手机号", "界别", "专委会", "学习小组", "角色"]
ROBOT_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


class Cli:
    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.db_path = tmp_path / "lvzhi.db"
        self.config = tmp_path / "lvzhi.toml"
        self.config.write_text(
            f'[database]\nurl = "sqlite+aiosqlite:///{self.db_path}"\n', encoding="utf-8"
        )
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        code = main(["--config", str(self.config), *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str) -> Any:
        code, out, err = self(*args, "--json")
        assert (code, err) == (0, "")
        return json.loads(out)

    def audit(self) -> list[tuple[str, str, dict[str, object]]]:
        with sqlite3.connect(self.db_path) as conn:
            rows = conn.execute("SELECT actor, action, detail FROM audit_log ORDER BY id")
            return [(actor, action, json.loads(detail)) for actor, action, detail in rows]


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path, capsys)


def write_roster(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "名册.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_import_the_example_roster_then_again(cli: Cli) -> None:
    code, out, err = cli("members", "import", str(EXAMPLE))
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "名册 roster.csv：第1行为表头，12行数据",
        "新增 12 人，更新 0 人，未变 0 人，拒绝 0 行",
        "新建学习小组：第1学习小组、第2学习小组",
    ]
    audit_after_first = cli.audit()
    assert len(audit_after_first) == 2 + 12
    assert {actor for actor, _, _ in audit_after_first} == {"cli"}

    code, out, err = cli("members", "import", str(EXAMPLE))
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "名册 roster.csv：第1行为表头，12行数据",
        "新增 0 人，更新 0 人，未变 12 人，拒绝 0 行",
    ]
    assert cli.audit() == audit_after_first


def test_members_list_json_contract(cli: Cli) -> None:
    assert cli.json("members", "list") == []
    cli("members", "import", str(EXAMPLE))
    members = cli.json("members", "list")
    assert isinstance(members, list) and len(members) == 12
    assert members[0] == {
        "userid": "zhangwei",
        "name": "张伟",
        "mobile": "13800138001",
        "sector": "中共界",
        "committee": "提案委",
        "study_group": "第1学习小组",
        "role": "member",
    }
    assert members[10:] == [
        {
            "userid": "sunli",
            "name": "孙丽",
            "mobile": "13800138011",
            "sector": "",
            "committee": "",
            "study_group": None,
            "role": "secretary",
        },
        {
            "userid": "machao",
            "name": "马超",
            "mobile": "13800138012",
            "sector": "",
            "committee": "",
            "study_group": None,
            "role": "admin",
        },
    ]
    for record in members:
        assert list(record) == [
            "userid",
            "name",
            "mobile",
            "sector",
            "committee",
            "study_group",
            "role",
        ]


def test_members_list_table(cli: Cli) -> None:
    code, out, _ = cli("members", "list")
    assert (code, out) == (0, "名册是空的。用 lvzhi members import 名册.xlsx 导入。\n")
    cli("members", "import", str(EXAMPLE))
    code, out, _ = cli("members", "list")
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split() == HEADER
    assert lines[2].split() == [
        "张伟",
        "zhangwei",
        "13800138001",
        "中共界",
        "提案委",
        "第1学习小组",
        "委员",
    ]
    assert lines[-2].split() == ["马超", "machao", "13800138012", "—", "—", "—", "管理员"]
    assert lines[-1] == "共 12 人"


def test_gbk_roster_with_title_rows_and_rejections(cli: Cli, tmp_path: Path) -> None:
    path = write_roster(
        tmp_path,
        "XX县政协委员名册,,,,\r\n"
        ",,,,\r\n"
        "序号,姓名,手机号码,UserID,所在小组\r\n"
        "1,张　伟,138 0013 8001,zhangwei,第1学习小组\r\n"
        "2,李娜,+86 13800138002,lina,第1学习小组\r\n"
        "3,王芳,1380013800,wangfang,第2学习小组\r\n"
        "4,,13800138004,liuyang,第2学习小组\r\n"
        "5,陈静,13800138001,chenjing,第2学习小组\r\n",
        encoding="gbk",
    )
    code, out, err = cli("members", "import", str(path))
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "名册 名册.csv：第3行为表头，5行数据",
        "未使用的列：序号",
        "新增 2 人，更新 0 人，未变 0 人，拒绝 3 行",
        "新建学习小组：第1学习小组",
        "第6行：手机号格式不正确：1380013800（应为11位手机号）",
        "第7行：缺少姓名",
        "第8行：手机号 13800138001 与第4行重复",
    ]
    assert [m["name"] for m in cli.json("members", "list")] == ["张伟", "李娜"]


def test_dry_run_reports_changes_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    cli("members", "import", str(EXAMPLE))
    changed = tmp_path / "roster.csv"
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "李娜,13800138002,lina,民革界,经济委,第1学习小组,委员",
        "李娜,13800138002,lina,民革界,经济委,第2学习小组,秘书",
    )
    changed.write_text(text, encoding="utf-8")
    audit_before = cli.audit()
    code, out, err = cli("members", "import", str(changed), "--dry-run")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "名册 roster.csv：第1行为表头，12行数据",
        "试运行：以下是预计结果，数据库没有改动。",
        "新增 0 人，更新 1 人，未变 11 人，拒绝 0 行",
        "将更新 第3行 李娜：角色 委员 → 秘书；学习小组 第1学习小组 → 第2学习小组",
    ]
    assert cli.audit() == audit_before
    lina = [m for m in cli.json("members", "list") if m["userid"] == "lina"]
    assert lina[0]["role"] == "member"
    assert lina[0]["study_group"] == "第1学习小组"


def test_import_errors_are_one_line_and_exit_1(cli: Cli, tmp_path: Path) -> None:
    code, out, err = cli("members", "import", str(tmp_path / "missing.xlsx"))
    assert (code, out) == (1, "")
    assert err == f"lvzhi: 找不到文件：{tmp_path / 'missing.xlsx'}\n"

    no_header = write_roster(tmp_path, "名单\n张伟,13800138001\n")
    code, out, err = cli("members", "import", str(no_header))
    assert (code, out) == (1, "")
    assert err == (
        "lvzhi: 前10行中找不到表头：需要「姓名」列，以及手机号、企业微信账号、界别等其他列\n"
    )
    assert not cli.db_path.exists()  # a bad file never touches the database


def test_set_role(cli: Cli) -> None:
    cli("members", "import", str(EXAMPLE))
    assert cli("members", "set-role", "lina", "secretary") == (
        0,
        "李娜（lina）的角色：委员 → 秘书\n",
        "",
    )
    assert cli("members", "set-role", "lina", "秘书") == (
        0,
        "李娜（lina）已经是秘书，未改动。\n",
        "",
    )
    assert cli("members", "set-role", "nobody", "admin") == (
        1,
        "",
        "lvzhi: 名册中没有企业微信账号为 nobody 的成员\n",
    )
    assert cli("members", "set-role", "lina", "boss") == (
        1,
        "",
        "lvzhi: 角色无法识别：boss（应为 member、secretary、admin 或 委员、秘书、管理员）\n",
    )
    assert cli.audit()[-1] == (
        "cli",
        "member.set_role",
        {"role": {"old": "member", "new": "secretary"}},
    )
    # A re-import of a roster whose role column says 委员 puts the office's word back.
    _, out, _ = cli("members", "import", str(EXAMPLE))
    assert out.splitlines()[1] == "新增 0 人，更新 1 人，未变 11 人，拒绝 0 行"


def test_groups_attach_list_detach_and_the_key_stays_secret(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("members", "import", str(EXAMPLE))
    assert cli("groups", "attach", "第1学习小组", "--robot-key", ROBOT_KEY) == (
        0,
        "「第1学习小组」已绑定群机器人 ****5aaa\n",
        "",
    )
    monkeypatch.setenv(
        "ROBOT2", f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={ROBOT_KEY}9"
    )
    assert cli("groups", "attach", "第2学习小组", "--robot-key-env", "ROBOT2") == (
        0,
        "「第2学习小组」已绑定群机器人 ****aaa9\n",
        "",
    )
    assert cli("groups", "attach", "第2学习小组", "--app-chat", "wrchat002") == (
        0,
        "「第2学习小组」已绑定应用群聊 wrchat002\n",
        "",
    )
    assert cli.json("groups", "list") == [
        {
            "name": "第1学习小组",
            "kind": "study_group",
            "member_count": 5,
            "channel": "robot",
            "app_chat_id": None,
            "robot_key": "****5aaa",
        },
        {
            "name": "第2学习小组",
            "kind": "study_group",
            "member_count": 5,
            "channel": "app_chat",
            "app_chat_id": "wrchat002",
            "robot_key": None,
        },
    ]
    code, out, _ = cli("groups", "list")
    assert code == 0
    assert [line.split() for line in out.splitlines()[2:]] == [
        ["第1学习小组", "学习小组", "5", "群机器人", "****5aaa"],
        ["第2学习小组", "学习小组", "5", "应用群聊", "wrchat002"],
        ["共", "2", "个群"],
    ]
    assert ROBOT_KEY not in out
    assert ROBOT_KEY not in json.dumps(cli.audit(), ensure_ascii=False)
    assert cli.audit()[-1] == (
        "cli",
        "group.attach",
        {
            "old": {"channel": "robot", "app_chat_id": None, "robot_key": "****aaa9"},
            "new": {"channel": "app_chat", "app_chat_id": "wrchat002", "robot_key": None},
        },
    )

    assert cli("groups", "detach", "第1学习小组") == (
        0,
        "「第1学习小组」已解除绑定，发往该群的消息将无法送达，直到重新绑定。\n",
        "",
    )
    assert cli("groups", "detach", "第1学习小组") == (
        0,
        "「第1学习小组」没有绑定渠道，未改动。\n",
        "",
    )
    assert cli.json("groups", "list")[0]["channel"] is None


def test_groups_errors(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    cli("members", "import", str(EXAMPLE))
    cli("groups", "attach", "第1学习小组", "--app-chat", "wrchat001")
    assert cli("groups", "attach", "第2学习小组", "--app-chat", "wrchat001") == (
        1,
        "",
        "lvzhi: 群聊 wrchat001 已绑定到「第1学习小组」\n",
    )
    assert cli("groups", "attach", "第9学习小组", "--app-chat", "wrchat009") == (
        1,
        "",
        "lvzhi: 没有名为「第9学习小组」的群"
        "（用 lvzhi groups list 查看，或 lvzhi groups create 新建）\n",
    )
    monkeypatch.delenv("NO_SUCH_VAR", raising=False)
    assert cli("groups", "attach", "第2学习小组", "--robot-key-env", "NO_SUCH_VAR") == (
        1,
        "",
        "lvzhi: 环境变量 NO_SUCH_VAR 未设置或为空\n",
    )
    code, out, err = cli("groups", "attach", "第2学习小组", "--robot-key", "bad key!")
    assert (code, out) == (1, "")
    assert err == "lvzhi: 群机器人 key 格式不正确（应为机器人 webhook 地址中 key= 后面的部分）\n"
    assert "bad key!" not in err


def test_groups_create(cli: Cli) -> None:
    assert cli("groups", "list") == (
        0,
        "还没有群。导入名册会建立学习小组，或用 lvzhi groups create 新建。\n",
        "",
    )
    assert cli("groups", "create", "提案委", "--kind", "committee") == (
        0,
        "已新建专委会群「提案委」\n",
        "",
    )
    assert cli("groups", "create", "提案委") == (1, "", "lvzhi: 已经有名为「提案委」的群\n")
    assert cli.json("groups", "list") == [
        {
            "name": "提案委",
            "kind": "committee",
            "member_count": 0,
            "channel": None,
            "app_chat_id": None,
            "robot_key": None,
        }
    ]
    assert cli.audit() == [("cli", "group.create", {"name": "提案委", "kind": "committee"})]


def test_the_example_roster_is_utf8_without_bom() -> None:
    data = EXAMPLE.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    header = data.decode("utf-8").splitlines()[0]
    assert header == "姓名,手机号,企业微信账号,界别,专委会,学习小组,角色"
