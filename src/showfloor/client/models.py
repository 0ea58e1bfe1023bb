"""Typed response models. Field names are the wire names of the contract; every model tolerates
fields it does not know (``extra="allow"``), so a newer server never breaks an older client."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class CreditBalance(Model):
    totalAmount: int = 0
    totalBalance: int = 0
    subscriptionAmount: int = 0
    subscriptionBalance: int = 0
    addonAmount: int = 0
    addonBalance: int = 0
    addonExpireAt: int | None = None
    giftAmount: int = 0
    giftBalance: int = 0
    resetAt: int | None = None


class BalanceSnapshot(Model):
    """``balanceAfter`` of a paid response (``permanentBalance`` is the gift balance)."""

    subscriptionBalance: int | None = None
    permanentBalance: int | None = None
    totalBalance: int | None = None
    unlimited: bool | None = None


class CreditTransaction(Model):
    id: str
    createdAt: int | None = None
    type: str | None = None
    amount: int = 0
    bucket: str | None = None
    businessCode: str | None = None
    callSource: str | None = None
    apiKeyPrefix: str | None = None
    resourceType: str | None = None
    resourceId: str | None = None
    operationId: str | None = None


class CreditActivity(Model):
    """One row of ``GET /external/credits/activity``: one customer-visible operation (a contact unlock
    task with its hold, captures and releases is one row). ``credits`` is what ``type`` says (spent,
    granted, expired, voided, refunded; never negative); ``balanceChange`` its signed effect."""

    operationId: str
    occurredAt: int | None = None
    occurredAtIso: str | None = None
    type: str | None = None
    action: str | None = None
    label: str | None = None
    description: str | None = None
    credits: int = 0
    balanceChange: int = 0
    businessCode: str | None = None
    callSource: str | None = None
    apiKeyPrefix: str | None = None
    taskId: str | None = None
    eventId: str | None = None
    resourceType: str | None = None
    resourceId: str | None = None
    delivered: int | None = None
    unitCredits: int | None = None
    held: int | None = None
    released: int | None = None
    pending: int | None = None
    bucket: str | None = None


class SemanticsCounts(Model):
    actualTotal: int = 0
    visibleTotal: int = 0
    remainingLockedCount: int = 0


class SemanticsPageState(Model):
    requestedPage: int = 1
    accessible: bool = True
    maxAccessiblePage: int | None = None


class SemanticsUnlock(Model):
    requiredForMoreResults: bool = False
    actionType: str | None = None
    credits: int | None = None


class SemanticsGuidance(Model):
    code: str = ""
    message: str = ""


class Semantics(Model):
    """``semantics`` of an event-scoped list: preview or full access, how many matches are hidden,
    whether the requested page is readable, and what unlocking would cost."""

    accessMode: str = "full"
    previewLimit: int | None = None
    counts: SemanticsCounts = Field(default_factory=SemanticsCounts)
    pageState: SemanticsPageState = Field(default_factory=SemanticsPageState)
    unlock: SemanticsUnlock = Field(default_factory=SemanticsUnlock)
    guidance: SemanticsGuidance = Field(default_factory=SemanticsGuidance)

    @property
    def truncated(self) -> bool:
        """True when matches exist beyond what this account may read (an unlock would reveal them)."""
        return self.unlock.requiredForMoreResults


class PreviewTruncation(Model):
    """A preview list that shows fewer items than match (the event is locked): ``Page.truncation``, and
    the ``PreviewTruncated`` warning of ``iter()``. Read from the server's ``semantics``."""

    actual_total: int
    visible_total: int
    remaining_locked: int
    accessible: bool = True  # False: the requested page lies past the preview (it came back empty)
    requested_page: int | None = None
    max_accessible_page: int | None = None
    unlock_action_type: str | None = None
    unlock_credits: int | None = None
    message: str | None = None


def preview_truncation(semantics: Semantics | None) -> PreviewTruncation | None:
    """``semantics`` → the truncation it describes, or ``None`` when every matching item is accessible."""
    if semantics is None or not semantics.truncated:
        return None
    counts, state = semantics.counts, semantics.pageState
    return PreviewTruncation(
        actual_total=counts.actualTotal,
        visible_total=counts.visibleTotal,
        remaining_locked=counts.remainingLockedCount,
        accessible=state.accessible,
        requested_page=state.requestedPage,
        max_accessible_page=state.maxAccessiblePage,
        unlock_action_type=semantics.unlock.actionType,
        unlock_credits=semantics.unlock.credits,
        message=semantics.guidance.message or None,
    )


