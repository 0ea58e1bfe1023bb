"""Every table, imported here so ``Base.metadata`` is complete for migrations and the drift test."""

from showfloor.server.models.access import ContactUnlock, EventUnlock, LinkedinActivityUnlock
from showfloor.server.models.accounts import Account, ApiKey, Plan, PlanPrice
from showfloor.server.models.agents import AgentQuote
from showfloor.server.models.catalog import Event, EventExhibitor, EventPersonnel, Exhibitor, Personnel
from showfloor.server.models.console import ConsoleLink, ConsoleLoginFailure, ConsoleSession, ConsoleUser
from showfloor.server.models.ledger import (
    CreditGrant,
    CreditHold,
    HoldAllocation,
    LedgerEntry,
    LedgerOperation,
)
from showfloor.server.models.notify import OutboxEvent, WebhookDelivery, WebhookEndpoint
from showfloor.server.models.paid import ConcurrencySlot, IdempotencyRecord
from showfloor.server.models.spend_controls import (
    ApiKeySpendCap,
    ApiKeySpendCounter,
    BalanceAlert,
)
from showfloor.server.models.unlocks import UnlockTask, UnlockTaskItem, WorkerHeartbeat

__all__ = [
    "Account",
    "AgentQuote",
    "ApiKey",
    "ApiKeySpendCap",
    "ApiKeySpendCounter",
    "BalanceAlert",
    "ConcurrencySlot",
    "ConsoleLink",
    "ConsoleLoginFailure",
    "ConsoleSession",
    "ConsoleUser",
    "ContactUnlock",
    "CreditGrant",
    "CreditHold",
    "Event",
    "EventExhibitor",
    "EventPersonnel",
    "EventUnlock",
    "Exhibitor",
    "HoldAllocation",
    "IdempotencyRecord",
    "LedgerEntry",
    "LedgerOperation",
    "LinkedinActivityUnlock",
    "OutboxEvent",
    "Personnel",
    "Plan",
    "PlanPrice",
    "UnlockTask",
    "UnlockTaskItem",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WorkerHeartbeat",
]
