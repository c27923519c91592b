"""A unit of work: one session, one transaction, and the repositories that use it."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncSession

from storage.fast import Source, session_of
from storage.repos.audit import AuditRepo
from storage.repos.checkins import CalendarRepo, CampaignRepo, CheckInRepo, PlannerRepo
from storage.repos.console import ConsoleRepo
from storage.repos.console_views import ConsoleViews
from storage.repos.delivery import DeliveryRepo, GateRepo, TokenRepo
from storage.repos.duty import DutyRepo
from storage.repos.inbound import AlertRepo, DialogRepo, InboundRepo
from storage.repos.media import MediaRepo
from storage.repos.members import GroupRepo, MemberRepo
from storage.repos.notices import MeetingRepo, NoticeRepo, TaskRepo
from storage.repos.proposals import ActivityRepo, ProposalRepo
from storage.repos.reports import ReportRepo
from storage.repos.retention import RetentionRepo
from storage.repos.roster import RosterRepo
from storage.repos.wechat import CustomerGroupRepo, WeChatRepo


class Tx:
    """What a handler or a worker gets: typed repositories sharing one transaction.

    Each repository is built the first time it is used (a check-in uses five of them; building
    all of them for every transaction was measurable on the hot path)."""

    def __init__(self, session: Source, dialect: str) -> None:
        # A session, or (a SQLite write transaction) one opened on first use: storage/fast.py.
        self._source = session
        self.dialect = dialect

    @property
    def session(self) -> AsyncSession:
        return session_of(self._source)

    @cached_property
    def members(self) -> MemberRepo:
        return MemberRepo(self._source, self.dialect)

    @cached_property
    def groups(self) -> GroupRepo:
        return GroupRepo(self._source, self.dialect)

    @cached_property
    def audit(self) -> AuditRepo:
        return AuditRepo(self._source, self.dialect)

    @cached_property
    def inbound(self) -> InboundRepo:
        return InboundRepo(self._source, self.dialect)

    @cached_property
    def dialogs(self) -> DialogRepo:
        return DialogRepo(self._source, self.dialect)

    @cached_property
    def alerts(self) -> AlertRepo:
        return AlertRepo(self._source, self.dialect)

    @cached_property
    def deliveries(self) -> DeliveryRepo:
        return DeliveryRepo(self._source, self.dialect)

    @cached_property
    def gates(self) -> GateRepo:
        return GateRepo(self._source, self.dialect)

    @cached_property
    def tokens(self) -> TokenRepo:
        return TokenRepo(self._source, self.dialect)

    @cached_property
    def roster(self) -> RosterRepo:
        return RosterRepo(self._source, self.dialect)

    @cached_property
    def campaigns(self) -> CampaignRepo:
        return CampaignRepo(self._source, self.dialect)

    @cached_property
    def checkins(self) -> CheckInRepo:
        return CheckInRepo(self._source, self.dialect)

    @cached_property
    def calendar(self) -> CalendarRepo:
        return CalendarRepo(self._source, self.dialect)

    @cached_property
    def planner(self) -> PlannerRepo:
        return PlannerRepo(self._source, self.dialect)

    @cached_property
    def notices(self) -> NoticeRepo:
        return NoticeRepo(self._source, self.dialect)

    @cached_property
    def meetings(self) -> MeetingRepo:
        return MeetingRepo(self._source, self.dialect)

    @cached_property
    def tasks(self) -> TaskRepo:
        return TaskRepo(self._source, self.dialect)

    @cached_property
    def reports(self) -> ReportRepo:
        return ReportRepo(self._source, self.dialect)

    @cached_property
    def duty(self) -> DutyRepo:
        return DutyRepo(self._source, self.dialect)

    @cached_property
    def console(self) -> ConsoleRepo:
        return ConsoleRepo(self._source, self.dialect)

    @cached_property
    def wechat(self) -> WeChatRepo:
        return WeChatRepo(self._source, self.dialect)

    @cached_property
    def customer_groups(self) -> CustomerGroupRepo:
        return CustomerGroupRepo(self._source, self.dialect)

    @cached_property
    def console_views(self) -> ConsoleViews:
        return ConsoleViews(self._source, self.dialect)

    @cached_property
    def proposals(self) -> ProposalRepo:
        return ProposalRepo(self._source, self.dialect)

    @cached_property
    def activities(self) -> ActivityRepo:
        return ActivityRepo(self._source, self.dialect)

    @cached_property
    def retention(self) -> RetentionRepo:
        return RetentionRepo(self._source, self.dialect)

    @cached_property
    def media(self) -> MediaRepo:
        return MediaRepo(self._source, self.dialect)

    async def flush(self) -> None:
        await self.session.flush()
