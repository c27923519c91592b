"""Routing an Incoming message to the feature that understands it.

Each feature module owns a :class:`Router`. A route pairs a *parser* (pure: text → a frozen
value, or None) with a handler that receives that value; handlers never re-parse. Routers are
tried in the order ``handlers.ROUTERS`` lists them, the fallback last. An open dialog of the
sender in that chat gets the message first.

Parse once: the dispatcher normalizes a message once, with the normalizer a router brings
(``Router.clean``; the features bring :func:`handlers.text.normalize.clean_message`), and hands
every parser, dialog and the confirmation step that same text; a parser returns the one value
its handler takes.

Buttons are routed like text (aiogram's callback-query routers): the edge turns a click on a
card's button into ``Incoming.action``, and the feature that sent the card registers what a
button does with :meth:`Router.action` (``@router.action("ack")``). A click goes to its
action's handler before anything else (an open dialog keeps waiting); a button nobody
registered gets :data:`UNKNOWN_ACTION`, never silence.

The dispatcher knows nothing of HTTP or WeCom; tests drive it with a Tx and an Incoming.
"""

from __future__ import annotations

import enum
import functools
import logging
import re
import types
import typing
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.errors import PermissionDenied, UserFacingError
from bot.labels import OFFICE_ROLES
from bot.messages import RESPONSE_URL_BYTES, Action, CardUpdate, Incoming, Outgoing, Send
from bot.workcalendar import WorkCalendar

if TYPE_CHECKING:
    from storage import Tx
    from storage.models import DialogState, Member

log = logging.getLogger(__name__)


class Parsed(Protocol):
    intent: ClassVar[str]


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What a parser may look at besides the text."""

    role: str  # member|secretary|admin
    now: datetime  # aware, in the configured zone
    in_group: bool = False


@dataclass(frozen=True, slots=True)
class Guess:
    """A value read from a natural phrasing that the bot must not act on without asking:
    ``confirm`` is its reading, shown to the sender, who answers 是/确认, 不是, or the correction.
    ``lvzhi parse`` shows the value's own fields plus ``confirm``. ``missing`` names a slot the
    value cannot do without (采用 with no number): 是 then asks for it instead of acting."""

    value: Any
    confirm: str
    missing: str = ""


class HandBack(enum.Enum):
    """What a dialog returns for a message that is not its own: an optional step (attachments
    after a 履职登记) ends, and the message is handled as a new one instead of being lost."""

    NEW_MESSAGE = "new message"


# A parser takes the dispatcher's normalized text (a ``Clean`` str; tests may pass plain str).
ParseFn = Callable[[str, ParseContext], Any]
HandlerFn = Callable[[Any, "Context"], Awaitable[None]]
DialogFn = Callable[[str, "Context", "DialogState"], Awaitable["HandBack | None"]]
ActionFn = Callable[[Action, "Context"], Awaitable[None]]
# A correction of a waiting reading: (waiting text, answer, context, how to read a text) →
# (the amended text, its reading to confirm), or None when the answer corrects nothing.
AmendFn = Callable[[str, str, ParseContext, Callable[[str], Any]], "tuple[str, Guess] | None"]


@dataclass(frozen=True, slots=True)
class Route:
    parse: ParseFn
    handler: HandlerFn
    roles: frozenset[str] | None  # None: everyone in the roster
    denied: str  # the Chinese refusal for anyone else


@dataclass(frozen=True, slots=True)
class ActionRoute:
    handler: ActionFn
    done: str  # what the clicked card shows instead of its buttons once handled ("": unchanged)


# The answer to a button no feature registered (a card from an older version, a forged key).
UNKNOWN_ACTION = "抱歉，这个按钮已失效，无法处理。请直接回复文字，发送「帮助」查看我能做什么。"


class Router:
    """A feature's routes, dialogs and card buttons (aiogram style: one router per feature)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: list[Route] = []
        self.dialogs: dict[str, DialogFn] = {}
        self.actions: dict[str, ActionRoute] = {}
        self.amend: AmendFn | None = None  # reads a one-slot correction of a reading
        # The grammar's normalizer, run once per message (the features own the grammar).
        self.clean: Callable[[str], str] | None = None

    def message(
        self, parse: ParseFn, *, roles: Sequence[str] | None = None, denied: str = ""
    ) -> Callable[[HandlerFn], HandlerFn]:
        def register(handler: HandlerFn) -> HandlerFn:
            self.routes.append(Route(parse, handler, frozenset(roles) if roles else None, denied))
            return handler

        return register

    def dialog(self, kind: str) -> Callable[[DialogFn], DialogFn]:
        def register(handler: DialogFn) -> DialogFn:
            self.dialogs[kind] = handler
            return handler

        return register

    def action(self, name: str, *, done: str = "") -> Callable[[ActionFn], ActionFn]:
        """Handle the card button whose key is ``{name}:{value}``. ``done`` is what the clicked
        card shows instead of its buttons once the handler has run (WeCom allows one update
        per click); without it the card stays as it was."""

        def register(handler: ActionFn) -> ActionFn:
            self.actions[name] = ActionRoute(handler, done)
            return handler

        return register


