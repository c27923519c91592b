"""A unit of work: one session, one transaction, and the repositories that use it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.repos.audit import AuditRepo
from storage.repos.checkins import CalendarRepo, CampaignRepo, CheckInRepo, PlannerRepo
from storage.repos.delivery import DeliveryRepo, GateRepo, TokenRepo
from storage.repos.inbound import AlertRepo, DialogRepo, InboundRepo
from storage.repos.members import GroupRepo, MemberRepo
from storage.repos.roster import RosterRepo


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

    async def flush(self) -> None:
        await self.session.flush()
