"""``showfloor tasks show|watch ID``, and the wait and report every contact unlock shares.

A wait is resumable: the task runs on the server whatever the CLI does, so Ctrl-C only stops waiting
(it prints the task id and the command that resumes), and ``--timeout`` waits the whole time, then exits
with ``EXIT_PENDING`` if items are still pending.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from showfloor.cli.commands._common import ApiKeyOpt, BaseUrlOpt, JsonOpt, make_client
from showfloor.cli.commands._paid import n
from showfloor.cli.output import EXIT_INTERRUPTED, EXIT_PENDING, Output, reporting_errors
from showfloor.client import Client, NotFound, ReconciliationReport
from showfloor.client._reconcile import PENDING_STATUSES, Kind, poll_schedule, task_report
from showfloor.client.models import UnlockTask

app = typer.Typer(help="Contact unlock tasks: show one, or wait for it to finish.", no_args_is_help=True)

DEFAULT_POLL: tuple[float, ...] = (2.0, 3.0, 5.0)
PollOpt = Annotated[
    list[float] | None,
    typer.Option("--poll-interval", help="Seconds between polls (repeatable; the last repeats)."),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        help=f"Wait at most this many seconds; if items are still pending then, exit with code {EXIT_PENDING}."
    ),
]
KindOpt = Annotated[
    str | None, typer.Option("--kind", help="email or phone (default: whichever task has this id).")
]


def fetch_task(client: Client, task_id: str, kind: str | None) -> tuple[UnlockTask, Kind]:
    """The task by id; without ``kind``, an email task, else a phone task."""
    if kind not in (None, "email", "phone"):
        raise typer.BadParameter("--kind must be email or phone")
    if kind in (None, "email"):
        try:
            return client.contacts.task(task_id), "email"
        except NotFound:
            if kind == "email":
                raise
    return client.contacts.phone_task(task_id), "phone"


def resume_hint(task_id: str) -> str:
    return f"showfloor tasks watch {task_id}"


def interrupted(out: Output, task_id: str | None) -> typer.Exit:
    """Ctrl-C: what happened and how to pick the wait up again (the task itself keeps running)."""
    if task_id is None:
        out.err.print("interrupted before the server answered; see `showfloor credits history`.")
    else:
        out.err.print(
            f"interrupted: task {task_id} keeps running on the server (only delivered contacts are charged).\n"
            f"resume with: {resume_hint(task_id)}",
            soft_wrap=True,
        )
    return typer.Exit(EXIT_INTERRUPTED)


def settled(task: UnlockTask) -> int:
    return sum(1 for item in task.items if item.status not in PENDING_STATUSES)


def watch(
    out: Output,
    client: Client,
    task_id: str,
    kind: Kind,
    intervals: Sequence[float],
    timeout: float | None,
) -> UnlockTask:
    """Poll the task until it finishes or ``timeout`` seconds have passed (the whole time: the last poll is
    at the deadline), with a progress bar on stderr. Ctrl-C raises ``typer.Exit(EXIT_INTERRUPTED)``."""
    schedule = poll_schedule(intervals or DEFAULT_POLL)
    deadline = None if timeout is None else time.monotonic() + timeout
    poll = client.contacts.task if kind == "email" else client.contacts.phone_task
    progress = Progress(
        TextColumn(f"task {task_id}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=out.err,
        transient=True,
    )
    bar = progress.add_task("unlock", total=None, status="submitted")
    try:
        with progress:
            while True:
                task = poll(task_id)
                progress.update(
                    bar, total=len(task.items) or None, completed=settled(task), status=task.taskStatus
                )
                if task.finished:
                    return task
                delay = next(schedule)
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return task
                    delay = min(delay, left)
                time.sleep(delay)
    except KeyboardInterrupt:
        raise interrupted(out, task_id) from None


OUTCOMES = {
    "no_email": "tried: no email found (not charged)",
    "no_phone": "tried: no phone found (not charged)",
    "ineligible": "not eligible (opted out; not charged)",
    "failed": "failed (not charged)",
}
SKIPS = {
    "already_unlocked_personnel_ids": "already unlocked (no charge)",
    "unlocking_personnel_ids": "in another running task",
    "invalid_personnel_ids": "invalid id",
    "missing_personnel_ids": "no such person",
    "unlinked_personnel_ids": "not at this event",
}


def report_rows(report: ReconciliationReport, known: dict[str, str]) -> list[tuple[str, str, str]]:
    """One row per person: id, outcome, and the address paid for (or already held)."""
    rows = [(pid, "delivered", value) for pid, value in report.delivered.items()]
    for reason, ids in sorted(report.not_delivered.items()):
        rows += [(pid, OUTCOMES.get(reason, reason), "") for pid in ids]
    rows += [(pid, "still pending", "") for pid in report.unresolved]
    for reason, ids in sorted(report.skipped.items()):
        rows += [(pid, SKIPS.get(reason, reason.replace("_", " ")), known.get(pid, "")) for pid in ids]
    return rows


def already_held(client: Client, report: ReconciliationReport, limit: int = 100) -> dict[str, str]:
    """The addresses of ids skipped as already unlocked (re-running reports them again, at no charge)."""
    ids = report.skipped.get("already_unlocked_personnel_ids", [])[:limit]
    found: dict[str, str] = {}
    for pid in ids:
        person = client.personnel.profile(pid)
        value = person.email if report.kind == "email" else person.phone
        if value:
            found[pid] = value
    return found


def render_report(
    out: Output, report: ReconciliationReport, known: dict[str, str], *, balances: bool
) -> None:
    what = "email" if report.kind == "email" else "phone"
    title = f"Contact {what} unlock" + (
        f" (task {report.task_id}, {report.task_status})" if report.task_id else ""
    )
    out.table(title, ["personnel id", "outcome", what], report_rows(report, known))
    delivered = len(report.delivered)
    if delivered:
        line = f"Charged {n(report.credits_expected)} credits = {n(delivered)} delivered × {n(report.price_per_contact)}"
    else:
        line = "Nothing charged: no contact delivered"
    if balances:
        verdict = (
            "matches" if report.consistent else "differs (other spending meanwhile, or items still pending)"
        )
        line += f"; balance moved {n(report.balance_moved)}: {verdict}"
    out.out.print(line + ".", soft_wrap=True)
    if report.unresolved and report.task_id:
        out.out.print(
            f"{n(len(report.unresolved))} item(s) still pending; the task keeps running: {resume_hint(report.task_id)}",
            soft_wrap=True,
        )


def _task_price(client: Client, task_id: str, kind: Kind) -> int:
    """The task's unit price from the credit activity (its recent first page); 0 if not found there."""
    action = "contact_email_unlock" if kind == "email" else "contact_phone_unlock"
    for row in client.credits.activity(action=action, page_size=100).items:
        if row.taskId == task_id and row.unitCredits is not None:
            return row.unitCredits
    return 0


