"""``showfloor unlock event|contacts|linkedin``: paid (except LinkedIn activity); quote, confirm, act."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from showfloor.cli.commands._common import (
    ApiKeyOpt,
    BaseUrlOpt,
    JsonOpt,
    YesOpt,
    confirmer,
    make_client,
    require_consent_possible,
)
from showfloor.cli.output import Output, reporting_errors
from showfloor.client import ReconciliationReport
from showfloor.client.models import UnlockTask

app = typer.Typer(help="Spend credits to unlock events and contacts.", no_args_is_help=True)


@app.command("event")
def event(
    event_id: Annotated[str, typer.Argument(help="Event id or eventId.")],
    yes: YesOpt = False,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Unlock an event's full exhibitor and personnel lists (charged once per account)."""
    out = Output(as_json)
    require_consent_possible(out, yes)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        target = client.events.get(event_id)
        label = f"event {target.name} ({target.eventId or target.id})"
        result = client.events.unlock(event_id, confirm=confirmer(out, label, yes))
    out.emit(result)
    if not as_json:
        if result.alreadyUnlocked:
            out.out.print(f"Already unlocked: {label}; nothing charged.")
        else:
            after = result.balanceAfter.totalBalance if result.balanceAfter else None
            out.out.print(f"Unlocked {label}: {result.creditsUsed} credits used, balance now {after}.")


def _progress_callback(progress: Progress, bar: TaskID) -> Callable[[UnlockTask], None]:
    def on_progress(task: UnlockTask) -> None:
        done = sum(1 for item in task.items if item.status not in ("pending", "processing"))
        progress.update(bar, total=len(task.items) or None, completed=done, status=task.taskStatus)

    return on_progress


def _summary(out: Output, report: ReconciliationReport) -> None:
    rows: list[tuple[str, object, str]] = [
        ("delivered", len(report.delivered), ", ".join(report.delivered)),
    ]
    for reason, ids in sorted(report.not_delivered.items()):
        rows.append((f"not delivered: {reason}", len(ids), ", ".join(ids)))
    rows.append(("still unresolved", len(report.unresolved), ", ".join(report.unresolved)))
    for reason, ids in sorted(report.skipped.items()):
        rows.append((f"skipped: {reason}", len(ids), ", ".join(ids)))
    out.table(f"Contact unlock (task {report.task_id or '-'})", ["outcome", "count", "personnel ids"], rows)
    verdict = "matches" if report.consistent else "differs (other spending, or the task is not finished)"
    out.out.print(
        f"Credits expected {report.credits_expected} (= {report.price_per_contact} × {len(report.delivered)}); "
        f"balance moved {report.balance_moved}: {verdict}."
    )


@app.command("contacts")
def contacts(
    personnel_ids: Annotated[list[str], typer.Argument(help="Personnel ids to unlock.")],
    event: Annotated[str | None, typer.Option("--event", help="Event the people belong to.")] = None,
    poll_interval: Annotated[
        list[float] | None,
        typer.Option("--poll-interval", help="Seconds between polls (repeatable; the last repeats)."),
    ] = None,
    timeout: Annotated[float | None, typer.Option(help="Stop waiting after this many seconds.")] = None,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Unlock contact emails (charged per delivered email), wait for the task, and reconcile."""
    out = Output(as_json)
    require_consent_possible(out, yes)
    label = f"{len(set(personnel_ids))} contact(s)" + (f" of event {event}" if event else "")
    progress = Progress(
        TextColumn("unlocking"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=out.err,
        transient=True,
    )
    bar = progress.add_task("unlock", total=None, status="submitted")
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        confirm = confirmer(out, label, yes)
        with progress:
            report = client.contacts.unlock(
                personnel_ids,
                event,
                poll_intervals=tuple(poll_interval or (3.0, 5.0, 10.0)),
                timeout=timeout,
                on_progress=_progress_callback(progress, bar),
                confirm=confirm,
            )
    out.emit(report)
    if not as_json:
        _summary(out, report)


@app.command("linkedin")
def linkedin(
    personnel_ids: Annotated[list[str], typer.Argument(help="Personnel ids.")],
    event: Annotated[str | None, typer.Option("--event", help="Event context (optional).")] = None,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Start LinkedIn-activity analysis (no email-unlock charge)."""
    out = Output(as_json)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        result = client.personnel.unlock_linkedin_activity(personnel_ids, event_id=event)
    out.emit(result)
    if not as_json:
        rows = [(i.personnel_id, i.success, i.alreadyUnlocked, i.taskId, i.error) for i in result.items]
        out.table("LinkedIn activity", ["personnel id", "success", "already", "task", "error"], rows)