@dataclass
class Context:
    """What a handler works with; replies and deliveries it queues commit with its writes."""

    incoming: Incoming
    member: Member
    tx: Tx
    config: Config
    now: datetime  # aware, in the configured zone
    calendar: WorkCalendar = field(default_factory=WorkCalendar.empty)
    dialog: DialogState | None = None
    replies: list[Outgoing] = field(default_factory=list)
    sends: list[Send] = field(default_factory=list)
    _told_group: bool = field(default=False, repr=False)

    @property
    def zone(self) -> ZoneInfo:
        return self.config.time.zone

    @property
    def is_office(self) -> bool:
        return self.member.role in OFFICE_ROLES

    def reply(self, text: str, *, shareable: bool = False) -> None:
        """Answer the sender where they wrote: privately, or through the AI bot's response URL.

        Asked in a group, an answer is the sender's alone unless it says otherwise: it goes to
        them privately and the group gets only :data:`SENT_PRIVATELY` (once). ``shareable``
        marks an answer the whole group may read (a check-in's 接龙 line, help, the fallback,
        a route's refusal): only those are posted where they were asked. Privacy is the
        default so that a new feature cannot leak a record, a review queue or a report into a
        group by omission.
        """
        if self.incoming.chat_id is not None and not shareable:
            if not self._told_group:
                self._told_group = True
                if self.incoming.response_url and not self.replies:
                    self.replies.append(reply_to(self.incoming, SENT_PRIVATELY, first=True))
            self.replies.append(private_answer(self.incoming, text))
            return
        self.replies.append(reply_to(self.incoming, text, first=not self.replies))

    def discard(self) -> None:
        """Forget every answer and delivery queued so far (the handler failed)."""
        self.replies, self.sends, self._told_group = [], [], False

    def send(self, key: str, out: Outgoing, *, at: datetime | None = None) -> None:
        """Queue another delivery (a notification to someone else) under idempotency ``key``."""
        self.sends.append(Send(key, out, at))

    def send_all(self, sends: Iterable[Send]) -> None:
        """Queue the deliveries a shared use case returned (as :meth:`send` each)."""
        self.sends.extend(sends)

    async def start_dialog(self, kind: str, state: str, data: dict[str, Any]) -> None:
        await self.tx.dialogs.save(
            self.incoming.chat_key,
            self.incoming.sender,
            kind=kind,
            state=state,
            data=data,
            now=self.now,
            lifetime=timedelta(minutes=self.config.dialog.timeout_minutes),
        )

    async def end_dialog(self) -> None:
        await self.tx.dialogs.end(self.incoming.chat_key, self.incoming.sender)


SENT_PRIVATELY = "详细信息已私信发给您。"


def private_answer(incoming: Incoming, text: str) -> Outgoing:
    """An answer for the sender's eyes only, wherever they asked."""
    if incoming.wechat_openid:
        return Outgoing(text, to_wechat=incoming.wechat_openid)
    return Outgoing(text, to_member=incoming.sender)


def reply_to(incoming: Incoming, text: str, *, first: bool) -> Outgoing:
    """An answer to ``incoming``. An AI-bot response URL takes one call of one part, so only a
    first answer that fits in one part goes there; anything else goes to the sender privately."""
    fits = len(text.encode("utf-8")) <= RESPONSE_URL_BYTES
    if incoming.response_url and first and fits:
        return Outgoing(text, response_url=incoming.response_url)
    if incoming.wechat_openid:
        return Outgoing(text, to_wechat=incoming.wechat_openid)  # back to the 公众号 chat
    return Outgoing(text, to_member=incoming.sender)