def _show(task_id: str, kind: str | None, as_json: bool, api_key: str | None, base_url: str | None, *, wait: bool,
          poll_interval: list[float] | None = None, timeout: float | None = None) -> None:  # fmt: skip
    out = Output(as_json)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        task, found_kind = fetch_task(client, task_id, kind)
        if wait and not task.finished:
            task = watch(out, client, task_id, found_kind, poll_interval or DEFAULT_POLL, timeout)
        report = task_report(found_kind, task, _task_price(client, task_id, found_kind))
    out.emit(report)
    if not as_json:
        render_report(out, report, {}, balances=False)
    if wait and report.unresolved:
        raise typer.Exit(EXIT_PENDING)


@app.command("show")
def show(
    task_id: Annotated[str, typer.Argument(help="Task id (printed by `showfloor unlock contacts`).")],
    kind: KindOpt = None,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Show a contact unlock task now: each person's outcome and the address delivered (free)."""
    _show(task_id, kind, as_json, api_key, base_url, wait=False)


@app.command("watch")
def watch_command(
    task_id: Annotated[str, typer.Argument(help="Task id (printed by `showfloor unlock contacts`).")],
    kind: KindOpt = None,
    poll_interval: PollOpt = None,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Wait for a contact unlock task with a progress bar, then print its report (free).

    Exit codes: 0 finished; 4 --timeout passed with items still pending; 130 interrupted (the task keeps
    running)."""
    _show(task_id, kind, as_json, api_key, base_url, wait=True, poll_interval=poll_interval, timeout=timeout)
