"""Understanding natural phrasings: score the intents of :mod:`grammar` against a message,
fill the winner's slots from :mod:`slots`, and return the same frozen value the feature's
handler takes — or a :class:`Question` about a feature, never an action.

Pure: text, role and ``now`` in; a value out. A value the bot should not act on without
asking is wrapped in :class:`bot.dispatcher.Guess` with the sentence to confirm.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from bot.dispatcher import Guess, ParseContext
from handlers.checkin.parse import CheckInIntent, MakeUpIntent, QueryIntent
from handlers.duty import LOOKUP_VERB, DutyLookup, MyDuty
from handlers.help import HelpRequest
from handlers.meetings.parse import KINDS, MeetingCommand, MeetingStatus, Rsvp, venue
from handlers.notices.common import when
from handlers.notices.parse import NO_ACK, Ack, NoticeCommand, NoticeStatus
from handlers.reports.natural import read_report
from handlers.reports.parse import (
    CATEGORIES,
    ReportQuery,
    ReportStart,
    ReviewCommand,
    endorse_level,
    forward_level,
)
from handlers.tasks.parse import TaskCommand, TaskDone, TaskStatus, TaskTickOff
from handlers.text import slots
from handlers.text.normalize import clean_message, normalize, widen_punct
from handlers.text.questions import is_question
from handlers.text.timephrase import parse_deadline
from handlers.understand import grammar
from handlers.understand.proposals import BUILDERS as proposal_builders

QUESTION_ABOUT = tuple(name for name, _ in grammar.TOPICS)


@dataclass(frozen=True, slots=True)
class Question:
    """A question about a feature (怎么打卡？): answered with how to use it, never executed."""

    intent: ClassVar[str] = "question"
    about: str  # checkin|makeup|report|notice|meeting|task|duty|proposal|activity
    text: str


def topic(text: str) -> str | None:
    about = next((name for name, pattern in grammar.TOPICS if pattern.search(text)), None)
    if about == "checkin" and grammar.SIGHTSEEING.search(text):
        return None  # 周末有人去梯田打卡吗: sightseeing, not the feature
    return about


@dataclass(frozen=True, slots=True)
class Scored:
    """An intent's score for one message. ``missing`` lists the needed slots it lacks (only
    kept for a rule that asks for them); ``eligible`` is False for an intent that matched but
    was ruled out (a veto, question words, a missing slot): it still tells the fallback what
    the sender most likely meant."""

    rule: grammar.Rule
    score: float
    order: int
    missing: tuple[str, ...] = ()
    eligible: bool = True


def scored(text: str, pctx: ParseContext) -> list[Scored]:
    """Every rule whose cue (or weak word) matches ``text`` for this role, best first."""
    asking = is_question(text)
    masked = slots.mask_titles(text)  # 《如何写好社情民意信息》 names a book, not an intent
    kinds: frozenset[str] | None = None
    out: list[Scored] = []
    for order, rule in enumerate(grammar.RULES):
        if rule.roles is not None and pctx.role not in rule.roles:
            continue
        if not rule.cue.search(masked):
            if rule.weak is not None and rule.weak.search(masked):
                out.append(Scored(rule, grammar.WEAK, order, eligible=False))
            continue
        if kinds is None:
            kinds = slots.found(text, pctx.now)  # once, and only when some cue matched
        score = rule.weight + grammar.EVIDENCE * sum(kind in kinds for kind in rule.evidence)
        missing = tuple(slot for slot in rule.needs if slot not in kinds)
        eligible = not (
            (missing and not rule.ask_missing)
            or (asking and not rule.asks)
            or (rule.veto is not None and rule.veto.search(masked))
        )
        out.append(Scored(rule, score, order, missing, eligible))
    return sorted(out, key=lambda item: (-item.score, item.order))


def understand(text: str, pctx: ParseContext) -> Any:
    """The value a natural phrasing means, a :class:`Guess` to confirm, a :class:`Question`,
    or None (chit-chat, or nothing the bot does). Scored once per message: the early question
    router and the late router share the result."""
    clean = clean_message(text)
    return _understood(clean.lines, pctx)


# Asking leave to ask (就是想请教一下，…): what follows is the question; what came before only
# tells what the sender has done (我这周打卡已经打过了，社情民意也报了一条).
_ASK = re.compile(
    r"(?:就是|我|还)?(?:想|要)?(?:请教|请问|问一下|问问|咨询一下|打听一下)(?:一下)?[\s,，:：]*"
)


def _asked_part(clean: str) -> str:
    match = _ASK.search(clean)
    if match is None or match.start() < 6 or len(clean) - match.end() < 4:
        return clean
    return clean[match.end() :]


def _in_own_words(value: Any, standard: str, own: str) -> Any:
    """``value`` with every text it took from ``standard`` as the member wrote it in ``own``
    (the same text before the dialect words were made standard, of the same length)."""
    if isinstance(value, str):
        at = standard.find(value) if value else -1
        return own[at : at + len(value)] if at >= 0 else value
    if isinstance(value, tuple | list):
        return type(value)(_in_own_words(item, standard, own) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            field.name: _in_own_words(getattr(value, field.name), standard, own)
            for field in dataclasses.fields(value)
            if field.init
            and (
                isinstance(getattr(value, field.name), str | tuple | list)
                or dataclasses.is_dataclass(getattr(value, field.name))
            )
        }
        return dataclasses.replace(value, **changes) if changes else value
    return value


def _standard(text: str) -> str:
    for pattern, word in grammar.STANDARD_WORDS:
        text = pattern.sub(word, text)
    return text


@functools.lru_cache(maxsize=64)
def _understood(lines: str, pctx: ParseContext) -> Any:
    clean = clean_message(lines)
    if not clean or len(clean) > 2000:
        return None
    # Dialect and shorthand are read as the standard words for scoring (俺 → 我, dk → 打卡),
    # but a value keeps the member's own words: each standard word has its dialect word's
    # length, so the member's text is cut where the standard text is.
    own = clean
    standard = _standard(clean.lines)
    if standard != clean.lines:
        clean = clean_message(standard)
    whole, asked = clean, _asked_part(clean)
    own_whole = own  # a question is told back in the sender's words (sqmy, not 社情民意)
    if asked is not clean:
        clean = clean_message(asked)
        own = clean_message(own[len(own) - len(asked) :])
    best: tuple[Scored, Any] | None = None
    for item in scored(clean, pctx):
        if not item.eligible:
            continue
        if item.score < grammar.THRESHOLD or (
            best is not None and item.score < best[0].score - grammar.CLOSE
        ):
            break
        if item.missing:
            if best is None and (value := _ask_for_slot(item, clean)) is not None:
                return value
            continue
        value = BUILDERS[item.rule.name](clean, clean, pctx)
        if value is None:
            continue
        if own != clean:
            value = _in_own_words(value, clean, own)
        if best is None:
            best = (item, value)
        elif _both_actions(best[0], item):
            return _either(best[1], item.rule.name)  # a close second: ask, do not pick
    if best is not None:
        return best[1]
    if is_question(clean) and not grammar.TO_OTHERS.search(clean):
        about = topic(slots.mask_titles(clean)) or topic(slots.mask_titles(whole))
        if about is not None:
            return Question(about, widen_punct(own_whole))
    return None


def likely(text: str, pctx: ParseContext, limit: int = 3) -> list[str]:
    """The intents the sender most likely meant, best first, from the scores (for the
    fallback): every intent whose cue or weak words matched, whether or not it was taken,
    except one whose cue is a common word that counts only with a number (怎么样 + SQ-…)."""
    names: list[str] = []
    for item in scored(clean_message(text), pctx):
        if item.missing and not item.rule.ask_missing:
            continue  # 怎么样 names a report's progress only with its number
        if item.rule.name not in names:
            names.append(item.rule.name)
    return names[:limit]


def _both_actions(first: Scored, second: Scored) -> bool:
    names = {first.rule.name, second.rule.name}
    return len(names) == 2 and names <= grammar.ACTIONS


LABELS = {
    "checkin": "学习打卡", "makeup": "补卡", "report": "提交社情民意", "review": "审核社情民意",
    "notice": "发通知", "meeting": "发会议通知", "task": "交办督办任务",
    "task_done": "报告督办任务完成", "task_tickoff": "督办销号", "rsvp": "会议回执",
    "ack": "确认收到通知",
}  # fmt: skip


def _either(value: Any, other: str) -> Guess:
    """Two actions scored alike: state the better reading, name the other, and ask."""
    also = f"（也可能是「{LABELS[other]}」，如是请直接重发）"
    if isinstance(value, Guess):
        return Guess(value.value, value.confirm + also, value.missing)
    return Guess(value, reading(value) + also)


def reading(value: Any) -> str:
    """A value stated back to the sender, for a confirmation."""
    intent = type(value).intent
    if isinstance(value, ReviewCommand):
        word = _REVIEW_WORDS.get(value.action, value.action)
        return f"{word} {value.number}" if value.number else f"{word}（未写编号）"
    if isinstance(value, CheckInIntent | MakeUpIntent):
        parts = ["、".join(f"《{t}》" for t in value.titles) or value.material]
        if value.minutes:
            parts.append(f"{value.minutes}分钟")
        day = f" {value.date:%m月%d日}" if isinstance(value, MakeUpIntent) and value.date else ""
        return f"{LABELS[intent]}{day}：{' '.join(p for p in parts if p) or '（无内容）'}"
    if isinstance(value, Rsvp):
        return "会议回执：参加" if value.answer == "attend" else f"会议回执：请假 {value.reason}"
    return LABELS.get(intent, intent)


# What to say when an action is clear but the slot it cannot do without is not.
_ASK_FOR = {"sq": "编号，例如 SQ-2025-0042", "db": "督办编号，例如 DB-3"}
# Words around a command that are no content of their own (这篇采用 is a command).
_COMMAND_FILLER = re.compile(r"这篇|这条|这个|这份|该件|该条|那篇|一下|吧|了|先|就|[\s,，。.!！~]")


# A report's serial without its SQ (0042, 2026-0042), as the office jots it down.
_SERIAL = re.compile(r"(?<![\dA-Za-z-])(?:20\d\d\s*[-_—/]\s*)?\d{2,5}(?![\d月日号点时:：.%])")


def _ask_for_slot(item: Scored, clean: str) -> Guess | None:
    """``采用`` with no number: a command, but on which report? Ask — only when the message is
    the command and little else (这个建议可以采用 said in passing is no command), or when it
    opens with a bare serial right before the verb (``0042 采用``, ``0107 退回 请补充数据``):
    the number written short, so the reading is stated and the full number asked for."""
    match = item.rule.cue.search(slots.mask_titles(clean))
    if match is None:
        return None
    before, after = clean[: match.start()], clean[match.end() :]
    serial = _SERIAL.fullmatch(before.strip()) or _SERIAL.fullmatch(_COMMAND_FILLER.sub("", after))
    if serial is None and len(_COMMAND_FILLER.sub("", before + after)) > 2:
        return None
    if (
        serial is not None
        and not _SERIAL.fullmatch(before.strip())
        and len(_COMMAND_FILLER.sub("", before)) > 2
    ):
        return None
    slot = item.missing[0]
    action = next((a for a, pattern in grammar.REVIEW_VERBS if pattern.search(clean)), None)
    if item.rule.name != "review" or action is None:
        return None  # only a review asks for its number so far
    rest = after if serial is not None and before.strip() == serial[0] else ""
    rest = re.sub(r"^(?:了|吧|一下|去|掉)+", "", rest.strip(" ,，。:：;；")).strip(" ,，。:：;；")
    value = _review_value(action, None, rest, clean)
    ask = _ASK_FOR.get(slot, slot)
    said = reading(value)
    if serial is not None:  # 0042 is a report's serial, but of which year?
        said = f"{_REVIEW_WORDS.get(action, action)} 尾号{serial[0]}（未写完整编号）"
    return Guess(value, f"{said}，还缺少{ask}", ask)


def question_only(text: str, pctx: ParseContext) -> Question | None:
    """For the early router: a question about a feature, before any command parser sees it
    (``打卡每天几点截止啊`` is not a check-in)."""
    clean = normalize(text)
    if "\n" in text.strip() or len(clean) > 60 or not is_question(clean):
        return None  # announcements and reports carry their own question marks
    value = understand(text, pctx)
    return value if isinstance(value, Question) else None


# -- builders: one per intent; each returns the handler's value or None -------------------------


def _help(clean: str, raw: str, pctx: ParseContext) -> Any:
    return HelpRequest()


def _sq(clean: str) -> slots.Number | None:
    return slots.number_of(clean, "SQ")


def _short(clean: str, kind: str) -> int | None:
    number = slots.number_of(clean, kind)
    return int(number.value) if number else None


def _review_list(clean: str, raw: str, pctx: ParseContext) -> Any:
    return ReviewCommand("list", None, None)


def _meeting_status(clean: str, raw: str, pctx: ParseContext) -> Any:
    return MeetingStatus(_short(clean, "HY"))


def _notice_status(clean: str, raw: str, pctx: ParseContext) -> Any:
    return NoticeStatus(_short(clean, "TZ"))


_NOT_NAMES = re.compile(
    r"销号|标记为?完成|勾掉|给[他她]们?|把|的|委员|任务|督办|和|及|都|吧|了|在|里|两位|几位"
    # a preposition before a name: 给王芳、为赵丽 (at the start of a name, never inside one)
    r"|(?:^|(?<=[\s、,，]))(?:给|帮|为|替)(?=[\u4e00-\u9fff]{2})"
    r"|(?:已经?)?(?:提交|报送|上报|完成|办完|做完|搞定|交)(?:了|过)?"
)


def _task_tickoff(clean: str, raw: str, pctx: ParseContext) -> Any:
    number = slots.number_of(clean, "DB")
    assert number is not None
    rest = slots.cut(clean, [number.span])
    rest = _NOT_NAMES.sub(" ", rest)
    names = slots.person_names(rest)
    if not names and not grammar.TICKOFF.search(clean):
        return None  # names read before a done word, and none is a person: a task done
    return TaskTickOff(int(number.value), names)


def _task_status(clean: str, raw: str, pctx: ParseContext) -> Any:
    return TaskStatus(_short(clean, "DB"))


def _task_done(clean: str, raw: str, pctx: ParseContext) -> Any:
    task = _short(clean, "DB")
    if task is None:  # what was handed in, not which task: say so and ask
        return Guess(TaskDone(None), "报告督办任务完成（未写编号，按您未完成的督办任务核对）")
    return TaskDone(task)


def _report_query(clean: str, raw: str, pctx: ParseContext) -> Any:
    number = _sq(clean)
    return ReportQuery(number.value if number else None)


def _review(clean: str, raw: str, pctx: ParseContext) -> Any:
    number = _sq(clean)
    if number is None:
        return None
    hits: list[tuple[str, int, int]] = []
    for action, pattern in grammar.REVIEW_VERBS:
        for match in pattern.finditer(clean):
            if not any(s <= match.start() < e for _, s, e in hits):
                hits.append((action, match.start(), match.end()))
    if not hits:
        return None
    hits.sort(key=lambda hit: hit[1])
    action, _, end = hits[0]
    rest = clean[end:]
    if number.span[0] >= end:
        rest = clean[end : number.span[0]] + clean[number.span[1] :]
    rest = re.sub(r"^(?:了|吧|一下|去|掉|修改|处理)+", "", rest.strip(" ,，。:：;；")).strip(
        " ,，。:：;；"
    )
    value = _review_value(action, number.value, rest, clean)
    kinds = {hit[0] for hit in hits} - {"answer"} if action != "answer" else {"answer"}
    if number.spoken or len(kinds) > 1:
        reason = "编号是按语音读出的" if number.spoken else "一条消息里有几个审核动作"
        return Guess(value, f"{_REVIEW_WORDS[action]} {number.value}（{reason}）")
    return value


_OFFICE = r"[\u4e00-\u9fff]{2,15}?(?:局|委|办|厅|部|中心|政府|院|所|站|公司)"
_REVIEW_WORDS = {
    "adopt": "采用", "reject": "不予采用", "return": "退回", "forward": "报送",
    "endorse": "批示", "assign": "转办", "answer": "反馈", "close": "办结",
}  # fmt: skip


def _review_value(action: str, number: str | None, rest: str, clean: str) -> ReviewCommand:
    comment = widen_punct(slots.reason(rest)) or None
    if action == "forward":
        level = re.search(r"(?:市|州|省|全国)政协", clean)
        return ReviewCommand(action, number, None, forward_level(level[0]) if level else None)
    if action == "endorse":
        leader = re.search(r"([\u4e00-\u9fff]{1,8}?(?:书记|市长|县长|州长|省长|主席|领导))", clean)
        word = leader[1] if leader else None
        content = re.split(r"内容(?:是)?[:：]?|[:：]", rest, maxsplit=1)
        comment = widen_punct(content[-1].strip()) or None
        return ReviewCommand(action, number, comment, endorse_level(word) if word else None, word)
    if action == "assign":
        target = re.search(rf"(?:转|交)(?:给|交|办|到|由)?\s*({_OFFICE})", clean)
        if target is None:  # 交办SQ-…给市住建局: the office after 给/到/由
            target = re.search(rf"(?:给|到|由)\s*({_OFFICE})", clean)
        return ReviewCommand(action, number, None, None, target[1] if target else None)
    return ReviewCommand(action, number, comment)


def _duty_mine(clean: str, raw: str, pctx: ParseContext) -> Any:
    return MyDuty(slots.year_of(clean, pctx.now))


_PERSON_DUTY = re.compile(
    LOOKUP_VERB + r"(?P<name>(?!今年|去年|前年|年度)[\u4e00-\u9fff]{2,3}?)"
    r"(?:委员|同志|老师)?\s?(?:(?:今年|去年|前年|20\d\d年?度?)\s?)?的?履职"
)


def _duty_lookup(clean: str, raw: str, pctx: ParseContext) -> Any:
    groups = slots.group_names(clean)
    year = slots.year_of(clean, pctx.now)
    if groups:
        return DutyLookup(groups[0], year)
    match = _PERSON_DUTY.search(clean)
    if match is None or re.search(r"谁|哪|什么|啥|大家|各位", match["name"]):
        return None  # 谁的履职积分最高: nobody named
    return DutyLookup(match["name"], year)


def _checkin_query(clean: str, raw: str, pctx: ParseContext) -> Any:
    groups = [g for g in slots.group_names(clean) if g != slots.EVERYONE]
    if re.search(r"补\S{0,3}卡", clean) and not groups:
        return QueryIntent("mine", None)  # one's own make-ups are in one's own record
    if re.search(
        r"统计|汇总|打卡率|排行|排名|排第|第几名|各组|各小组|全市|全县|全州|导出|导一|数据|明细|报表",
        clean,
    ):
        return QueryIntent("stats", groups[0] if groups else None)
    if (
        re.search(r"我|本人", clean)
        and not re.search(r"谁|哪(?:些|几|位|个)|大家|各位|名单", clean)
        and not groups
    ):
        return QueryIntent("mine", None)
    return QueryIntent("group_week", groups[0] if groups else None)


_CHECKIN_CUE = re.compile(
    r"(?:#\S{1,8}#)|(?:今日份|今日|今天|委员|学习|读书|晒书|荐书)?(?:打(?:个|一个|一下|下)?卡|签到|报个?到"
    r"|(?<![a-z])dk(?![a-z]))(?:学习)?"
    r"(?:了|啦|吧)?|第 ?[\d一二三四五六七八九十百]{1,4} ?天|麻烦(?:给我|帮我)?|帮我|给我"
)
_FILLER = re.compile(
    r"^(?:(?:嗯+|那个|呃+|啊+|老师好?|秘书好?|[\u4e00-\u9fff]{1,3}(?:老师|秘书)好?|我(?=[\s,，]))[\s,，]*)+"
)
_STUDY = re.compile(grammar._STUDY, re.IGNORECASE)


def _checkin(clean: str, raw: str, pctx: ParseContext) -> Any:
    rest = _CHECKIN_CUE.sub(" ", clean)
    if not _STUDY.search(rest) and len(rest.strip(" ,，。!！~～")) > 4:
        return None  # 打卡 with nothing studied: the sightseeing sense
    rest = _FILLER.sub("", rest.strip(" ,，。:：!！~～"))
    titles, minutes, note, material = slots.study_body(rest.strip())
    return CheckInIntent(titles, minutes, note, material)


_MAKEUP_CUE = re.compile(
    r"(?:能不能|可不可以|能否|能|可以|请|申请|帮我|麻烦|给我)*补(?:个|一个|一下|上|签|打)?(?:的)?卡"
    r"|补签|补打卡|补(?:一下|一个|个|上)(?:吧)?"
    r"|的(?:打)?卡|(?:我的?)?(?:忘记?|漏|没)(?:了|有)?打(?:上)?卡?了?"
    r"|(?<=卡)(?:吗|嘛|么)?[?？]|(?:能不能|可不可以|能|可以|请|麻烦)?(?:帮|替|给)我(?=补)"
)


def _makeup(clean: str, raw: str, pctx: ParseContext) -> Any:
    clean = slots.unglue_request(clean)  # 补一下周一的卡: 补一下 + 周一, not 下周一
    day, _ = slots.past_day(clean, pctx.now)
    verb = re.search(
        r"补(?!充)", clean
    )  # the day after 补 is the one made up (今天…补一下上周三的)
    if verb is not None and (after := slots.past_day(clean[verb.end() :], pctx.now)[0]):
        day = after
    text = slots.month_day_words(clean)
    spans = [p.span for p in slots.time_phrases(text, pctx.now, prefer="past")]
    rest = _MAKEUP_CUE.sub(" ", grammar.REQUEST.sub(" ", slots.cut(text, spans)))
    rest = re.sub(r"(?:^|(?<=\s))(?:补|吗|嘛|[?？])(?=\s|$)", " ", rest)  # 可以帮我补上周三的卡吗
    rest = _FILLER.sub("", rest.strip(" ,，。:：!！~～"))
    titles, minutes, note, material = slots.study_body(rest.strip())
    return MakeUpIntent(day, titles, minutes, note, material)


def _report(clean: str, raw: str, pctx: ParseContext) -> Any:
    report = read_report(raw)
    if report is None:
        return None
    value, unknown_category = report
    if unknown_category:
        return Guess(value, f"类别「{unknown_category}」不在分类中（{'、'.join(CATEGORIES)}）")
    return value


def _report_start(clean: str, raw: str, pctx: ParseContext) -> Any:
    return ReportStart()


def _to(groups: tuple[str, ...], pctx: ParseContext) -> str:
    """Who the reading says it is for; nobody named means this group (or asking, in 1:1)."""
    return "、".join(groups) or ("本群" if pctx.in_group else "（未写明对象）")


def _audience(clean: str) -> tuple[str, ...]:
    groups = slots.group_names(clean)
    if groups:
        return groups
    named = slots.named_audience(clean)
    if named is not None:
        return (named[0],)
    if re.search(r"各位委员|全体|所有委员|大家", clean):
        return (slots.EVERYONE,)
    return ()


_MEETING_PLACE = re.compile(
    r"地点\s*[:：为]?\s*(?P<label>[^\s,，。;；]{2,40})"
    r"|在(?P<at>[^\s,，。;；]{2,30}?)(?:召开|举行|举办|开展|集中|开)"
)


# 在 and a place as a phrase of its own, between spaces or commas (在石桥村村委会院坝): the place,
# when it ends in no venue word. A time is no place (在下周三).
_BARE_PLACE = re.compile(
    r"(?:^|(?<=[\s,，。;；]))在(?P<at>[\u4e00-\u9fff]{3,20})(?=[\s,，。;；]|$)"
)
_NOT_PLACE = re.compile(r"[周月日号天年点时]|星期|礼拜|上午|下午|晚上|之前|以前|线")


def _bare_place(clean: str) -> str:
    found = _BARE_PLACE.search(clean)
    return found["at"] if found and not _NOT_PLACE.search(found["at"]) else ""


def _meeting(clean: str, raw: str, pctx: ParseContext) -> Any:
    starts_at = reply_by = None
    for phrase in slots.time_phrases(clean, pctx.now):
        replying = slots.reply_date(clean, phrase)
        if replying and reply_by is None:  # 请…明天下午5点前回复 may come first
            reply_by = replying
        elif not replying and starts_at is None:
            starts_at = phrase.at
    if starts_at is None or starts_at <= pctx.now:
        return None  # a meeting announced is still to come (今天开会开到很晚 tells of one)
    place_match = _MEETING_PLACE.search(clean)
    place = ""
    if place_match is not None:
        place = place_match["label"] or place_match["at"] or ""
    else:
        place = venue(clean) or _bare_place(clean)
    kind = next((k for k in KINDS if k in clean), "会议")
    groups = _audience(clean)
    value = MeetingCommand(groups, kind, starts_at, place, reply_by, widen_punct(clean))
    zone = slots.zone_of(pctx.now)
    reading = (
        f"会议通知：{value.title}，{when(starts_at, zone, weekday=True)}"
        f"{'，' + place if place else ''}，发给{_to(groups, pctx)}"
    )
    return Guess(value, reading)


_TASK_CUE = re.compile(r"督办|布置\S{0,3}任务|纳入督办|^任务\s*[:\s]|交办|[,，]?\s*$")


def _task(clean: str, raw: str, pctx: ParseContext) -> Any:
    deadline = parse_deadline(slots.mask_titles(clean), pctx.now)
    if deadline is None:
        return None
    groups = _audience(clean)
    named = slots.named_audience(clean)
    text = slots.cut(clean, [named[1]]) if named and not slots.group_names(clean) else clean
    body = _TASK_CUE.sub(" ", text).strip(" ,，:：")
    value = TaskCommand(groups, widen_punct(body), deadline.at, deadline.has_time, "", "")
    zone = slots.zone_of(pctx.now)
    reading = (
        f"督办任务：{widen_punct(body)}，完成时限{when(deadline.at, zone)}"
        f"，交给{_to(groups, pctx)}"
    )
    return Guess(value, reading)


_NOTICE_CUE = re.compile(
    r"(?:嗯|那个|帮我)*(?:定时通知|(?:给\S{0,20})?发(?:个|一个|一条|条)?通知(?:给)?|【通知】|通知(?:一下)?)"
)


def _notice(clean: str, raw: str, pctx: ParseContext) -> Any:
    head_end = _body_start(clean)
    send_at, cut_spans = None, []
    found = slots.send_time(clean, pctx.now)  # （明天早上8点发出） / 定时… anywhere
    if found is not None:
        send_at, span = found
        cut_spans.append(span)
    else:  # a clock time in the header: 明天上午9点给第1学习小组发个通知：…
        for phrase in slots.time_phrases(clean[:head_end], pctx.now):
            if phrase.time_of_day is not None:
                send_at = phrase.at
                break
    groups = _audience(clean[:head_end]) or _audience(clean)  # 通知：第4学习小组本周…
    body = clean[head_end:]
    if cut_spans and cut_spans[0][0] >= head_end:
        body = slots.cut(clean[head_end:], [(s - head_end, e - head_end) for s, e in cut_spans])
    body = re.sub(r"^(?:内容\s*[:：]?|就说|说)", "", body.strip(" ,，:：")).strip()
    if not body:
        return None
    value = NoticeCommand(groups, widen_punct(body), send_at, NO_ACK.search(clean) is None)
    at = f"{when(send_at, slots.zone_of(pctx.now))}发出" if send_at else "立即发出"
    audience = _to(groups, pctx)
    reading = f"通知{audience}，{at}：{slots_preview(widen_punct(body))}"
    return Guess(value, reading)


def slots_preview(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _body_start(clean: str) -> int:
    """Where a notice's content begins: after the colon that ends its header, after 就说/内容,
    or after the last group named before the content."""
    colon = re.search(r"(?<!\d)[:：](?!\d)", clean)
    if colon is not None and colon.start() <= 40:
        return colon.end()
    said = re.search(r"就说|内容\s*[:：]?", clean)
    if said is not None:
        return said.start()
    groups = slots.find_groups(clean)
    if groups:
        return max(span[1] for _, span in groups)
    cue = _NOTICE_CUE.search(clean)
    return cue.end() if cue else 0


# What follows an attending answer and only confirms it: 的, 啊, 我会准时到的, 放心.
_PROMISE = re.compile(
    r"^(?:[的啊呀哈哦嘛啦滴]|[\s,，。!！~～])*(?:(?:我|本人)?(?:会|一定|肯定|保证)?(?:准时|按时)(?:到|参加|出席)?"
    r"[的啊呀哈哦嘛啦滴]*|放心|没问题)?(?=[\s,，。.!！~～;；]|$)"
)
_ATTEND_WORD = re.compile(
    r"参加|参会|出席|到会|到场|晚到|迟到|晚点到|(?<=准时|按时)到|(?<=会|定|能)(?:来|到|去)(?!不)"
)


def _rsvp(clean: str, raw: str, pctx: ParseContext) -> Any:
    number = slots.number_of(clean, "HY")
    meeting = int(number.value) if number else None
    if len(clean) > 80:
        return None
    if number is not None:  # HY-4 因公出差请假: the reason is what is left of the number
        clean = slots.cut(clean, [number.span])
    leave = re.search(
        r"请\S?假|去不了|参加不了|来不了|到不了|不能参加|无法参加|不能出席|无法出席|不参加了?"
        r"|不去了|去不成|来不成|参加不成|不能去",
        clean,
    )
    if leave is None:
        attend = _ATTEND_WORD.search(clean)
        rest = _PROMISE.sub("", clean[attend.end() :] if attend else "")
        if len(rest) > 4 and not re.match(r"[\s,，。.!！~～;；]", rest):
            return None  # 参加这次培训收获很大: telling of something attended
        return Rsvp("attend", "", meeting)
    after = clean[leave.end() :].strip(" ,，。!！~～:：")
    before = clean[: leave.start()].strip(" ,，。!！~～")
    before = re.sub(r"(?:实在|跟您|向您|和您|给您|我|本人|只能)+$", "", before).strip(" ,，")
    before = re.sub(r"^(?:收到|好的?|嗯|抱歉|不好意思)[,，\s]*|(?:但是|不过|可是)", "", before)
    why = after if len(after) >= 2 else before.strip(" ,，")
    return Rsvp("leave", widen_punct(slots.reason(why)), meeting)


def _ack(clean: str, raw: str, pctx: ParseContext) -> Any:
    rest = re.sub(r"(?:已经?)?(?:收到|收悉)", "", clean)
    rest = re.sub(r"[\s,，。.!！~～👌👍🙏]+", "", rest)
    if len(rest) > 16:
        return None
    return Ack(_short(clean, "TZ"))


BUILDERS = {
    "help": _help,
    "review_list": _review_list,
    "meeting_status": _meeting_status,
    "notice_status": _notice_status,
    "task_tickoff": _task_tickoff,
    "task_status": _task_status,
    "task_done": _task_done,
    "report_query": _report_query,
    "review": _review,
    "duty_mine": _duty_mine,
    "duty_lookup": _duty_lookup,
    "checkin_query": _checkin_query,
    "makeup": _makeup,
    "checkin": _checkin,
    "report": _report,
    "report_start": _report_start,
    "meeting": _meeting,
    "task": _task,
    "notice": _notice,
    "rsvp": _rsvp,
    "ack": _ack,
}
BUILDERS.update(proposal_builders)  # issue 20: 提案, 满意度, 履职登记