class Page(Model, Generic[T]):
    """The contract's page envelope. Extra top-level keys (``semantics``, ``matchedExhibitors``,
    ``attendance_identity`` …) stay readable as attributes."""

    items: list[T] = Field(default_factory=list)
    total: int = 0
    page: int = 1
    pageSize: int = 20
    totalPages: int = 0
    hasMore: bool = False
    semantics: Semantics | None = None

    @property
    def truncation(self) -> PreviewTruncation | None:
        """Set when this list is a preview cut short (a locked event): how many items match, how many are
        visible, and what unlocking costs. ``None`` when every matching item is accessible."""
        return preview_truncation(self.semantics)


class EventItem(Model):
    id: str
    eventId: str | None = None
    name: str | None = None
    nickname: str | None = None
    description: str | None = None
    url: str | None = None
    dateStart: str | None = None
    dateEnd: str | None = None
    venue: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    exhibitorCount: int | None = None
    hasVisitors: bool | None = None


class EventDetail(EventItem):
    eventType: str | None = None
    categories: list[Any] | None = None
    personnelCount: int | None = None


class EventBrief(Model):
    event: EventItem
    summary: dict[str, Any] = Field(default_factory=dict)


class EventRef(Model):
    id: str | None = None
    eventId: str | None = None
    name: str | None = None


class EventUnlockResult(Model):
    success: bool = True
    alreadyUnlocked: bool = False
    creditsUsed: int = 0
    balanceAfter: BalanceSnapshot | None = None
    event: EventRef | None = None


class VisitorUnlockResult(Model):
    success: bool = True
    alreadyUnlocked: bool = False
    creditsSpent: int = 0
    balanceAfter: dict[str, Any] | None = None
    event: EventRef | None = None


class FullAccessUnlockResult(Model):
    success: bool = True
    alreadyUnlocked: bool = False
    eventUnlocked: bool | None = None
    visitorUnlocked: bool | None = None
    visitorSkipped: bool | None = None
    totalCreditsUsed: int = 0
    balanceAfter: BalanceSnapshot | None = None
    event: EventRef | None = None


class Exhibitor(Model):
    id: str
    companyName: str | None = None
    domain: str | None = None
    website: str | None = None
    industry: str | None = None
    employeeCount: int | str | None = None
    country: str | None = None


class ExhibitorProfile(Exhibitor):
    events: list[EventRef] = Field(default_factory=list)


class Contact(Model):
    id: str
    fullName: str | None = None
    contactUnlockStatus: str | None = None
    title: str | None = None
    department: str | None = None
    seniorityLevel: str | None = None
    linkedinUrl: str | None = None
    companyName: str | None = None
    email: str | None = None
    phone: str | None = None
    phoneUnlockStatus: str | None = None


class PersonnelEvents(Model):
    personnel: Contact
    events: Page[EventItem]


class LinkedinActivityItem(Model):
    personnel_id: str
    success: bool = False
    alreadyUnlocked: bool = False
    taskId: str | None = None
    error: Any = None


class LinkedinActivityResult(Model):
    items: list[LinkedinActivityItem] = Field(default_factory=list)


class PrecheckResult(Model):
    ok: bool = True
    action_type: str = ""
    allowed: bool = False
    should_charge: bool = False
    credits: int = 0
    reason_code: str = ""
    biz_code: str = ""
    detail: dict[str, Any] = Field(default_factory=dict)


class UnlockSubmission(Model):
    status: str
    task_id: str | None = None
    job_id: str | None = None
    skipped_personnel_ids: list[str] = Field(default_factory=list)
    skipped_detail: dict[str, list[str]] | None = None


class UnlockTaskItem(Model):
    personnelId: str
    status: str
    email: str | None = None
    phone: str | None = None
    errorCode: str | None = None


class UnlockTask(Model):
    taskId: str
    taskStatus: str
    items: list[UnlockTaskItem] = Field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.taskStatus in ("completed", "failed")


class Quote(Model):
    """Precheck and balance together: what a paid action would do, before anything is spent."""

    action_type: str
    allowed: bool
    should_charge: bool
    cost: int
    balance: int
    reason: str
    detail: dict[str, Any] = Field(default_factory=dict)

    @property
    def affordable(self) -> bool:
        return not self.should_charge or self.cost <= self.balance
