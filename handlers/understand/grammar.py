"""The grammar of natural phrasings, as data: cue words per intent, question markers, topics.

Extend it here: a new colloquial verb is a new alternative in a pattern, not new code. Every
pattern runs on normalized text (:func:`handlers.text.normalize.normalize`: half-width punctuation,
one space for any whitespace). Order matters where noted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OFFICE = frozenset({"secretary", "admin"})


@dataclass(frozen=True, slots=True)
class Rule:
    """One intent, scored against a message (see :func:`handlers.understand.intents.scored`).

    ``cue`` must match for the intent to be read at all; its ``weight`` is the score it gives
    (an office announcement naming a meeting is a meeting before it is a notice). Each slot of
    ``evidence`` found in the message adds :data:`EVIDENCE` (a 补卡 naming a day and a book is
    surer than one naming neither). ``veto`` rules the intent out; ``asks`` lets it carry
    question words (a query is a question by nature); ``needs`` names the slots it cannot do
    without (``sq``, ``tz``, ``hy``, ``db``): missing, the intent is dropped — or, with
    ``ask_missing``, the bot asks for the slot instead of guessing (``采用`` alone: which
    report?). ``weak`` words name the feature without asking for it (社情民意 alone): below
    :data:`THRESHOLD`, they only tell the fallback what the sender most likely meant."""

    name: str
    cue: re.Pattern[str]
    weight: int = 2
    veto: re.Pattern[str] | None = None
    roles: frozenset[str] | None = None
    asks: bool = False
    needs: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    ask_missing: bool = False
    weak: re.Pattern[str] | None = None


# Scores: a cue gives its rule's weight, each slot of its evidence EVIDENCE; the best intent
# at or above THRESHOLD wins; another action within CLOSE of it makes the reading a guess to
# confirm. A weak word alone scores WEAK, below the threshold.
THRESHOLD = 2.0
EVIDENCE = 0.5
CLOSE = 0.25
WEAK = 1.0
# The intents that change something: never taken on a guess.
ACTIONS = frozenset(
    {"checkin", "makeup", "report", "review", "notice", "meeting", "task", "task_done",
     "task_tickoff", "rsvp", "ack"}
)  # fmt: skip


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE | re.DOTALL)


# The words of a request to make up a day, around the day itself: 能帮我补上吗.
REQUEST = _re(
    r"(?:能不能|可不可以|能否|能|可以|麻烦|请)?(?:帮|替|给)我(?=补)|(?<=补)(?:上|一下|个|一个)?(?:吗|嘛|么)[?？]?"
)
# Telling that one could not do something (没空打卡, 这几天出差没法打卡) or will do it later
# (下周补): no query, no question about the feature, and a promise is no make-up yet.
BUSY = _re(r"没空|没时间|没法|没办法|不了卡|顾不上|来不及|抽不出|太忙|忙死")
LATER = _re(
    r"(?:下周|明天|回头|晚点|过两天|改天|以后|有空)再?补|会补|(?:后|以后|之后|回来)\S{0,3}再?补"
)
# 打卡 in its sightseeing sense: 去元阳梯田打卡, 网红打卡点.
SIGHTSEEING = _re(r"去\S{0,10}打卡|打卡\S{0,3}(?:景点|网红|地)|网红")
# A question put to the people in a group, not to the bot (跟你们说, 告诉你们: to the office).
TO_OTHERS = _re(
    r"大家|各位|(?<![跟给和向诉])你们|谁有|谁知道|有没有人|有人|有谁"
    r"|谁来(?:起草|写|弄|拟|做|负责|发)|谁(?:有空|有时间)"  # asking colleagues who does a job
    r"|开得|到齐|都到了"  # how a meeting went, who has arrived: only those there know
    # where a thing was bought, its price or brand (开会的茶叶哪里买的): not about a feature
    r"|(?:哪里|哪儿|在哪|哪)买|多少钱|(?:什么|啥|哪个)牌子"
)

# What a question is about, first match wins (补卡 before 打卡, 履职报告 before 履职).
TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "makeup",
        _re(
            r"补(?:个|一下|打)?卡|补签|能补|补.{0,3}卡|卡\S{0,4}补|补几|忘\S{0,2}打\S{0,2}卡|漏打"
        ),
    ),
    ("task", _re(r"督办|任务|履职报告|销号|红色|黄色|蓝色")),
    ("duty", _re(r"履职|档案|五个一|打分|积分|得分")),
    ("checkin", _re(r"打.{0,2}卡|卡\S{0,4}打|书香|学习时长|学习时间|学习内容|学习材料|学什么")),
    ("report", _re(r"社情民意|直通车|范文|信息.{0,4}(?:采用|报送)|SQ\s*[-_—]?\s*\d{4}")),
    (
        "meeting",
        _re(r"会议(?!室)|常委会|全会|协商会|座谈会|参会|请假|回执|报名"),
    ),  # 会议室: a room
    # 打卡截止时间 is about check-ins, 回执截止时间 about meetings: both named above
    ("task", _re(r"截止(?:时间|日期)")),
    ("notice", _re(r"通知|收到")),
    ("meeting", _re(r"开会|的会|会.{0,2}(?:几点|在哪|什么时候)")),
    # an event's time or place: 下周的培训在哪里, 调研几点出发 (the sender's meetings are listed)
    (
        "meeting",
        _re(r"(?:培训|学习会|活动|座谈|调研|视察|考察)\S{0,4}(?:在哪|几点|什么时候|哪天|几号)"),
    ),
)

# Words of south-western speech and phone shorthand, read as the standard word for scoring
# (the values keep what was written): 俺的履职情况咋样, 咋个打卡, 晓得了, 去不到, 补dk.
STANDARD_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_re(r"俺"), "我"),
    (_re(r"咋个"), "怎么"),
    (_re(r"晓得"), "知道"),
    (_re(r"莫得"), "没有"),
    # Hubei 么样 for 怎么 (要么样写, 么样补), not the 么样 of 怎么样 or 什么样
    (_re(r"(?<![怎什这那多])么样(?![子的])"), "怎么"),
    # Henan 中不中 for 行不行 (a tag asking leave, or a real question: 这样补卡中不中)
    (_re(r"中不中"), "行不行"),
    (_re(r"(?<=[去来到])不到(?![\u4e00-\u9fff]{2}(?:地|点|位|家))"), "不了"),
    (_re(r"(?<![a-z])dk(?![a-z])"), "打卡"),
    # pinyin initials of the report's names: sqmy 新建一条, 想报个ztc
    (_re(r"(?<![a-z])sqmy(?![a-z])"), "社情民意"),
    (_re(r"(?<![a-z])ztc(?![a-z])"), "直通车"),
)

# The bot addressed: 你, 你这个助手, 你们这个机器人, 这个小助手 … (each part optional).
_BOT = r"(?:你们?|您)?(?:这个|这|那个)?(?:小?助手|机器人|bot)?"
HELP = _re(
    rf"^(?:(?:那个啥|那个|嗯+|呃|请问|你好|您好)[,，\s]*)*{_BOT}都?(?:能|会|可以)"
    r"(?:(?:帮我?|给我|替我)?(?:干|做|办)|帮我?)(?:点|些)?(?:啥|什么|哪些)(?!时候|时间)"
    r"|^帮助(?:一下)?$|^求助$|^(?:功能|使用)(?:介绍|说明)"
    rf"|^(?:请问)?{_BOT}都?(?:有|具备|支持)(?:哪些|什么|啥|些什么)"
    r"(?:功能|用处|用途|服务|用)"
    # 怎么使用这个助手 / 这个助手如何使用 / 教我怎么用你: how to use the bot itself
    # (after a clause of its own: 我是新委员，这个机器人怎么用)
    r"|(?:^|[,，。!！\s])(?:请问)?(?:(?:这个|你这个)?(?:助手|机器人)|你)?(?:要|该)?(?:怎么|如何|咋)(?:使用|用|操作)"
    r"(?:这个|你)?(?:助手|机器人)?(?:呀|啊|呢)?[?？]*$"
    r"|^教(?:教)?我?(?:怎么|如何)?(?:使用|用)(?:你|这个|助手)"
    # 我不会用这个 谁教教我
    r"|^我?(?:不会|不知道怎么|不懂怎么)(?:用|使用)(?:这个|你|助手|机器人)?(?:[\s,，]*谁?(?:教教?我|帮帮我))?"
    r"[。.!！~～]*$"
)

# -- slots' neighbours --------------------------------------------------------------------------

REVIEW_VERBS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("reject", _re(r"不予(?:采用|采纳)|不(?:采用|采纳)|不用了|不要了")),
    ("adopt", _re(r"采用|采纳|编报|(?<!不)(?:可以)?用(?:了吧|吧|了)")),  # 这篇不错 用了吧
    ("return", _re(r"退回|打回|退给")),
    ("forward", _re(r"(?:上报|报送|报|送)(?:至|到|给)?(?=(?:市|州|省|全国)政协)|报送")),
    ("endorse", _re(r"批示")),
    (
        "assign",
        _re(
            r"转(?:给|交|办|到)|交办|(?:转|交(?:由|给)?)(?=\s*[市县州省区]\S{1,12}(?:局|委|办|厅|部|中心))"
        ),
    ),
    ("answer", _re(r"反馈|答复|回复")),
    ("close", _re(r"办结|办理完毕|结案|已办完")),
)
REVIEW_LIST = _re(r"待审|还没审|没审|未审|需要审|要审的")

# -- the intents, in order of preference when two match equally ---------------------------------

_CHECKIN_QUERY_WORDS = (
    r"几次|几回|多少回|(?<![这过近那哪])(?<![^提]前)几天|几个?人|几位|天数|连续|多少|了没(?!空|时间|法)|没有|有没有|情况|统计|汇总|打卡率|名单|谁|哪(?:些|几|位|个)|咋样|怎么样"
    r"|进度|排行|排名|排第|第几名|记录"
    r"|导出|导一份|数据|明细|报表"  # the office exporting them: 把各组打卡数据导出来
    r"|^(?:看下|看看|查下|查查|查一下)"
)
# What was studied (秘书, 书记, 报名, 春节 are not): a check-in needs one of these.
_STUDY = (
    r"《|学|读|看|听|分钟|小时|钟头|心得|感悟|(?<!秘)书(?!记)|报(?!名)|章|(?<![春过])节|课|min"
    r"|\d+ ?h"
)

# Verbs of study told as done (学了, 读了, 看了, 听了, 学习): a check-in without 打卡 needs one
# (or a 《title》).
STUDY_VERB = r"(?:学|读|看|听|背)(?:了|完|过)|学习|读书|阅读|听(?:了)?\S{0,4}《"
# What a task asks members to hand in (a deliverable), for a task done without its number.
_DELIVERABLE = (
    r"(?:调研|履职|述职|学习|年度|工作|专题|读书|考察|视察)\S{0,4}(?:报告|材料|笔记|总结|心得|体会|稿|选题)"
    r"|提案线索|线索|心得体会|(?:那个|这个)(?:报告|材料|总结)"
    # a task itself, or a form it asks for (信息核对表, 调查表)
    r"|任务|(?:调查|登记|核对|信息|统计|申报|汇总|意见|征求意见|情况)表"
)
# A meeting moved or called off (常委会推迟到下周一): a notice about one already announced.
_CHANGED = r"推迟|延期|改到|改在|改为|调整到|调整为|取消|顺延|暂停"
# A meeting named by its kind or as 的会/那个会 (明天的全会我准时到).
_MEETING_NAME = (
    r"(?:会议|全会|常委会|例会|(?:座谈|协商|学习|交流|培训|分享|研讨|读书|动员|部署|总结|推进|主席)会"
    r"|的会|这个会|那个会|这次会)"
)
# Who asked for leave (谁请假了, 请假的有哪些人): a headcount, not a leave asked for.
_WHO_LEAVE = r"请假的|谁\S{0,3}请假|请假(?:人|率|情况|名单)"
# An announcement, or the sender's own answer, is no status query.
_STATUS_NOT = _re(
    r"^我(?!们)|[:：]|召开|举行|定于|请于|请各位|请大家|布置|交办|我的|我\S{0,4}(?:参加|请假)"
    # an announcement asking members to come or sign up (请…委员参加, 11月10日前报名)
    r"|请\S{0,12}(?:参加|出席|参会|报名)|前\S{0,2}报名"
    # how to look it up, not the look-up (怎么看谁报名了, 在哪看报名的人, 报名情况怎么查)
    r"|(?:怎么|如何|怎样|咋|在哪里?)\S{0,2}(?:看|查|知道|找)"
    r"|谁来(?:起草|写|拟|发|负责)|起草"  # asking colleagues who writes it
)
# The words of ticking off: 销号, 给他销了, 帮她销掉.
TICKOFF = _re(r"销号|销掉|(?<![请帮我])销了|(?:给|帮|替)\S{0,3}销|标记(?:为)?完成|勾掉")
# Two- or three-character words (names, by the builder's reading) before a done word:
# 张伟、李娜已完成, 刘洋 陈静都已提交, 周敏和吴磊已交, 赵强 DB-7 已完成.
TICKED_NAMES = _re(
    r"(?:^|[\s:：,，、\d])[\u4e00-\u9fff]{2,3}(?:\s*(?:[、,，和及与]|\s)\s*[\u4e00-\u9fff]{2,3})*"
    r"(?:\s*DB\s*[-_—]?\s*\d+)?\s*(?:都|均|也)?(?:已经?|均已|都已)(?:完成|提交|交|报送|上报)"
)
# Handing something in, in a task: 提交, 报送, 交到办公室, 发我邮箱, 上传到群文件.
_HAND_IN = r"提交|报送|上报|完成|交|报|发送|发给|发到|发我|发群|发在|上传|传到|送到|送交"

RULES: tuple[Rule, ...] = (
    Rule("help", HELP, weight=5, asks=True),
    Rule(
        "review_list",
        REVIEW_LIST,
        weight=3,
        roles=OFFICE,
        asks=True,
        veto=_re(r"SQ|怎么|如何|我的"),
    ),
    Rule(
        "meeting_status",
        _re(rf"报名|回执|多少人|几个人|几人|几位|人数|统计|情况|谁|名单|参加了|哪些|{_WHO_LEAVE}"),
        weight=4,
        roles=OFFICE,
        asks=True,
        needs=("hy",),
    ),
    # The office asking after a notice, meeting or task it names without a number (昨天那个通知
    # 多少人收到了, 常委会回执收得怎么样了, 履职报告的督办完成率多少): the latest one is meant.
    Rule(
        "meeting_status",
        _re(
            r"(?=.*(?:会议(?!室)|(?:常委|协商|座谈|主席|学习|专题|全体)会|的会|回执))"
            rf"(?=.*(?:报名|多少人|几个人|几人|几位|人数|谁|名单|到会|收得|回了|回执了|统计|{_WHO_LEAVE}))"
        ),
        weight=4,
        roles=OFFICE,
        asks=True,
        veto=_re(_STATUS_NOT.pattern + r"|TZ|DB|(?<!会议)(?<!开会)通知"),
    ),
    Rule(
        # who has not handed in what a task asks (履职报告还有谁没交, 年度述职材料交齐了没有)
        "task_status",
        _re(
            rf"(?=.*(?:{_DELIVERABLE}))"
            r"(?=.*(?:(?:谁|几个人|多少人|哪些人|几位)\S{0,4}(?:没|未)\S{0,2}(?:交|报|提交)|交齐|没交的|未交的|交了多少))"
        ),
        weight=4,
        roles=OFFICE,
        asks=True,
        veto=_STATUS_NOT,
    ),
    Rule(
        "notice_status",
        _re(
            r"(?=.*通知)(?=.*(?:多少人|几个人|几人|几位|谁|收到|未读|已读|没回|回复|确认|名单|情况))"
        ),
        weight=4,
        roles=OFFICE,
        asks=True,
        veto=_re(
            _STATUS_NOT.pattern
            + r"|谁(?:来|去|负责|写|起草|发)|起草|大家|各位|HY|DB"
            + r"|^\s*通知|通知一?下(?=\s*(?:第|全|各|所有))|另行通知"
        ),
    ),
    Rule(
        "task_status",
        _re(
            r"(?=.*(?:督办|任务))"
            r"(?=.*(?:完成率|完成情况|进度|谁|几个人|多少人|没完成|未完成|没交|名单|清单|哪些|几项|几个))"
        ),
        weight=4,
        asks=True,
        # a member may ask after their own (我的督办任务还有哪些没完成)
        veto=_re(
            r"[:：]|召开|举行|定于|请于|请各位|请大家|布置|交办|怎么(?:交|报|完成|销号)|如何"
            r"|(?:交|报|发)给谁|找谁"  # whom to hand it to: a how-to
        ),
    ),
    Rule(
        "notice_status",
        _re(r"谁|收到|回复|未读|已读|情况|几个|多少|名单|确认|哪些|没回"),
        weight=4,
        roles=OFFICE,
        asks=True,
        needs=("tz",),
    ),
    Rule(
        "task_tickoff",
        # 销号, 给他销了, 帮她销掉 (the office ticking off someone who handed it in)
        TICKOFF,
        weight=4,
        roles=OFFICE,
        needs=("db",),
        ask_missing=True,
    ),
    Rule(
        # The office telling who handed it in: names before the done word (DB-3 张伟、李娜已完成,
        # 赵强 孙丽 DB-7 都已提交). Taken only where a person is named (the builder gives None
        # otherwise, and the message is read as a task done: DB-3 今天已完成).
        "task_tickoff",
        TICKED_NAMES,
        weight=4,
        roles=OFFICE,
        needs=("db",),
        veto=_re(r"[?？吗]|没|未|还差|谁|我|任务|材料|报告|情况"),
    ),
    Rule(
        "task_status",
        _re(
            r"情况|谁|名单|进度|几个|几位|哪几|多少|没完成|未完成|清单"
            r"|(?:没|未)\S{0,2}(?:交|报|提交)|交齐|还差|差几"  # who has not handed it in
        ),
        weight=4,
        asks=True,
        needs=("db",),
    ),
    Rule(
        "task_done",
        _re(
            r"交了|提交了|已提交|完成|做完|弄完|干完|搞完|办完|办结|报了|已交|搞定|报送|已报|上报|已发|发了"
            r"|已\S{0,6}(?:提交|报送|上报|交|上传)|上传了|(?<![a-z])(?:done|ok)(?![a-z])|✅|☑|✔|好了|弄好|办好"
            r"|(?:请|麻烦|帮我|申请|可以)销号"
        ),
        weight=3,
        needs=("db",),
    ),
    Rule(
        # A task's deliverable handed in, without its number (年度履职报告已经交了, 那个调研报告我
        # 昨天发给办公室了): a guess; the handler takes the sender's one open task, or asks.
        "task_done",
        _re(
            rf"(?=.*(?:{_DELIVERABLE}))"
            r"(?=.*(?:已经?\S{0,8}(?:交|报送|上报|上传|发给|发到|发过去|送到|完成)"
            r"|(?:交|报送|上报|上传|发给|发到|发过去|送到)\S{0,8}?了|完成了|(?:填|做|写|弄)(?:好|完)了))"
        ),
        weight=3,
        roles=frozenset({"member"}),  # the office hands in nothing
        veto=_re(
            r"社情民意|直通车|提案(?!线索)|SQ|TA|没|未|还要|打卡|[:：]|不会|不知道|要不要"
            r"|群里|大家|各位"  # shared with the group, not handed to the office
            # a day's work or a child's homework, not a task of ours
            r"|今天的任务|今日任务|一天的任务|工作任务|学习任务|作业|孩子|女儿|儿子|家务|单位"
        ),
    ),
    Rule(
        # a short reply that it is handed in (已交，发办公室邮箱了 / 都交了): a guess, as above
        "task_done",
        _re(
            r"^(?:(?:好的?|嗯+|收到|ok)[\s,，]*)?(?:我|本人)?(?:已经?|都)(?:提交|交|报送|上报|上传|完成|发)"
            # then punctuation, an emoji or nothing
            r"(?:了|啦|过了)?(?:[^\u4e00-\u9fffA-Za-z0-9]|$)"
        ),
        weight=3,
        roles=frozenset({"member"}),
        veto=_re(r"社情民意|直通车|提案(?!线索)|SQ|TA|打卡|卡|[?？吗]|没"),
    ),
    Rule(
        "review",
        _re("|".join(p.pattern for _, p in REVIEW_VERBS)),
        weight=3,
        roles=OFFICE,
        needs=("sq",),
        ask_missing=True,
        veto=_re(r"吗|了没|没有|[?？]|怎么|如何"),
    ),
    Rule(
        "report_query",
        _re(
            r"进度|进展|到哪|哪一步|了没|没有|状态|^查|查一?下|查查|怎么样|如何|情况|结果|吗|[?？]|呢|还没|没审"
            r"|^SQ[-\d\s]*$|我(?:的|提交的|交的|报的|那篇|今年报|上个月交)"
        ),
        weight=3,
        asks=True,
        needs=("sq",),
    ),
    Rule(
        "report_query",
        _re(
            r"^(?:我想|我要)?(?:查看|查询|看看|看一下|查一下)?我(?:的|提交的|交的|报的|写的)\S{0,4}(?:社情民意|直通车)(?:信息)?"
            r"(?:列表|进度|情况)?$"
            r"|(?=.*我\S{0,14}(?:社情民意|直通车|那篇|那条))"
            r"(?=.*(?:到哪|哪一步|进度|进展|动静|回音|下文|批了没|有没有|了没|没有|吗|[?？]|几篇|几条|几个|几份|多少|结果|状态|查|怎么样|咋样|什么情况|啥情况|情况如何"
            r"|列|清单"
            # the short yes-no question at the end: 有批示没, 被采用没😳, 有回音没有
            r"|没有?[^\u4e00-\u9fffA-Za-z0-9]*$))"
        ),
        weight=3,
        asks=True,
        # a report written out (its title labelled, or long) mentions 没有 in its content
        veto=_re(
            r"怎么写|如何写|范文|(?:题目|标题)\s*(?:是|为|:)|^.{100,}"
            # its parts labelled (存在问题: …, 建议: …): a report written out
            r"|(?:存在问题|主要问题|问题|对策建议|意见建议|建议|现状|基本情况|内容|正文)\s*:"
        ),
    ),
    Rule(
        "duty_mine",
        # (发我, 给我: the one to send it to, not whose it is)
        _re(
            r"(?:(?<![发给诉])我|自己)\S{0,12}(?:履职|五个一)|履职\S{0,6}(?<![发给诉])(?:我|自己)"
            r"|^(?:查看|看看|查一?下)?我的(?:个人)?档案$"  # 档案 is the 履职档案 here
        ),
        weight=3,
        weak=_re(r"履职|档案"),
        asks=True,
        # 帮我把赵强的履职记录查一下: someone else's
        veto=_re(
            r"怎么打分|怎么算|在哪|如何|帮我(?:把|将)(?!我|自己)"
            r"|(?:怎么|咋|怎样|在哪里?)(?:看|查|查看|打开|找|导出|下载)"  # how to look it up
            # a check-in whose book names 履职 (打卡…学的是履职手册…半个钟头)
            r"|(?=.*打\S{0,2}卡)(?=.*(?:学了|读了|看了|学的|读的|分钟|小时|钟头))"
        ),
    ),
    Rule(
        "duty_lookup",
        _re(r"履职"),
        weight=2,
        roles=OFFICE,
        asks=True,
        veto=_re(r"(?<![帮发给诉])我|自己|怎么(?!样)|如何|报告|在哪"),
    ),
    Rule(
        "checkin_query",
        _re(
            r"我\S{0,8}打\S{0,2}卡\S{0,3}(?:了?吗|了没|没)"
            r"|我\S{0,8}卡\S{0,3}打\S{0,3}(?:了?吗|了没|没|成功)"  # 我昨天那个卡打上了没
            # the day first, no 我 before it: 今天学习打卡了吗？我忘了
            r"|^(?:今天|今日|昨天|这周|本周)(?:的|学习)?打\S{0,2}卡了(?:吗|没)"
            r"|我\S{0,8}打了(?:多少|几)(?:天|次|回)"  # 本月我一共打了多少天 (卡 left out)
        ),
        weight=3,
        asks=True,
        veto=_re(r"补|怎么|如何|要不要|能不能"),
    ),
    Rule(
        "checkin_query",
        _re(rf"(?=.*打.{{0,3}}卡)(?=.*(?:{_CHECKIN_QUERY_WORDS}))"),
        weight=3,
        asks=True,
        veto=_re(
            r"补|要不要|能不能|怎么打|如何打|截止|规则|规定|范围|要求|标准|限制|能|可以|需要|要写|写多少"
            r"|(?:怎么|如何|咋)(?:看|导|查|弄)"  # how to read or export them: a how-to
            r"|必须|一定要|应该|算"
            # what one must do (一周要打几次卡, 春节期间还用打卡吗): the rules, not the data
            r"|(?:要|得|用|需|该)打"
            # telling one's streak (我已经连续打卡100天了，给自己点个赞), asking nothing
            r"|^(?!.*[?？吗])(?=.*已经\S{0,3}连续)"
            r"|([\u4e00-\u9fff])不\1|" + "|".join(p.pattern for p in (BUSY, LATER, SIGHTSEEING))
        ),
    ),
    Rule(
        # who has not checked in, 卡 left out at the end: 第2学习小组谁还没打, 哪些人没打,
        # 几个人还没打？ (谁没打电话 names something else)
        "checkin_query",
        _re(
            r"(?:谁|哪些人|哪几个人?|哪几位|几个人|多少人|几位)\S{0,4}(?:没|未)打(?:的|呢|啊|过|上)?"
            r"[?？。.!！~～]*$"
        ),
        weight=3,
        asks=True,
        # 打 of something else named (谁还没打疫苗, 孩子们打球 谁没打)
        veto=_re(r"补|怎么|如何|要不要|能不能|疫苗|针|球|牌|麻将|电话|招呼|游戏|车|架|扫"),
    ),
    Rule(
        # the sender's own make-ups: 补卡成功了吗, 我这个月补了几次卡
        "checkin_query",
        _re(r"(?=.*补\S{0,3}卡)(?=.*(?:成功|几次|多少次|记录|了没|了吗|上了吗|补上了))"),
        weight=3,
        asks=True,
        veto=_re(r"怎么|如何|能不能|可以|能|要不要|最多|需要|必须|规则|谁|大家"),
    ),
    Rule(
        "makeup",
        _re(
            r"补(?:个|一个|一下|下|上|签|打)?(?:的)?卡|补签|补打卡|补.{0,8}的(?:打)?卡|卡.{0,4}补"
            r"|(?:忘|漏|没)\S{0,3}打\S{0,2}卡.{0,40}?补(?!办|充|贴|课|考|票|钙)"
            r"|卡\S{0,3}(?:没|忘[了记]?|漏)打.{0,40}?补(?!办|充|贴|课|考|票|钙)"
            r"|的(?:卡)?补(?:上|一下|一个|个)|^补\s*(?:昨|前天|大前天|上周|本周|这周|周[一二三四五六日天]|星期|礼拜|\d|[一二三四五六七八九十]+[号日])"
            # the day's card named first, the request at the end: 我前天的卡没打上…帮我补一下
            # (the day's 卡 — 前天的卡, 那个卡, 打卡 — not a 饭卡 or a 银行卡)
            r"|(?:的|个|次|打)卡.{0,40}?(?:帮我|给我|麻烦|请)补(?:上|一下|下|一个|个)?(?!办|充|贴|课|考|票|发|交|钙)"
            r"|(?:的|个|次|打)卡.{0,40}?(?:想|要|得|需要)补(?:一下|下|个|一个|上)?\s*"
            r"(?=昨|前天|大前天|上周|上个?星期|上个?礼拜|周[一二三四五六日天]|星期|礼拜|\d|[一二三四五六七八九十]+[号日])"
            # 补 and the day right after it, anywhere: …现在补一下22日的
            r"|补(?:一下|下|上|个|一个)\s*(?=\d{1,2}(?:日|号)|昨|前天|大前天|上周|上个?星期|上个?礼拜|周[一二三四五六日天])"
            # not made that day, then the request: 上星期五那次没打上，麻烦补一下
            r"|(?:忘|漏|没)(?:记)?打(?:上|了)?[,，\s]*.{0,20}?补(?:一下|上|个|下)(?!办|充|贴|课|考|票|钙|觉|牙)"
            # forgot to, then make it up: 周二读了…一小时忘记打了 补上
            r"|(?:忘记?|漏)了?打(?:卡|了|上)?[\s,，。]*(?:我|现在|这就|马上)*补(?:上|一下|下|一个|个)"
        ),
        weight=3,
        evidence=("day", "title", "minutes"),
        weak=_re(r"补卡|补签|忘了?打卡|漏打"),
        veto=_re(LATER.pattern + r"|不用补|不需要补|不必补|无需补|不补了"),
    ),
    Rule(
        "checkin",
        # (dk: 打卡 in pinyin initials, as typed on a phone)
        _re(r"打(?:个|一个|一下|下)?卡|(?:现在|这就|马上)就?打\s*[:：]|(?<![a-z])dk(?![a-z])"),
        weight=2,
        evidence=("title", "minutes"),
        weak=_re(r"打卡|学习|读书"),
        veto=_re(
            r"(?:等会|一会|待会|晚点|稍后|回头|明天|马上)儿?再?打卡|再打卡"  # not yet done
            # 忘了打卡 is not done; 差点忘了，打卡… is
            r"|没空|没(?:有|能|法)?打|未能打|不能打"
            r"|(?<!差点)(?<!险些)(?<!差一点)(?<!几乎)忘(?![了记]?发)|漏打|未打|不打|"
            r"(?:已经?|都)打(?:过|完|了)|打过了|打完了|"  # telling it is done, not doing it
            # talking about check-ins
            r"打卡的(?:那|这|人|同志|委员|次数|数据|名单)|打卡的时候|打卡时|打卡用的|"
            r"打卡(?:数据|明细|记录|报表|情况)|导出|导一份|"  # the data, not a check-in
            # reminding others
            r"记得|别忘|不要忘|请大家|(?:大家|各位)\S{0,3}(?:要|都|按时)|抓紧|提醒|"
            # someone else's check-in, one a school or a firm requires, a complaint about it
            # (我家孩子学校要求每天阅读打卡，烦死了; not 老师: members call the office so)
            r"孩子|儿子|女儿|闺女|小孩|孙子|孙女|学生|学校|班级|幼儿园|家长|公司|"
            r"烦死|好烦|烦人|受不了|头疼|累死|" + SIGHTSEEING.pattern
        ),
    ),
    Rule(
        # A study told with what and how long, and a request to record it, without 打卡:
        # 读了《…》一个小时，帮我记一下 / 请帮我记录今天的学习：听《…》二十分钟 /
        # 学了半个小时党史 记一下. (Telling of a book without the request is chit-chat.)
        "checkin",
        _re(
            rf"(?=.*(?:《|{STUDY_VERB}))"
            r"(?=.*(?:(?:请|麻烦|帮我|给我)\S{0,3}(?:记录|记一下|记下|记上|登记)|(?:记录|记|登记)(?:一下|下|上)"
            r"[\s,，。.!！~～]*$|请记录|请记上))"
        ),
        weight=2,
        needs=("minutes",),
        evidence=("title", "minutes"),
        veto=_re(
            r"打卡|补|调研|视察|走访|接待|宣讲|协商|活动|会议|培训|考察|座谈|慰问|发言|履职"
            r"|明天|待会|一会|晚点|等会|准备|打算|计划|要去|没(?:读|学|看|听)"
        ),
    ),
    # 签到 / 报个到 for a check-in, only with what was studied (会议报到 is no check-in)
    Rule("checkin", _re(r"签到|报个?到"), weight=2, needs=("title",), evidence=("minutes",)),
    Rule("checkin", _re(r"签到|报个?到"), weight=2, needs=("minutes",), evidence=("title",)),
    Rule(
        "report",
        _re(
            r"(?:标题|题目)\s*(?::|是|为|[《\x00])|(?:社情民意|直通车|反映(?:个|一个|一下)?情况)"
            r"[\s\S]{0,40}关于[\s\S]{2,80}?(?:建议|问题|意见|思考|对策|报告|提案)"
            # A title line, then labelled parts: a report without the keyword.
            r"|^(?:[【\[(（][^】\])）]{2,8}[】\])）]\s*)?关于\S{2,80}?(?:建议|问题|意见|对策)\s+"
            r"(?:[\u4e00-\u9fff]{2,6}类\s+)?"  # its category after it: 生态环境类
            r"(?:[一二三四五六七八九十\d]{1,2}\s*[、.．]\s*|[(（][一二三四五六七八九十\d]{1,2}[)）]\s*)?"
            r"(?:类别|分类|内容|正文|基本情况|现状|存在问题|主要问题|问题|对策建议|意见建议|建议)\s*:"
        ),
        weight=3,
        veto=_re(r"(?:怎么|如何)写|范文"),
    ),
    Rule(
        "report_start",
        _re(
            r"(?:我要|我想|想)\S{0,10}(?:社情民意|直通车).{0,30}"
            r"(?:(?:怎么|咋|如何)(?:开始|弄|办|操作|提交|交|报|整|搞))"
        ),
        weight=2,
        asks=True,
    ),
    Rule(
        "report_start",
        _re(
            r"(?:我要|我想|想|要|开始|新建|新增|起草|撰写|编写|拟|录入|登记|上传|报个?|写|提交|填写?|交|反映)"
            r"\S{0,8}(?:社情民意|直通车)"
            # the keyword, then the wish: 社情民意我要交一篇, 直通车 我想反映一个问题
            r"|(?:社情民意|直通车)(?:信息)?.{0,4}?我?(?:想|要|得|需要|准备)(?:要)?(?:反映|提交|报|写|交)"
            r"|^我?(?:想|要)反映(?:一个|个|一下)?(?:情况|问题)$"
            r"|(?:社情民意|直通车)\S{0,4}(?:怎么开始)|反映\S{0,6}走社情民意"
            r"|^(?:社情民意|直通车)(?:信息)?$"  # the keyword alone, as the command 社情民意
            # 社情民意 新建一条
            r"|^(?:社情民意|直通车)(?:信息)?\s*(?:新建|新增|新写|起草|来)(?:一|个)"
            # the wish, then the keyword as a phrase of its own: 有个情况想报一下 社情民意,
            # 想提交一条 直通车, 我想反映个问题 走社情民意
            r"|(?:想|要|准备)(?:反映|报|提交|交|写)(?:一下|一个|个|一条|条|一篇|篇)?(?:问题|情况|事)?"
            r"[\s,，]+(?:走)?(?:社情民意|直通车)"
        ),
        weight=2,
        weak=_re(r"社情民意|直通车"),
        veto=_re(
            r"我的|我提交的|几篇|几条|几个|几份|多少|进度|怎么写|怎么弄|还能|分哪|联名"
            r"|每位委员|每人|各位委员|请大家"  # the office asking every member for one
            # 我今年报的社情民意: the ones already sent, not a new one
            r"|(?:报|交|提交|写|反映)(?:过)?的(?:那|这)?(?:一?[条篇份个])?(?:社情民意|直通车)"
        ),
    ),
    Rule(
        "meeting",
        _re(
            r"召开|举行|举办|【会议】|发个会议|会议通知|开(?:个)?\S{0,8}(?:会|协商)|^会议\s*:"
            r"|时间\s*:.{0,24}地点"
        ),
        weight=4,
        roles=OFFICE,
        evidence=("time", "group"),
        weak=_re(r"会议|开会"),
        # An announcement, not someone telling of a meeting they went to or missed.
        # (具体时间另行通知: the start is not known yet — a notice, not a meeting)
        veto=_re(
            r"^我(?!们)|没去|没参加|开完|开过|开得|开到|闭幕|召开了|定时|时间\S{0,2}(?:另行|再行)?(?:通知|待定|另定)"
            rf"|{_CHANGED}"
        ),
    ),
    Rule(
        # The office's short form: a time, the meeting's name, its place or reply date
        # (下周三下午2点 主席会议 机关一号会议室 请于下周一前回复), no 召开.
        "meeting",
        _re(
            r"(?=.*(?:会议|(?:座谈|协商|常委|学习|培训|推进|调度|交流|论证|听证|评议|例|全|分享|读书|研讨"
            r"|动员|部署|总结|表彰|联谊|茶话)会)(?!室))"
            r"(?=.*(?:地点|会议室|报告厅|礼堂|多功能厅|会议中心|回复|回执|报名|回个?1"
            r"|在\s*[A-Za-z]?\d{3,4}(?![\d:：点时])))"
        ),
        weight=3,
        roles=OFFICE,
        needs=("time",),
        evidence=("group",),
        # (明天会议的回执发我: a reminder to answer a meeting announced before)
        veto=_re(
            r"^我(?!们)|没去|没参加|开完|开过|开得|开到|闭幕|召开了|定时|[?？吗]|怎么|几点|在哪"
            rf"|{_CHANGED}"
            r"|会议?的回执|回执(?:发|交|报)"
        ),
    ),
    Rule(
        "task",
        _re(
            r"督办|布置\S{0,3}任务|^(?:新|发布|下达|派发?)?(?:个|一个|一项|一条)?任务\s*[:\s]|交办|(?:交|报|发|送)(?:上来|过来|给我)"
            rf"|请\S{{0,20}}前\S{{0,12}}(?:{_HAND_IN})"
            r"|前[,，\s]*(?:每人|各自|每位委员|每位|各位委员|大家)?\S{0,4}(?:提交|报送|上报|交)"
            # a deadline, then 把 what to what: 6月15日前 第3学习小组 把读书心得交到办公室
            rf"|前.{{0,20}}?把.{{1,20}}?(?:{_HAND_IN})"
        ),
        weight=3,
        roles=OFFICE,
        evidence=("deadline", "group"),
        weak=_re(r"督办|任务"),
        # a notice that sets a date is a notice; the replies to a meeting (回执) are no task
        veto=_re(r"发\S{0,3}通知|^通知|【通知】|回执"),
    ),
    Rule(
        # A notice's header at the start outweighs the words of its body (履职, 打卡, 登记):
        # 发个通知：…, @履职助手 群发一下：…, 今晚7点发第2学习小组：…,
        # 12月31日下午5点发 全体委员：…
        "notice",
        _re(
            r"^[^:：\n]{0,24}?(?:发(?:个|一个|一条|条)?通知|【通知】|群发)"
            r"|^\s*通知(?:一下)?\s*[:：]"
            # 大家注意一下：…
            r"|^(?:请)?(?:大家|各位(?:委员)?|全体委员)(?:请)?注意(?:一下)?\s*[:：]"
            r"|^[^:：\n]{0,24}?(?:发|推送|发送)(?:给|至|到)?\s*"
            r"(?:第|全体|所有|各位?|[\u4e00-\u9fff]{1,8}(?:界|委|组))[^:：\n]{0,20}[:：]"
        ),
        weight=4,
        roles=OFFICE,
        evidence=("group", "sendtime"),
        veto=_re(r"^[^:：]{0,30}(?:会议通知|开会通知)"),
    ),
    Rule(
        # a meeting or event moved or called off, told by the office: a notice
        "notice",
        _re(rf"(?=.*(?:会|活动|学习|培训|调研|视察))(?=.*(?:{_CHANGED}))"),
        weight=3,
        roles=OFFICE,
        evidence=("group",),
        veto=_re(r"^我(?!们)|[?？吗]|怎么|为什么|是不是|听说"),
    ),
    Rule(
        "notice",
        _re(
            r"发\S{0,2}通知|通知(?:一下)?|【通知】|定时发|群发"
            r"|(?:给|向)\S{1,20}(?:发|推送|发送|群发)(?:一下)?[:：]|^发(?:给|至|到)\S{1,20}[:：]"
        ),
        weight=2,
        roles=OFFICE,
        evidence=("group", "sendtime"),
        # telling that a notice went out (通知我已经发出去了) is not sending one
        veto=_re(
            r"通知\S{0,4}(?:已经?|都)(?:发|推送)|(?:发出去|发过|推送过)了|发(?:过)?的通知"
            # no audience and no content marked: 通知一下食堂多准备几份饭 tells nobody of ours
            r"|^(?!.*(?:[:：]|就说|内容|第\S{1,3}(?:学习)?小?组|全体|各位|大家|所有|委员|界|委|群|\d组|[一二三四五六七八九十]组))"
        ),
    ),
    Rule(
        "rsvp",
        _re(
            r"请\S?假|去不了|去不成|来不成|参加不成|参加不了|来不了|到不了|不能参加|无法参加|不能出席|无法出席|不参加"
            # a whole message promising to come: 会来的会来的, 一定到, 肯定去
            r"|^(?:(?:我|本人)?(?:一定|肯定|会|能)+(?:来|到|去)(?:的|哈|啊|呀)?[\s,，]*)+[。.!！~～]*$"
            r"|^(?:(?:收到(?:通知)?|好的?|嗯+|ok|要得|行|没问题|那个|回复|回执|我这边|我这儿|到时候?"
            r"|HY[\s\-]*\d*)\S?\s*)*"
            r"(?:(?:这次|明天的?|后天的?|下周的?|那个|第\S{1,3}个)?会议?)?"
            r"(?:确认|我|本人)*(?:要|能|会|将|可以|一定|肯定|届时|来|去)*"
            r"(?:准时|按时)?(?:报名)?"
            r"(?:参加|参会|出席|到会|到场|(?<=准时|按时)到)(?!完|过|工作|革命)"
            # the meeting named, then not going: 会议我就不去了
            r"|(?:会|会议|HY[\s\-]*\d+)\S{0,6}?(?:我|本人)?(?:就|这次|可能)?(?:不去了|去不成|参加不成|不能去)"
            # the meeting named, then the answer: 王秘书 那个下周二的会我参加啊
            rf"|{_MEETING_NAME}[\s,，]*(?:我|本人)(?:会|能|一定|肯定|准时|按时)*"
            r"(?:参加|参会|出席|来|去|到|晚到|迟到|晚点到)(?!完|过|了|不)"
        ),
        weight=3,  # 收到，准时参加 answers the meeting, more than it acknowledges
        evidence=("hy",),
        weak=_re(r"会议|开会|参会"),
        veto=_re(
            r"参加完|(?<!不)参加了|请假的|请假(?:人|率|情况|名单|条)|谁请假"
            # not going somewhere named (去不了昆明), someone else not coming (我妈说今天来不了),
            # an event of one's own life (家长会, 婚礼), leave as a topic (单位请假太难了)
            r"|(?:去|来|到)不了(?![了啊呀哈哦,，。.!！~～\s]|$)"
            r"|(?:妈|爸|孩子|他|她|老公|老婆|爱人|儿子|女儿|家里人)[^\s,，。;；!！]{0,6}"
            r"(?:来不了|去不了|到不了|参加不了|不参加)"
            r"|婚礼|家长会|聚会|饭局|酒席|同学会|生日|喜酒|葬礼|比赛|请假(?:太|很|真|好|不好|难)"
            # not going to work or school (明天出差，去不了单位了)
            r"|(?:去不了|来不了|到不了)了?(?:单位|公司|学校|上班|医院|超市)"
            # a day off work, not a meeting (今天请假一天, 明天我请假，有事找小李)
            r"|^(?!.*(?:会|HY|参加|参会|出席))(?=.*(?:请\S?假\S{0,3}[一两半几\d]+(?:天|日|周|个?月)|有事找))"
        ),
    ),
    Rule(
        # 知道了 / 已阅 / 明白 as the whole message: an acknowledgement, like 收到
        "ack",
        _re(
            r"^(?:(?:好的?|嗯+|ok|行)[\s,，]*)?(?:知道了|已阅|已知悉|知悉|明白了?)[\s,，。.!！~～]*$"
        ),
        weight=2,
        evidence=("tz",),
    ),
    Rule(
        "ack",
        _re(r"收到|收悉"),
        weight=2,
        evidence=("tz",),
        veto=_re(
            r"红包|礼物|快递|转账|包裹|钱|货|款|没收到|未收到|收到了吗|消息|晚点|稍后|收到[您你]的(?!通知)"
            r"|[你您]发的(?!通知)|照片|图片|视频|链接"  # something a person sent
            r"|收到了?[您你他她](?!的通知)|(?:寄|送|带)的"
            # someone else's notice (收到单位通知), thanks for sympathy (谢谢大家的关心)
            r"|收到\S{0,3}(?:单位|公司|学校|物业|社区|医院|银行|老家)|关心|慰问|祝福"
        ),
    ),
)

# -- proposals (提案) and registered activities (履职登记), issue 20 ---------------------------
# Appended, not woven in: the rules below are scored with the ones above by weight, then order.

PROPOSAL_VERBS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("reject", _re(r"不予立案|不立案|不能立案")),
    ("accept", _re(r"(?<!不予)(?<!不)(?<!不能)立案")),
    ("merge", _re(r"并案|并入|合并办理|合并到|合并至")),
    (
        "assign",
        _re(
            r"交办|转交|分办|转办|交由|交给|分送|转(?=\s*[市县州省区]\S{1,12}(?:局|委|办|厅|部|中心))"
        ),
    ),
    ("answer", _re(r"答复|回复意见|办理结果")),
    ("close", _re(r"办结|结案|办理完毕")),
    ("key", _re(r"重点提案|列为重点|列入重点")),
    ("lead", _re(r"领办")),
)
# A unit that handles a proposal (承办单位): 市卫健委, 州教育体育局, 县人社局 …
UNIT = _re(
    r"[\u4e00-\u9fff]{1,14}?(?:局|委员会|委|办公室|办|厅|部|中心|政府|院|所|站|公司|集团|银行|馆)"
)
# What a member does as a duty (履职活动), for an activity told without the word 登记.
_DUTY_DONE = (
    r"调研|视察|走访|宣讲|界别活动|委员工作室|协商|民主监督"
    # words of everyday life too (接待客人, 钢琴培训): a duty only where a duty is named
    r"|(?:政协|委员|界别|专委|履职|群众|组织的)\S{0,20}?(?:考察|接待|培训|座谈|慰问|督查|检查)"
    r"|(?:考察|接待|培训|座谈|慰问|督查|检查)\S{0,20}?(?:政协|委员|界别|专委|群众)"
)
# A proposal's number as members write it (TA-2026-0011, ZX2025015, 2025年第15号提案).
_PROPOSAL_NO = r"(?<![A-Z])(?:TA|ZX)\s*[-_—]?\s*\d{4}|\d{4}年第\d+号提案"
PROPOSAL_START = _re(
    r"(?:我|想|要|帮我|麻烦|开始|先|准备|打算|计划)\S{0,8}(?:提|交|写|填|提交|起草|新建)\S{0,4}提案"
    r"|提案\S{0,10}(?:我想|我要|想|要)\S{0,8}(?:提交|交|填|写|提)|提案\S{0,12}(?:开个头|带我|一步一步)"
    r"|(?:^|我)有(?:个|一个|一件|件)提案"
    # a draft asked for: …先帮我建个草稿, 先起个草稿
    r"|(?:建|起|拟|打|写|存)(?:个|一个|一份|份)?草稿"
)
ACTIVITY_CUE = _re(
    r"履职登记|(?:帮我|麻烦|请|我要|我想)?(?:登记|录入|记录)(?:一下|一条|一个|一次|下)?(?:我的)?"
    r"(?:履职活动|履职|活动)?"
)

RULES = (
    *RULES,
    Rule(
        "proposal_review",
        _re("|".join(p.pattern for _, p in PROPOSAL_VERBS)),
        weight=4,
        roles=OFFICE,
        veto=_re(r"吗|了没|[?？]|怎么|如何|SQ"),
    ),
    Rule("satisfaction", _re(r"满意"), weight=4, veto=_re(r"吗|[?？]|怎么|如何")),
    Rule(
        "proposal",
        _re(
            r"(?=.*(?:提案|议案))(?=.*(?:关于|案由|题目|标题|联名|附议|提交|提|交|写|填|起草|开个头|新建))"
        ),
        weight=4,
        veto=_re(
            r"写得|获评|优秀|辛苦|支持|私下|的事|有关|提案委|恭喜|谢谢|感谢|(?:怎么|如何)写|范文|社情民意"
            r"|提案线索|的通知"  # 关于报送提案线索的通知: a notice about proposals
        ),
    ),
    Rule(
        "activity",
        _re(
            r"履职登记|登记\S{0,6}履职|(?:登记|记录)(?:一下|一条|一个|下).{0,30}"
            r"(?:调研|视察|发言|参加|培训|走访|接待|活动|考察)"
            # the word first, as a command: 登记 3月20日 界别活动 …, 帮我登记: 昨天 走访…
            r"|^(?:帮我|请|麻烦)?(?:登记|记录)\s*[:：\s].{0,30}"
            r"(?:调研|视察|发言|参加|培训|走访|接待|活动|考察|宣讲|协商|民主监督)"
        ),
        weight=4,
        veto=_re(r"登记表|报名|怎么|如何"),
    ),
    Rule(
        # A registered activity reviewed, its number first or last: HD-9 确认, HD-10 退回 缺少照片.
        "activity_review",
        _re(r"(?=.*HD\s*[-_—]?\s*\d)(?=.*(?:确认|通过|同意|退回|打回|驳回))"),
        weight=5,
        roles=OFFICE,
        veto=_re(r"吗|[?？]|怎么|如何"),
    ),
    Rule(
        # The registrations waiting for the office: 今天有哪些待确认的履职登记.
        "activity_review",
        _re(
            r"待(?:确认|审核|审)\S{0,6}(?:履职|登记|活动)|(?:履职登记|活动登记)\S{0,6}待(?:确认|审)"
        ),
        weight=5,
        roles=OFFICE,
        asks=True,
    ),
    Rule(
        # A co-signature given or refused in words, on a numbered proposal: TA-… 我不联名了,
        # TA-… 这个提案我愿意联名, TA-… 附议我就不参加了.
        "cosign",
        _re(rf"(?=.*(?:{_PROPOSAL_NO}))(?=.*(?:联名|附议))"),
        weight=5,
        veto=_re(r"吗|[?？]|怎么|如何|几个|多少|谁|哪些"),
    ),
    Rule(
        # The sender's own proposals: 我今年交过的提案有哪些.
        "proposal_query",
        _re(
            r"(?=.*我\S{0,12}提案)"
            r"(?=.*(?:哪些|几件|几个|几份|多少|列表|清单|进度|进展|情况|状态|到哪|怎么样|咋样|结果))"
        ),
        weight=4,
        asks=True,
        veto=_re(r"怎么(?:写|提|交)|如何|要求|格式|范文|联名|附议|满意"),
    ),
    Rule(
        # A proposal's progress asked by its number: TA-… 办到哪了, TA-… 有答复了没有.
        "proposal_query",
        _re(
            rf"(?=.*(?:{_PROPOSAL_NO}))(?=.*(?:进度|进展|到哪|哪一步|办到|办理到|怎么样|咋样|情况|答复了|回复了"
            r"|有答复|结果|状态|了没|没有|吗|[?？]|^查|查一?下|查查))"
        ),
        weight=4,
        asks=True,
        veto=_re(r"满意|联名|附议|怎么(?:提|写|交)"),
    ),
    Rule(
        # The sender's own registered activities: 我今年登记了哪些履职活动.
        "activity_query",
        _re(
            r"(?=.*我)(?=.*(?:登记|履职活动))"
            r"(?=.*(?:哪些|几次|几个|几条|多少|记录|列表|清单|审核|确认|通过|情况|^查|查一?下|查查|看看|看一下))"
        ),
        weight=5,
        asks=True,
        veto=_re(
            r"怎么|如何|咋|能不能|可以|要不要|需要|算不算|属于|提案|社情民意"
            r"|我要|我想|帮我|麻烦|请|登记(?:一下|一条|一个|下)"  # asking to register one
        ),
    ),
    Rule(
        # An activity told as done, with its day (昨天到县一中视察了食堂, 上周五参加了…专题调研):
        # registered only once confirmed.
        "activity",
        _re(rf"(?=.*(?:了|过))(?:参加|去|到|在)\S{{0,30}}?(?:{_DUTY_DONE})"),
        weight=3,
        roles=frozenset({"member"}),
        needs=("day",),
        veto=_re(
            r"明天|后天|下周|下个?月|将|准备|打算|计划|要去|会去|没去|没参加|不去|吗|[?？]|打卡|请假"
        ),
    ),
    Rule(
        # ... or with a request to register it at the end: …视察，登记一下 / …帮我记上.
        "activity",
        _re(rf"(?:{_DUTY_DONE}).{{0,40}}(?:登记|记录|记)(?:一下|下|上|一笔)"),
        weight=4,
        veto=_re(r"登记表|报名|怎么|如何|咋|吗|[?？]"),
    ),
)


TOPICS = (
    (
        "activity",
        _re(
            r"履职登记|登记\S{0,6}履职|(?:怎么|咋|如何|要|可以|能|需要|也要)\S{0,3}登记|补登|登记.{0,4}(?:吗|照片)"
            r"|履职活动"
            # how to record an activity named: 委员工作室接待群众的活动怎么记
            rf"|(?:{_DUTY_DONE}|活动)\S{{0,12}}(?:怎么|如何|咋)(?:记|算|登记)"
        ),
    ),
    (
        "proposal",  # the feature named first is the one asked about (社情民意和提案… is 社情民意)
        _re(
            r"^(?!.*(?:社情民意|直通车).*提案)"
            r".*(?:提案|案由|立案|承办单位|附议|满意度|答复.{0,6}满意|满意.{0,4}怎么办)"
            # a proposal's number, or 联名 where no 社情民意 is named
            rf"|{_PROPOSAL_NO}|^(?!.*(?:社情民意|直通车)).*联名"
        ),
    ),
    *TOPICS,
    ("task", _re(rf"{_DELIVERABLE}|已交|交的")),  # 已交的材料还能修改吗: last, when nothing else
)
