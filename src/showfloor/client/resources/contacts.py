"""Contacts: company-scoped search, email/phone unlock (submit, poll, reconcile) and task status."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from showfloor.client import _safety
from showfloor.client._methods import (
    AsyncResource,
    SyncResource,
    async_method,
    async_pager,
    sync_method,
    sync_pager,
)
from showfloor.client._reconcile import (
    Kind,
    ReconciliationReport,
    build_report,
    dedupe,
    poll_schedule,
    unit_price,
)
from showfloor.client._transport import Context, Op, Sleep, call
from showfloor.client.models import Contact, Page, UnlockSubmission, UnlockTask
from showfloor.client.resources import credits
from showfloor.client.resources._base import get, parser, post, segment

DEFAULT_POLL_INTERVALS: tuple[float, ...] = (3.0, 5.0, 10.0)
ProgressCallback = Callable[[UnlockTask], None]
_PATHS: dict[Kind, tuple[str, str, str]] = {
    "email": ("/external/contacts/unlock", "/external/contacts/unlock-tasks/", _safety.UNLOCK_CONTACT_EMAILS),
    "phone": (
        "/external/contacts/unlock-phone",
        "/external/contacts/unlock-phone-tasks/",
        _safety.UNLOCK_CONTACT_PHONES,
    ),
}


def search_contacts(
    ctx: Context,
    company_name: str,
    *,
    role: str | None = None,
    person_name: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> Op[Page[Contact]]:
    """People at a company, optionally by role or name (free; emails stay hidden until unlocked)."""
    params = {
        "company_name": company_name,
        "role": role,
        "person_name": person_name,
        "page": page,
        "pageSize": page_size,
    }
    return (yield from call(ctx, get("/external/contacts/search", parser(Page[Contact]), params)))


def task(ctx: Context, task_id: str) -> Op[UnlockTask]:
    """The state of an email-unlock task, item by item."""
    path = _PATHS["email"][1] + segment(task_id)
    return (yield from call(ctx, get(path, parser(UnlockTask))))


def phone_task(ctx: Context, task_id: str) -> Op[UnlockTask]:
    """The state of a phone-unlock task, item by item."""
    path = _PATHS["phone"][1] + segment(task_id)
    return (yield from call(ctx, get(path, parser(UnlockTask))))


def _unlock(
    ctx: Context,
    kind: Kind,
    personnel_ids: Sequence[str],
    event_id: str | None,
    *,
    wait: bool,
    poll_intervals: Sequence[float],
    timeout: float | None,
    on_progress: ProgressCallback | None,
    confirm: _safety.Confirm | None,
    call_source: str | None,
    price_per_contact: int | None,
) -> Op[ReconciliationReport]:
    submit_path, task_path, action_type = _PATHS[kind]
    ids = dedupe(personnel_ids)
    if not poll_intervals or any(i < 0 for i in poll_intervals):
        raise ValueError("poll_intervals must be a non-empty sequence of non-negative seconds")
    schedule = poll_schedule(poll_intervals)
    quote = yield from _safety.guard(ctx, confirm, action_type, personnel_ids=ids, event_id=event_id)
    if quote is None:  # the precheck is free and gives the account's price and balance
        quote = yield from _safety.quote(ctx, action_type, personnel_ids=ids, event_id=event_id)
    before = quote.balance
    if price_per_contact is None:
        price_per_contact = unit_price(quote.detail)
    body = {"personnel_ids": ids, "event_id": event_id}
    submission = yield from call(
        ctx, post(submit_path, parser(UnlockSubmission), body, paid=True, call_source=call_source)
    )
    current: UnlockTask | None = None
    if submission.status == "accepted" and submission.task_id and wait:
        deadline = None if timeout is None else ctx.monotonic() + timeout
        while True:
            current = yield from call(ctx, get(task_path + segment(submission.task_id), parser(UnlockTask)))
            if on_progress is not None:
                on_progress(current)
            if current.finished:
                break
            delay = next(schedule)
            if deadline is not None and ctx.monotonic() + delay > deadline:
                break  # the report lists what is still unresolved; nothing is resubmitted
            yield Sleep(delay)
    after = (yield from credits.balance(ctx)).totalBalance
    return build_report(
        kind=kind,
        submitted=ids,
        submission=submission,
        task=current,
        price_per_contact=price_per_contact,
        balance_before=before,
        balance_after=after,
    )


def unlock(
    ctx: Context,
    personnel_ids: Sequence[str],
    event_id: str | None = None,
    *,
    wait: bool = True,
    poll_intervals: Sequence[float] = DEFAULT_POLL_INTERVALS,
    timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
    confirm: _safety.Confirm | None = None,
    call_source: str | None = None,
    price_per_contact: int | None = None,
) -> Op[ReconciliationReport]:
    """Unlock contact emails: submit once (with an Idempotency-Key), poll the task at growing intervals
    (the last one repeats) until it ends or ``timeout`` passes, and reconcile item by item."""
    return (
        yield from _unlock(
            ctx,
            "email",
            personnel_ids,
            event_id,
            wait=wait,
            poll_intervals=poll_intervals,
            timeout=timeout,
            on_progress=on_progress,
            confirm=confirm,
            call_source=call_source,
            price_per_contact=price_per_contact,
        )
    )


def unlock_phone(
    ctx: Context,
    personnel_ids: Sequence[str],
    event_id: str | None = None,
    *,
    wait: bool = True,
    poll_intervals: Sequence[float] = DEFAULT_POLL_INTERVALS,
    timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
    confirm: _safety.Confirm | None = None,
    call_source: str | None = None,
    price_per_contact: int | None = None,
) -> Op[ReconciliationReport]:
    """Like ``unlock``, for phone numbers (150 credits per delivered phone by default)."""
    return (
        yield from _unlock(
            ctx,
            "phone",
            personnel_ids,
            event_id,
            wait=wait,
            poll_intervals=poll_intervals,
            timeout=timeout,
            on_progress=on_progress,
            confirm=confirm,
            call_source=call_source,
            price_per_contact=price_per_contact,
        )
    )


class Contacts(SyncResource):
    search = sync_method(search_contacts)
    iter = sync_pager(search_contacts)
    unlock = sync_method(unlock)
    unlock_phone = sync_method(unlock_phone)
    task = sync_method(task)
    phone_task = sync_method(phone_task)


class AsyncContacts(AsyncResource):
    search = async_method(search_contacts)
    iter = async_pager(search_contacts)
    unlock = async_method(unlock)
    unlock_phone = async_method(unlock_phone)
    task = async_method(task)
    phone_task = async_method(phone_task)
