"""``showfloor unlock event|visitors|full-access|contacts|phones|linkedin``: paid (except LinkedIn
activity). Each quotes first (the server's precheck), asks, then acts; a contact unlock then waits for its
task with a progress bar that starts only after the answer (``tasks.watch``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from showfloor.cli.commands._common import (
    ApiKeyOpt,
    BaseUrlOpt,
    JsonOpt,
    YesOpt,
    confirmer,
    make_client,
    require_consent_possible,
)
from showfloor.cli.commands._paid import DEFAULT_PRICES, n, price_help
from showfloor.cli.commands.tasks import (
    DEFAULT_POLL,
    PollOpt,
    TimeoutOpt,
    already_held,
    interrupted,
    render_report,
    watch,
)
from showfloor.cli.output import EXIT_PENDING, Output, reporting_errors
from showfloor.client import Client, Quote, ReconciliationReport
from showfloor.client._reconcile import Kind, with_task

app = typer.Typer(help="Spend credits to unlock events and contacts.", no_args_is_help=True)

EventArg = Annotated[str, typer.Argument(help="Event id or eventId.")]


def _balance_after(result: Any) -> str:
    after = getattr(result, "balanceAfter", None)
    total = after.get("totalBalance") if isinstance(after, dict) else getattr(after, "totalBalance", None)
    return n(total) if isinstance(total, int) else "?"


def _unlock_layer(
    what: str,
    event_id: str,
    unlock: Callable[[Client, str, Callable[[Quote], bool]], Any],
    yes: bool,
    as_json: bool,
    api_key: str | None,
    base_url: str | None,
) -> tuple[Output, str, Any]:
    """Quote, confirm and unlock one of an event's layers; returns the output, the target's label and the
    result (already printed as JSON with ``--json``)."""
    out = Output(as_json)
    require_consent_possible(out, yes)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        target = client.events.get(event_id)
        label = f"{what}{target.name} ({target.eventId or target.id})"
        result = unlock(client, event_id, confirmer(out, label, yes))
    out.emit(result)
    if not as_json and result.alreadyUnlocked:
        out.out.print(f"Already unlocked: {label}; nothing charged.")
    return out, label, result


@app.command("event", help=f"Unlock an event's full exhibitor and personnel lists (charged once per account). "
              f"{price_help('event_unlock')}")  # fmt: skip
def event(
    event_id: EventArg, yes: YesOpt = False, as_json: JsonOpt = False, api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:  # fmt: skip
    out, label, result = _unlock_layer(
        "event ", event_id, lambda c, e, ok: c.events.unlock(e, confirm=ok), yes, as_json, api_key, base_url
    )
    if not as_json and not result.alreadyUnlocked:
        out.out.print(
            f"Unlocked {label}: {n(result.creditsUsed)} credits used, balance now {_balance_after(result)}."
        )


@app.command("visitors", help=f"Unlock an event's visitor layer (the event must be unlocked first). "
              f"{price_help('visitor_unlock')}")  # fmt: skip
def visitors(
    event_id: EventArg, yes: YesOpt = False, as_json: JsonOpt = False, api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:  # fmt: skip
    out, label, result = _unlock_layer(
        "visitors of event ", event_id, lambda c, e, ok: c.events.unlock_visitors(e, confirm=ok),
        yes, as_json, api_key, base_url,
    )  # fmt: skip
    if not as_json and not result.alreadyUnlocked:
        out.out.print(
            f"Unlocked {label}: {n(result.creditsSpent)} credits used, balance now {_balance_after(result)}."
        )


@app.command("full-access", help="Unlock an event and its visitor layer in one step (what is already "
              f"unlocked is not charged again). Costs {n(DEFAULT_PRICES['event_unlock'])} credits for the event "
              f"plus {n(DEFAULT_PRICES['visitor_unlock'])} for its visitors (default prices; `showfloor quote` "
              "shows yours).")  # fmt: skip
def full_access(
    event_id: EventArg, yes: YesOpt = False, as_json: JsonOpt = False, api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:  # fmt: skip
    out, label, result = _unlock_layer(
        "full access to event ", event_id, lambda c, e, ok: c.events.unlock_full_access(e, confirm=ok),
        yes, as_json, api_key, base_url,
    )  # fmt: skip
    if not as_json and not result.alreadyUnlocked:
        skipped = " (no visitor data: visitor layer skipped)" if result.visitorSkipped else ""
        out.out.print(
            f"Unlocked {label}{skipped}: {n(result.totalCreditsUsed)} credits used, "
            f"balance now {_balance_after(result)}."
        )


def _contact_unlock(
    kind: Kind,
    personnel_ids: list[str],
    event: str | None,
    poll_interval: list[float] | None,
    timeout: float | None,
    yes: bool,
    as_json: bool,
    api_key: str | None,
    base_url: str | None,
) -> None:
    out = Output(as_json)
    require_consent_possible(out, yes)
    label = f"{n(len(set(personnel_ids)))} contact {kind}(s)" + (f" of event {event}" if event else "")
    task_id: str | None = None
    try:
        with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
            submit = client.contacts.unlock if kind == "email" else client.contacts.unlock_phone
            # Quote and prompt first; the progress bar starts only once the task exists (after the answer).
            report: ReconciliationReport = submit(
                personnel_ids, event, wait=False, confirm=confirmer(out, label, yes)
            )
            task_id = report.task_id
            if task_id:
                out.err.print(
                    f"task {task_id} submitted; Ctrl-C stops waiting, not the task "
                    f"(resume: showfloor tasks watch {task_id})",
                    soft_wrap=True,
                )
                task = watch(out, client, task_id, kind, poll_interval or DEFAULT_POLL, timeout)
                report = with_task(report, task, client.credits.balance().totalBalance)
            known = already_held(client, report)
    except KeyboardInterrupt:
        raise interrupted(out, task_id) from None
    out.emit(report)
    if not as_json:
        render_report(out, report, known, balances=True)
    if report.unresolved:
        raise typer.Exit(EXIT_PENDING)


CONTACT_HELP = (
    "Unlock contact {what}s and wait for the task: each delivered {what} is listed, and only delivered ones "
    "are charged. {price} Ids already unlocked are reported again at no charge. Exit codes: 0 done; 3 "
    "insufficient credits; 4 --timeout passed with items still pending; 130 Ctrl-C (the task keeps running: "
    "`showfloor tasks watch ID`)."
)


@app.command(
    "contacts", help=CONTACT_HELP.format(what="email", price=price_help("contact_email", "delivered email"))
)
def contacts(
    personnel_ids: Annotated[list[str], typer.Argument(help="Personnel ids to unlock.")],
    event: Annotated[str | None, typer.Option("--event", help="Event the people belong to.")] = None,
    poll_interval: PollOpt = None,
    timeout: TimeoutOpt = None,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    _contact_unlock("email", personnel_ids, event, poll_interval, timeout, yes, as_json, api_key, base_url)


@app.command(
    "phones", help=CONTACT_HELP.format(what="phone", price=price_help("contact_phone", "delivered phone"))
)
def phones(
    personnel_ids: Annotated[list[str], typer.Argument(help="Personnel ids to unlock.")],
    event: Annotated[str | None, typer.Option("--event", help="Event the people belong to.")] = None,
    poll_interval: PollOpt = None,
    timeout: TimeoutOpt = None,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    _contact_unlock("phone", personnel_ids, event, poll_interval, timeout, yes, as_json, api_key, base_url)


@app.command("linkedin")
def linkedin(
    personnel_ids: Annotated[list[str], typer.Argument(help="Personnel ids.")],
    event: Annotated[str | None, typer.Option("--event", help="Event context (optional).")] = None,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Start LinkedIn-activity analysis (free)."""
    out = Output(as_json)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        result = client.personnel.unlock_linkedin_activity(personnel_ids, event_id=event)
    out.emit(result)
    if not as_json:
        rows = [(i.personnel_id, i.success, i.alreadyUnlocked, i.taskId, i.error) for i in result.items]
        out.table("LinkedIn activity", ["personnel id", "success", "already", "task", "error"], rows)
