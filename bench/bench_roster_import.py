"""Benchmark: import a prefecture system's roster (名册, ~3,000 members) into a fresh SQLite DB.

Generates a realistic .xlsx (title row, blank row, header; Chinese names; 界别, 专委会, 8–40
study groups "第N学习小组", a few 秘书 and 管理员; mobiles as Excel numbers and as text with
spaces), imports it, then imports it again (the idempotent pass: nothing changes), and prints
the time of each phase and rows per second. Target: the first import under 5 s on SQLite.

    python bench/bench_roster_import.py [--members 3000] [--groups 24] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import openpyxl

from bot.roster.read import RosterFile, read_roster
from storage import Database
from storage.migrate import upgrade
from storage.repos.roster import ImportReport

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰文斌云飞海燕春梅晓东永健建华德明学军丽萍小红光辉鹏宇子涵雨欣浩然思远佳怡嘉伟"  # noqa: E501
SECTORS = [
    "中共界",
    "民革界",
    "民盟界",
    "民建界",
    "民进界",
    "农工党界",
    "致公党界",
    "九三学社界",
    "无党派人士界",
    "共青团界",
    "工会界",
    "妇联界",
    "工商联界",
    "科技界",
    "经济界",
    "农业界",
    "教育界",
    "文化艺术界",
    "新闻出版界",
    "医药卫生界",
    "体育界",
    "社会福利和社会保障界",
    "少数民族界",
    "宗教界",
    "特邀界",
]
COMMITTEES = [
    "提案委",
    "经济委",
    "农业农村委",
    "人口资源环境委",
    "教科卫体委",
    "社会和法制委",
    "民族宗教委",
    "港澳台侨和外事委",
    "文化文史和学习委",
]


def generate(path: Path, members: int, groups: int, seed: int = 2025) -> None:
    rng = random.Random(seed)
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("委员名册")
    sheet.append(["红河州政协委员名册（各县市汇总）"])
    sheet.append([])
    sheet.append(
        [
            "序号",
            "姓名",
            "性别",
            "手机号码",
            "企业微信账号(userid)",
            "界别",
            "专委会",
            "学习小组",
            "职务/角色",
            "备注",
        ]
    )
    for n in range(members):
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        mobile_digits = f"1{rng.choice('3456789')}{n:09d}"
        # Excel stores typed mobiles as numbers; some offices type them with spaces as text.
        mobile: object = (
            int(mobile_digits)
            if n % 3
            else (f"{mobile_digits[:3]} {mobile_digits[3:7]} {mobile_digits[7:]}")
        )
        role = "管理员" if n < 2 else "秘书" if n < 12 else "委员"
        sheet.append(
            [
                n + 1,
                name if n % 50 else name[0] + "\u3000" + name[1:],  # padded names, as printed
                rng.choice("男女"),
                mobile,
                f"u{n:05d}",
                rng.choice(SECTORS),
                rng.choice(COMMITTEES),
                f"第{n % groups + 1}学习小组",
                role,
                "",
            ]
        )
    workbook.save(path)


async def import_once(url: str, path: Path) -> tuple[RosterFile, ImportReport, float, float]:
    started = time.perf_counter()
    roster = read_roster(path)
    read_seconds = time.perf_counter() - started
    db = Database(url)
    try:
        started = time.perf_counter()
        async with db.transaction() as tx:
            report = await tx.roster.apply_roster(
                roster.rows, now=datetime.now(UTC), actor="bench", dry_run=False
            )
        apply_seconds = time.perf_counter() - started
    finally:
        await db.dispose()
    return roster, report, read_seconds, apply_seconds


async def main(members: int, groups: int, keep: Path | None) -> int:
    with tempfile.TemporaryDirectory() as temp:
        workdir = keep or Path(temp)
        workdir.mkdir(parents=True, exist_ok=True)
        xlsx, db_file = workdir / "roster.xlsx", workdir / "bench.db"
        db_file.unlink(missing_ok=True)
        started = time.perf_counter()
        generate(xlsx, members, groups)
        print(
            f"generated {xlsx.name}: {members} members, {groups} study groups "
            f"in {time.perf_counter() - started:.2f} s"
        )
        url = f"sqlite+aiosqlite:///{db_file}"
        db = Database(url)
        await upgrade(db)
        await db.dispose()

        ok = True
        for label, expect_created in (("first import", members), ("re-import", 0)):
            roster, report, read_s, apply_s = await import_once(url, xlsx)
            total = read_s + apply_s
            print(
                f"{label:>12}: read {read_s:.2f} s + apply {apply_s:.2f} s = {total:.2f} s "
                f"({roster.data_rows / total:,.0f} rows/s) — created {report.created}, "
                f"updated {report.updated}, unchanged {report.unchanged}, "
                f"rejected {len(roster.rejections) + len(report.rejected)}"
            )
            ok &= report.created == expect_created and not report.updated
            if label == "first import":
                ok &= total < 5.0
    print("OK" if ok else "FAILED: expected counts or the 5 s target not met")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--groups", type=int, default=24, help="study groups (8–40)")
    parser.add_argument("--keep", type=Path, help="write the xlsx and the database here")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.members, args.groups, args.keep)))
