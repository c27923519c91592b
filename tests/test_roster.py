"""Reading a roster (名册): xlsx and csv in every encoding offices use, title rows, header
variants, mobile normalisation and every reason a row is rejected. No database."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import openpyxl
import pytest

from bot.roster.columns import clean_text, match_header, normalise_mobile, normalise_role
from bot.roster.read import Rejection, RosterError, RosterRow, parse_table, read_roster

HEADER = ["姓名", "手机号", "企业微信账号", "界别", "专委会", "学习小组", "角色"]
ZHANG = ["张伟", "13800138001", "zhangwei", "中共界", "提案委", "第1学习小组", "委员"]
LI = ["李娜", "13800138002", "lina", "民革界", "经济委", "第2学习小组", "秘书"]


def write_xlsx(path: Path, rows: Sequence[Sequence[object]], title: str = "名册") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def write_csv(path: Path, rows: Sequence[Sequence[str]], encoding: str = "utf-8") -> Path:
    text = "\r\n".join(",".join(row) for row in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def row(
    number: int,
    name: str,
    mobile: str | None,
    userid: str | None,
    *,
    sector: str | None = None,
    committee: str | None = None,
    study_group: str | None = None,
    role: str | None = None,
) -> RosterRow:
    return RosterRow(number, name, mobile, userid, sector, committee, study_group, role)


EXPECTED_ZHANG = row(
    2,
    "张伟",
    "13800138001",
    "zhangwei",
    sector="中共界",
    committee="提案委",
    study_group="第1学习小组",
    role="member",
)
EXPECTED_LI = row(
    3,
    "李娜",
    "13800138002",
    "lina",
    sector="民革界",
    committee="经济委",
    study_group="第2学习小组",
    role="secretary",
)


# -- files and encodings ------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_every_encoding_excel_writes(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "名册.csv", [HEADER, ZHANG, LI], encoding)
    roster = read_roster(path)
    assert roster.rows == (EXPECTED_ZHANG, EXPECTED_LI)
    assert roster.rejections == ()
    assert roster.header_row == 1
    assert roster.source == "名册.csv"


def test_gbk_csv_is_really_not_utf8(tmp_path: Path) -> None:
    # Guard the test above: the GBK bytes must not happen to decode as UTF-8.
    data = "姓名".encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_tab_separated_utf16_unicode_text(tmp_path: Path) -> None:
    path = tmp_path / "名册.csv"
    text = "\r\n".join("\t".join(r) for r in [HEADER, ZHANG]) + "\r\n"
    path.write_bytes(text.encode("utf-16"))
    assert read_roster(path).rows == (EXPECTED_ZHANG,)


def test_xlsx_with_title_rows_numbers_and_unknown_columns(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "roster.xlsx",
        [
            ["XX县政协委员名册"],
            [],
            [
                "序号",
                "姓 名",
                "手机号码",
                "UserID",
                "界别",
                "专门委员会",
                "所在小组",
                "职务/角色",
                "备注",
            ],
            [1, "张　伟", 13800138001, "zhangwei", "中共界", "提案委", "第1学习小组", "委员", ""],
            [
                2,
                "李娜\u00a0",
                13800138002.0,
                " lina ",
                "民革界",
                "经济委",
                "第 2 学习小组",
                "秘书",
                None,
            ],
        ],
    )
    roster = read_roster(path)
    assert roster.header_row == 3
    assert roster.source == "roster.xlsx「名册」"
    assert roster.ignored_columns == ("序号", "备注")
    assert roster.columns == (
        ("name", "姓名"),
        ("mobile", "手机号码"),
        ("userid", "UserID"),
        ("sector", "界别"),
        ("committee", "专门委员会"),
        ("study_group", "所在小组"),
        ("role", "职务/角色"),
    )
    assert roster.rows == (
        row(
            4,
            "张伟",
            "13800138001",
            "zhangwei",
            sector="中共界",
            committee="提案委",
            study_group="第1学习小组",
            role="member",
        ),
        row(
            5,
            "李娜",
            "13800138002",
            "lina",
            sector="民革界",
            committee="经济委",
            study_group="第2学习小组",
            role="secretary",
        ),
    )


def test_the_roster_sheet_may_follow_a_cover_sheet(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    cover = workbook.active
    assert cover is not None
    cover.title = "说明"
    cover.append(["请按模板填写"])
    roster_sheet = workbook.create_sheet("委员")
    for values in (HEADER, ZHANG):
        roster_sheet.append(values)
    workbook.save(tmp_path / "r.xlsx")
    roster = read_roster(tmp_path / "r.xlsx")
    assert roster.source == "r.xlsx「委员」"
    assert roster.rows == (EXPECTED_ZHANG,)


def test_blank_rows_and_repeated_headers_are_skipped(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [HEADER, ZHANG, [""] * 7, ["", "", ""], HEADER, LI])
    roster = read_roster(path)
    assert [r.row_number for r in roster.rows] == [2, 6]
    assert roster.rejections == ()
    assert roster.data_rows == 2


def test_columns_may_be_missing_and_cells_empty(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["姓名", "手机"], ["王芳", "13800138003"]])
    assert read_roster(path).rows == (row(2, "王芳", "13800138003", None),)
    path = write_csv(
        tmp_path / "r.csv", [["姓名", "userid", "界别", "角色"], ["王芳", "wangfang", "", ""]]
    )
    assert read_roster(path).rows == (row(2, "王芳", None, "wangfang"),)


# -- header variants ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("姓名", "name"),
        ("姓　名", "name"),
        ("委员姓名", "name"),
        ("手机号", "mobile"),
        ("手机", "mobile"),
        ("电话", "mobile"),
        ("联系电话", "mobile"),
        ("手机号码", "mobile"),
        ("手机号码（必填）", "mobile"),
        ("*手机号", "mobile"),
        ("企业微信账号", "userid"),
        ("企业微信账号(userid)", "userid"),
        ("企业微信账号（UserID）", "userid"),
        ("UserID", "userid"),
        ("userid", "userid"),
        ("User ID", "userid"),
        ("账号", "userid"),
        ("企业微信", "userid"),
        ("界别", "sector"),
        ("专委会", "committee"),
        ("专门委员会", "committee"),
        ("学习小组", "study_group"),
        ("小组", "study_group"),
        ("所在小组", "study_group"),
        ("学习组", "study_group"),
        ("角色", "role"),
        ("职务/角色", "role"),
        ("职务", "role"),
    ],
)
def test_header_variants(header: str, field: str) -> None:
    columns = match_header(["序号", header])
    assert columns == {field: 1}


def test_unknown_header_is_not_a_column() -> None:
    assert match_header(["序号", "备注", "出生年月", "工作单位"]) == {}


def test_the_more_specific_of_two_columns_wins() -> None:
    assert match_header(["姓名", "电话", "手机号", "职务", "角色"]) == {
        "name": 0,
        "mobile": 2,
        "role": 4,
    }


def test_header_must_be_within_the_first_ten_rows() -> None:
    table: list[list[str]] = [["说明"]] * 10 + [HEADER, ZHANG]
    with pytest.raises(RosterError) as caught:
        parse_table(table)
    assert caught.value.message == (
        "前10行中找不到表头：需要「姓名」列，以及手机号、企业微信账号、界别等其他列"
    )
    assert parse_table(table[1:]).header_row == 10


def test_a_name_column_alone_is_not_a_header() -> None:
    with pytest.raises(RosterError):
        parse_table([["姓名", "备注"], ["张伟", ""]])


def test_header_without_mobile_or_userid_is_refused() -> None:
    with pytest.raises(RosterError) as caught:
        parse_table([["姓名", "界别"], ["张伟", "中共界"]])
    assert caught.value.message == (
        "表头缺少「手机号」和「企业微信账号」列：至少需要其中一列才能识别委员"
    )


# -- values -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 13800138000", "13800138000"),
        ("+86-138-0013-8000", "13800138000"),
        ("(+86)13800138000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("\u3000138 0013 8000\u00a0", "13800138000"),
        ("13800138000.0", "13800138000"),
        (13800138000, "13800138000"),
        (13800138000.0, "13800138000"),
        ("1380013800", None),
        ("138001380001", None),
        ("23800138000", None),
        ("0871-65123456", None),
        ("1.38001E+10", None),
        ("13800138000/13900139000", None),
        ("无", None),
    ],
)
def test_mobile_normalisation(value: object, expected: str | None) -> None:
    assert normalise_mobile(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("张　伟", "张伟"),
        (" 张伟\u00a0", "张伟"),
        ("第 3 学习小组", "第3学习小组"),
        ("\u200b经济界", "经济界"),
        ("John   Smith", "John Smith"),
        ("阿卜杜·热 合曼", "阿卜杜·热合曼"),
        (None, ""),
        (1001.0, "1001"),
    ],
)
def test_text_cleaning(value: object, expected: str) -> None:
    assert clean_text(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("委员", "member"),
        ("政协委员", "member"),
        ("秘书", "secretary"),
        ("管理员", "admin"),
        (" 管理员 ", "admin"),
        ("Admin", "admin"),
        ("主席", None),
    ],
)
def test_role_values(value: str, expected: str | None) -> None:
    assert normalise_role(value) == expected


def test_a_numeric_userid_read_from_excel_loses_its_point_zero(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "r.xlsx", [["姓名", "账号"], ["张伟", 1001.0], ["李娜", 1002]])
    assert [r.userid for r in read_roster(path).rows] == ["1001", "1002"]


# -- rejections ---------------------------------------------------------------------------------


def test_every_rejection_reason_with_its_row_number(tmp_path: Path) -> None:
    rows = [
        ["XX县政协委员名册", "", "", "", "", "", ""],
        HEADER,
        ZHANG,  # 3: fine
        ["", "13800138010", "nobody", "经济界", "", "", ""],  # 4
        ["王芳", "1380013800", "wangfang", "", "", "", ""],  # 5
        ["刘洋", "", "", "教育界", "", "", ""],  # 6
        ["陈静", "13800138005", "chenjing", "", "", "", "主席"],  # 7
        ["杨帆", "13800138006", "张三", "", "", "", ""],  # 8
        ["赵磊", "13800138007", "zhangwei", "", "", "", ""],  # 9: userid of row 3
        ["黄敏", "138 0013 8001", "huangmin", "", "", "", ""],  # 10: mobile of row 3
        ["周强", "13800138009", "zhouqiang", "科" * 65, "", "", ""],  # 11
        LI,  # 12: fine
    ]
    roster = read_roster(write_csv(tmp_path / "r.csv", rows))
    assert roster.rejections == (
        Rejection(4, "缺少姓名"),
        Rejection(5, "手机号格式不正确：1380013800（应为11位手机号）"),
        Rejection(6, "缺少企业微信账号和手机号（至少填一项）"),
        Rejection(7, "角色无法识别：主席（应为 委员、秘书 或 管理员）"),
        Rejection(8, "企业微信账号格式不正确：张三（只能包含字母、数字和 _-@.）"),
        Rejection(9, "企业微信账号 zhangwei 与第3行重复"),
        Rejection(10, "手机号 13800138001 与第3行重复"),
        Rejection(11, "界别过长（最多64个字）"),
    )
    assert [(r.row_number, r.name) for r in roster.rows] == [(3, "张伟"), (12, "李娜")]
    assert roster.data_rows == 10


def test_the_later_of_two_duplicates_is_rejected_even_after_a_rejected_row(
    tmp_path: Path,
) -> None:
    rows = [
        HEADER,
        ["张伟", "13800138001", "zhangwei", "", "", "", "队长"],  # 2: bad role
        ["张伟", "13800138001", "zhangwei", "", "", "", ""],  # 3: repeats row 2
    ]
    roster = read_roster(write_csv(tmp_path / "r.csv", rows))
    assert roster.rows == ()
    assert roster.rejections == (
        Rejection(2, "角色无法识别：队长（应为 委员、秘书 或 管理员）"),
        Rejection(3, "企业微信账号 zhangwei 与第2行重复"),
    )


# -- file problems ------------------------------------------------------------------------------


def test_file_problems_are_one_chinese_line(tmp_path: Path) -> None:
    cases = {
        tmp_path / "old.xls": (
            "不支持旧版 .xls 文件（old.xls）：请在 Excel 中另存为 .xlsx 或 .csv 后再导入"
        ),
        tmp_path / "r.txt": "只能导入 .xlsx 或 .csv 文件：r.txt",
        tmp_path / "missing.csv": f"找不到文件：{tmp_path / 'missing.csv'}",
        tmp_path / "broken.xlsx": "无法打开 Excel 文件 broken.xlsx：文件损坏或不是 .xlsx",
    }
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / "r.txt").write_text("姓名,手机号\n")
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip file")
    for path, message in cases.items():
        with pytest.raises(RosterError) as caught:
            read_roster(path)
        assert caught.value.message == message


def test_workbook_without_a_header_anywhere(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "r.xlsx", [["名单"], ["张伟", "13800138001"]])
    with pytest.raises(RosterError, match="找不到表头"):
        read_roster(path)
