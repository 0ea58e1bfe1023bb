"""Values the ledger service takes and returns (re-exported by ``ledger.service``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChargeContext:
    """Who pays and what for: every charge is attributable (account, key, source, code, resource)."""

    account_id: int
    api_key_id: int | None = None
    call_source: str = "api"  # "api" | "agent"
    business_code: str | None = None  # e.g. "Event Unlock - API"
    resource_type: str | None = None  # e.g. "event", "contact_unlock_task"
    resource_id: str | None = None


@dataclass(frozen=True)
class OperationResult:
    operation_id: int
    amount: int
    replayed: bool


@dataclass(frozen=True)
class HoldResult:
    hold_id: int
    operation_id: int
    amount: int
    replayed: bool


@dataclass(frozen=True)
class HoldSettlement:
    """One capture (``amount`` credits) or release (``amount``; None = all outstanding) of a hold, with
    its own operation key, for ``ledger.service.settle_hold``."""

    kind: str  # "capture" | "release"
    amount: int | None
    op_key: str
    ctx: ChargeContext | None = None  # a capture's attribution (default: the hold's)