CANCEL_WORDS = frozenset({"取消", "退出", "算了", "不提交了"})
YES_WORDS = frozenset(
    {"是", "是的", "确认", "确定", "对", "对的", "没错", "好的确认", "执行", "可以"}
)
NO_WORDS = frozenset({"不是", "不对", "否", "不", "错了", "不要", "别发", "不用", "不需要"})
_PARTICLES = "的啊呀哈嘛呢了吧哦噢"


# Saying yes or no in more words: 就是这个意思, 不是这个意思.
YES_PHRASES = frozenset(
    {"是这个意思", "就是这个意思", "就是这样", "是这样", "就这样", "就是这个", "是这个"}
)
NO_PHRASES = frozenset(
    {"不是这个意思", "不是这样", "理解错了", "你理解错了", "搞错了", "弄错了", "你搞错了"}
)
# Pieces that say nothing of their own: 嗯; and agreeing words (好的, 行, 没问题, 没毛病, 妥了)
# that only count next to a clear yes or no (好的 可以 is a yes, 对 没问题 too; 好的 or 没问题
# alone answers nothing asked).
_FILLERS = re.compile(
    r"^(?:嗯+|哦+|噢+|啊+|好的?|好嘞|好滴|行|ok|没问题|没毛病|妥了?)[的啊呀哈嘛了吧哦噢]*$",
    re.IGNORECASE,
)
# Emoji and pictographs (👌, 🙏, ✅) around an answer: its tone, not its word.
_EMOJI = re.compile(r"[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D]+")


def answer_word(text: str) -> str:
    """A short answer as a yes/no word: ``不是的``, ``对的呀``, ``没错的`` → 不是, 对, 没错; an
    answer in several pieces that all say the same (``对 没错``, ``嗯嗯 是这个意思``, ``是的是的``,
    ``不对 不是这个意思``) → 是 or 不是."""
    word = _EMOJI.sub(" ", text).strip(" 。.!！~～,，")
    known = YES_WORDS | NO_WORDS | CANCEL_WORDS
    if word in known:
        return word
    single = word.rstrip(_PARTICLES + " 。.!！~～") or word
    if single in known:
        return single
    said = {_polarity(piece) for piece in re.split(r"[\s,，。.!！~～]+", word) if piece} - {""}
    answer = said.pop() if len(said) == 1 else None
    return answer or single


def _polarity(piece: str) -> str | None:
    """是 or 不是 for one piece of an answer, "" for a filler (嗯), None for anything else."""
    if _FILLERS.match(piece):
        return ""
    repeated = re.fullmatch(r"(.+?)\1+", piece)
    if repeated is not None:
        piece = repeated[1]  # 是的是的, 对对对
    bare = piece.rstrip(_PARTICLES) or piece
    if piece in YES_WORDS or bare in YES_WORDS or piece in YES_PHRASES:
        return "是"
    if piece in NO_WORDS or bare in NO_WORDS or piece in NO_PHRASES or bare in CANCEL_WORDS:
        return "不是"
    if _NO_VERB.match(piece):
        return "不是"
    return _run_together(piece)


_YES_RUN = YES_WORDS | YES_PHRASES
_NO_RUN = NO_WORDS | NO_PHRASES | CANCEL_WORDS


# No with the verb of what waits: 不要发了, 先别提交, 暂时不登记.
_NO_VERB = re.compile(
    r"^(?:不要|不用|别|不|先别|先不|暂时不|暂不)(?:发|发送|执行|提交|登记|交|报|办)了?$"
)


def _run_together(piece: str) -> str | None:
    """Yes or no words typed without a break (``对的没错``, ``算了不用``): 是 or 不是 when the
    piece is made of words of one kind and particles only, else None."""
    said: set[str] = set()
    rest = piece
    while rest:
        rest = rest.lstrip(_PARTICLES + "嗯哦噢")  # 嗯对, 哦好的确认
        if not rest:
            break
        for size in range(min(len(rest), 6), 0, -1):
            word = rest[:size]
            if word in _YES_RUN or word in _NO_RUN:
                said.add("是" if word in _YES_RUN else "不是")
                rest = rest[size:]
                break
        else:
            return None
    return said.pop() if len(said) == 1 else None


CONFIRM_DIALOG = "confirm"
# Answered even in the middle of a dialog: the command parsers' look-ups, never free text.
LOOKUP_INTENTS = frozenset({"help", "checkin_query", "duty_mine"})
LOOKUP_ROUTERS = frozenset({"help", "checkin", "duty"})
LOOKUP_MAX = 20
CONFIRM_ASK = "回复「是」或「确认」照此执行，回复「不是」放弃；也可以直接发送更正后的内容。"


