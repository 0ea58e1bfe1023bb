"""Every table, imported here so ``Base.metadata`` is complete for migrations and the drift test."""

from showfloor.server.models.accounts import Account, ApiKey, Plan, PlanPrice
from showfloor.server.models.ledger import (
    CreditGrant,
    CreditHold,
    HoldAllocation,
    LedgerEntry,
    LedgerOperation,
)

__all__ = [
    "Account",
    "ApiKey",
    "CreditGrant",
    "CreditHold",
    "HoldAllocation",
    "LedgerEntry",
    "LedgerOperation",
    "Plan",
    "PlanPrice",
]
