"""A unit of work: one session, one transaction, and the repositories that use it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

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
    """What a handler or a worker gets: typed repositories sharing one transaction."""

    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self.session = session
        self.dialect = dialect
        self.members = MemberRepo(session, dialect)
        self.groups = GroupRepo(session, dialect)
        self.audit = AuditRepo(session, dialect)
        self.inbound = InboundRepo(session, dialect)
        self.dialogs = DialogRepo(session, dialect)
        self.alerts = AlertRepo(session, dialect)
        self.deliveries = DeliveryRepo(session, dialect)
        self.gates = GateRepo(session, dialect)
        self.tokens = TokenRepo(session, dialect)
        self.roster = RosterRepo(session, dialect)
        self.campaigns = CampaignRepo(session, dialect)
        self.checkins = CheckInRepo(session, dialect)
        self.calendar = CalendarRepo(session, dialect)
        self.planner = PlannerRepo(session, dialect)
        self.notices = NoticeRepo(session, dialect)
        self.meetings = MeetingRepo(session, dialect)
        self.tasks = TaskRepo(session, dialect)
        self.reports = ReportRepo(session, dialect)
        self.proposals = ProposalRepo(session, dialect)
        self.activities = ActivityRepo(session, dialect)
        self.media = MediaRepo(session, dialect)
        self.duty = DutyRepo(session, dialect)
        self.console = ConsoleRepo(session, dialect)
        self.wechat = WeChatRepo(session, dialect)
        self.customer_groups = CustomerGroupRepo(session, dialect)
        self.console_views = ConsoleViews(session, dialect)
        self.retention = RetentionRepo(session, dialect)

    async def flush(self) -> None:
        await self.session.flush()