class Dispatcher:
    def __init__(self, routers: Sequence[Router]) -> None:
        self.routers = list(routers)
        self.dialogs: dict[str, DialogFn] = {}
        self.actions: dict[str, ActionRoute] = {}
        self._by_type: dict[type, Route] | None = None
        self.clean = next((r.clean for r in self.routers if r.clean is not None), str)
        self.amend = next((r.amend for r in self.routers if r.amend is not None), None)
        for router in self.routers:
            self.dialogs.update(router.dialogs)
            for name, route in router.actions.items():
                if name in self.actions:
                    raise ValueError(f"two routers handle the card button {name!r}")
                self.actions[name] = route

    def parse(self, text: str, pctx: ParseContext) -> tuple[Route | None, Any]:
        """The first route whose parser accepts ``text``, allowed or not for the role. A route
        may hand back another feature's value (the understanding of natural phrasings does):
        the route returned is then the one whose handler takes that value."""
        text = self.clean(text)
        for router in self.routers:
            for route in router.routes:
                value = route.parse(text, pctx)
                if value is None:
                    continue
                inner = value.value if isinstance(value, Guess) else value
                if type(inner) in _value_types(route.handler):
                    return route, value
                return (self.route_for(inner) or route), value
        return None, None

    def route_for(self, value: Any) -> Route | None:
        """The route whose handler is declared to take ``value``'s type (by annotation)."""
        if self._by_type is None:
            self._by_type = {}
            for router in self.routers:
                for route in router.routes:
                    for kind in _value_types(route.handler):
                        self._by_type.setdefault(kind, route)
        return self._by_type.get(type(value))

    def parse_for_role(self, text: str, pctx: ParseContext) -> Any:
        """What ``lvzhi parse`` shows: the parsed value, or None when nothing (allowed) matched."""
        route, value = self.parse(text, pctx)
        if route is None or (route.roles is not None and pctx.role not in route.roles):
            return None
        return value

    async def dispatch(self, ctx: Context) -> None:
        if ctx.incoming.action is not None:
            await self.press(ctx.incoming.action, ctx)
            return
        text = self.clean(ctx.incoming.text)
        dialog = await ctx.tx.dialogs.get(ctx.incoming.chat_key, ctx.incoming.sender, ctx.now)
        if dialog is not None and dialog.expires_at <= ctx.now:
            await ctx.end_dialog()
            dialog = None
        if dialog is not None and dialog.kind == CONFIRM_DIALOG:
            await self._confirmation(text, ctx, dialog)
            return
        if dialog is not None and dialog.kind in self.dialogs:
            if await self._lookup_during_dialog(text, ctx):
                return  # 我的打卡 in the middle of a draft: answered, the draft stays open
            if text in CANCEL_WORDS:
                await ctx.end_dialog()
                ctx.reply("已取消。")
                return
            ctx.dialog = dialog
            if await self.dialogs[dialog.kind](text, ctx, dialog) is not HandBack.NEW_MESSAGE:
                return
            ctx.dialog = None
        pctx = ParseContext(
            role=ctx.member.role, now=ctx.now, in_group=ctx.incoming.chat_id is not None
        )
        await self._act(text, pctx, ctx)

    async def press(self, action: Action, ctx: Context) -> None:
        """A card's button: its feature's handler, then (when the feature says what the card
        shows once done, and WeCom gave a response code) the clicked card's update."""
        route = self.actions.get(action.name)
        if route is None:
            raise UserFacingError(UNKNOWN_ACTION)
        await route.handler(action, ctx)
        if route.done and action.response_code:
            userid = ctx.member.userid or ctx.incoming.sender
            update = CardUpdate(action.response_code, userid, route.done)
            ctx.send(f"card:{action.response_code}", Outgoing(route.done, card_update=update))

    async def _lookup_during_dialog(self, text: str, ctx: Context) -> bool:
        """A short look-up command (帮助, 我的打卡, 我的履职) is answered even while a dialog is
        open; anything else, content included, belongs to the dialog."""
        if len(text) > LOOKUP_MAX:
            return False
        pctx = ParseContext(ctx.member.role, ctx.now, ctx.incoming.chat_id is not None)
        for router in self.routers:
            if router.name not in LOOKUP_ROUTERS:
                continue
            for route in router.routes:
                value = route.parse(text, pctx)
                if getattr(type(value), "intent", None) in LOOKUP_INTENTS and (
                    route.roles is None or ctx.member.role in route.roles
                ):
                    await route.handler(value, ctx)
                    return True
        return False

    async def _act(self, text: str, pctx: ParseContext, ctx: Context) -> None:
        route, value = self.parse(text, pctx)
        if route is None:
            raise UserFacingError("抱歉，没有听懂。发送「帮助」查看我能做什么。")
        if route.roles is not None and ctx.member.role not in route.roles:
            raise PermissionDenied(
                route.denied
                or "抱歉，这项操作仅限机关秘书使用。发送「帮助」查看您可以使用的功能。"
            )
        if isinstance(value, Guess):
            # Never act on a guess: state the reading and wait for 是/确认 or a correction.
            await ctx.start_dialog(
                CONFIRM_DIALOG, "waiting", {"text": ctx.incoming.text, "now": pctx.now.isoformat()}
            )
            ctx.reply(f"我理解为：{value.confirm}\n{CONFIRM_ASK}")
            return
        await route.handler(value, ctx)

    async def _confirmation(self, text: str, ctx: Context, dialog: DialogState) -> None:
        """The answer to a reading the bot asked about: act on it, drop it, take a one-slot
        correction (周四下午, 不是第2组，是第3组: the reading is updated and asked again), or
        read the answer as a new message (which may itself need confirming)."""
        answer = answer_word(text)
        in_group = ctx.incoming.chat_id is not None
        asked = ParseContext(ctx.member.role, datetime.fromisoformat(dialog.data["now"]), in_group)
        waiting = dialog.data["text"]
        if answer in NO_WORDS or answer in CANCEL_WORDS:
            await ctx.end_dialog()
            ctx.reply("好的，没有执行。可以重新发送正确的内容。")
            return
        if answer in YES_WORDS:
            route, value = self.parse(waiting, asked)
            if isinstance(value, Guess) and value.missing:
                ctx.reply(f"还缺少{value.missing}，请直接回复；回复「不是」放弃。")
                return  # the dialog stays open for the missing part
            await ctx.end_dialog()
            if route is None or (route.roles is not None and ctx.member.role not in route.roles):
                raise UserFacingError("抱歉，这条内容现在无法执行，请重新发送。")
            await route.handler(value.value if isinstance(value, Guess) else value, ctx)
            return
        amended = None
        if self.amend is not None:
            amended = self.amend(waiting, text, asked, lambda t: self.parse_for_role(t, asked))
        if amended is not None:
            fixed, reading = amended
            await ctx.start_dialog(
                CONFIRM_DIALOG, "waiting", {"text": fixed, "now": dialog.data["now"]}
            )
            ctx.reply(f"已更正。我理解为：{reading.confirm}\n{CONFIRM_ASK}")
            return
        await ctx.end_dialog()
        pctx = ParseContext(ctx.member.role, ctx.now, in_group)
        await self._act(text, pctx, ctx)


