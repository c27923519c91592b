"""补卡 only for a period the member was due: never for one before the campaign existed, nor
for a day off of a campaign that skips holidays. Through the app's real encrypted callback
over HTTP; the answers are what the fake WeCom accepted."""

from __future__ import annotations

from datetime import timedelta

from tests.test_e2e_wecom import Edge, edge


async def answers(e: Edge, sender: str, text: str) -> list[str]:
    mark = len(e.to(sender))
    await e.say(sender, text)
    await e.settle()
    return [a.content for a in e.to(sender)[mark:]]


async def checkins(e: Edge) -> list[str]:
    async with e.runtime.db.read() as tx:
        member = await tx.members.by_userid("zhangwei")
        assert member is not None
        campaign = await tx.campaigns.for_group(1)
        assert campaign is not None
        return [str(day) for day in await tx.checkins.periods_of(campaign.id, member.id)]


async def test_no_makeup_for_a_period_before_the_campaign(db_url: str) -> None:
    async with edge(db_url) as e:  # Tuesday 2025-11-25
        await answers(e, "mishu", "开启打卡 第3学习小组 每周 周五20:00提醒 周日21:00汇总")
        [answer] = await answers(e, "zhangwei", "补卡 上周三 读《乡土中国》40分钟")
        assert answer.startswith("补卡未成功：打卡活动从11月25日开始")
        [answer] = await answers(e, "zhangwei", "补卡 11月12日 读书")
        assert answer.startswith("补卡未成功：")
        assert await checkins(e) == []
        # The week the campaign started in is due: a make-up for it, once it closed, counts.
        e.clock.advance(timedelta(days=7))  # Tuesday 2025-12-02
        [answer] = await answers(e, "zhangwei", "补卡 上周三 读《乡土中国》40分钟")
        assert answer.startswith("补卡成功")
        assert await checkins(e) == ["2025-11-24"]


async def test_no_makeup_for_a_day_before_a_daily_campaign(db_url: str) -> None:
    async with edge(db_url) as e:
        await answers(e, "mishu", "开启打卡 第3学习小组 每天 20:00提醒 次日9:00汇总")
        [answer] = await answers(e, "zhangwei", "补卡 昨天 学习党章")
        assert answer.startswith("补卡未成功：打卡活动从11月25日开始")
        assert await checkins(e) == []
