"""``make demo``'s account: one account named "demo" (reused), its credits (granted once) and a fresh key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.accounts import service as accounts
from showfloor.server.db.uow import Database
from showfloor.server.errors import DomainError
from showfloor.server.ledger import service as ledger
from showfloor.server.models import Account, Event, EventPersonnel, Personnel

DEMO_ACCOUNT_NAME = "demo"
SUBSCRIPTION_CREDITS = 50_000
SUBSCRIPTION_DAYS = 30
GIFT_CREDITS = 1_000


@dataclass(frozen=True)
class DemoAccess:
    account_id: int
    api_key: str
    created_account: bool
    new_key: bool = True  # False: ``keep_key`` was still valid and is returned again


async def ensure_demo_account(
    db: Database, *, now: datetime | None = None, keep_key: str | None = None
) -> DemoAccess:
    """Create or reuse the demo account, grant its credits (idempotent by op key) and issue a new key —
    unless ``keep_key`` (the key an earlier run saved) still opens the demo account: then it is kept."""
    now = now or datetime.now(UTC)
    async with db.write() as session:
        account = await session.scalar(
            select(Account).where(Account.name == DEMO_ACCOUNT_NAME).order_by(Account.id).limit(1)
        )
        created = account is None
        if account is None:
            account = await accounts.create_account(session, DEMO_ACCOUNT_NAME)
        # Fixed operation keys: running demo-setup again replays these grants instead of adding credits.
        await ledger.grant(
            session,
            account.id,
            "subscription",
            SUBSCRIPTION_CREDITS,
            expires_at=now + timedelta(days=SUBSCRIPTION_DAYS),
            op_key=f"demo-setup:subscription:{account.id}",
            note="demo subscription",
        )
        await ledger.grant(
            session,
            account.id,
            "gift",
            GIFT_CREDITS,
            expires_at=None,
            op_key=f"demo-setup:gift:{account.id}",
            note="demo gift",
        )
        if keep_key and await _opens(session, keep_key, account.id):
            return DemoAccess(account.id, keep_key, created, new_key=False)
        issued = await accounts.create_key(session, account.id, name="demo")
    return DemoAccess(account_id=account.id, api_key=issued.key, created_account=created)


async def _opens(session: AsyncSession, key: str, account_id: int) -> bool:
    try:
        return (await accounts.authenticate(session, key)).account_id == account_id
    except DomainError:  # revoked, malformed or unknown: mint a new one
        return False


@dataclass(frozen=True)
class DemoExamples:
    """Real ids for the banner's example commands (docs/quickstart.md's placeholders stand for them)."""

    event_id: str
    company: str
    personnel_ids: list[int]


async def demo_examples(db: Database) -> DemoExamples | None:
    """The event with the most contacts, and four reachable people at it; ``None`` for an empty catalog."""
    async with db.read() as session:
        event = await session.scalar(select(Event).order_by(Event.contact_count.desc(), Event.id).limit(1))
        if event is None:
            return None
        people = (
            await session.execute(
                select(Personnel.id, Personnel.company_name)
                .join(EventPersonnel, EventPersonnel.personnel_id == Personnel.id)
                .where(
                    EventPersonnel.event_id == event.id,
                    Personnel.email.is_not(None),
                    Personnel.opted_out.is_(False),
                )
                .order_by(Personnel.id)
                .limit(4)
            )
        ).all()
    company = next((name for _, name in people if name), "")
    return DemoExamples(event.event_id, company, [pid for pid, _ in people])