def as_json(value: Any) -> dict[str, Any]:
    """A parsed value as the ``lvzhi parse`` JSON object: ``intent`` first, then its fields;
    a :class:`Guess` adds ``confirm``, the reading the bot will ask the sender to confirm."""
    if value is None:
        return {"intent": "unknown"}
    if isinstance(value, Guess):
        missing = {"missing": value.missing} if value.missing else {}
        return {**as_json(value.value), "confirm": value.confirm, **missing}
    return {"intent": type(value).intent, **_jsonable(asdict(value))}


@functools.cache
def _value_types(handler: HandlerFn) -> tuple[type, ...]:
    """The types a handler's first parameter is annotated with (``A | B`` gives both)."""
    try:
        hints = typing.get_type_hints(handler)
    except (NameError, TypeError):
        return ()
    first = handler.__code__.co_varnames[:1]
    hint = hints.get(first[0]) if first else None
    if hint is None:
        return ()
    args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    return tuple(arg for arg in args if isinstance(arg, type))


def _jsonable(item: Any) -> Any:
    if isinstance(item, dict):
        return {key: _jsonable(value) for key, value in item.items()}
    if isinstance(item, list | tuple):
        return [_jsonable(value) for value in item]
    if hasattr(item, "isoformat"):
        return item.isoformat()
    return item
