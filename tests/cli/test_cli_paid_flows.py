"""Paid flows of the customer CLI, as a real subprocess against a real server (issue 18, items 1–6): the
prompt before the progress bar on a real pseudo-terminal, what was paid for, quotes, resumable waits,
every paid operation, and visible rate-limit waits."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from showfloor.cli.commands._paid import DEFAULT_PRICES
from showfloor.server.ledger.pricing import DEFAULT_PRICES as SERVER_PRICES
from tests.cli.flow_support import cli_env, run, run_in_pty, run_json, start_server_with
from tests.client.live import SHOWFLOOR, Account, LiveServer


@pytest.fixture(scope="module")
def idle_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with no unlock worker: submitted tasks stay pending."""
    tmp: Path = tmp_path_factory.mktemp("cli-idle")
    yield from start_server_with(tmp, SHOWFLOOR_EMBEDDED_WORKER="false")


# -- item 1: the quote and prompt come first, the bar only after the answer ---------------------------


def test_unlock_contacts_prompt_is_visible_on_a_terminal(cli_server: LiveServer) -> None:
    cat = cli_server.catalog
    account = cli_server.new_account(10_000)
    args = ["unlock", "contacts", "--event", cat.event, *cat.deliverable, "--poll-interval", "0.2"]
    screen = run_in_pty(cli_server, account, args, "y")
    assert screen.code == 0, screen.text
    before = screen.before_answer
    assert "Cost:" in before and "45 credits (3 × 15)" in before and "Balance: 10,000 credits" in before
    assert "Spend up to 45 credits? [y/N]" in before
    # Nothing redraws over the prompt: no progress bar and no erase-line sequence before the answer.
    assert "task " not in before and "unlocking" not in before and "\x1b[2K" not in before, before
    assert (
        "delivered" in screen.text
        and run_json(cli_server, account, "credits", "balance")["totalBalance"] == 10_000 - 45
    )


def test_unlock_contacts_declined_on_a_terminal_spends_nothing(cli_server: LiveServer) -> None:
    cat = cli_server.catalog
    account = cli_server.new_account(10_000)
    screen = run_in_pty(cli_server, account, ["unlock", "contacts", *cat.deliverable], "n")
    assert screen.code == 1 and "cancelled" in screen.text and "task " not in screen.text
    assert run_json(cli_server, account, "credits", "balance")["totalBalance"] == 10_000


# -- item 2: what was paid for ------------------------------------------------------------------------


def test_the_report_and_personnel_list_show_what_was_paid_for(cli_server: LiveServer) -> None:
    cat = cli_server.catalog
    account = cli_server.new_account(10_000)
    first = run(cli_server, account, "unlock", "contacts", "--event", cat.event, cat.deliverable[0], cat.no_email,
                "--poll-interval", "0.2", "--yes")  # fmt: skip
    assert first.returncode == 0, first.stderr
    email = run_json(cli_server, account, "personnel", "show", cat.deliverable[0])["email"]
    assert email and email in first.stdout
    assert "tried: no email found (not charged)" in first.stdout
    assert "Charged 15 credits = 1 delivered × 15" in first.stdout

    listed = run(cli_server, account, "personnel", "list", "--event", cat.event)
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[1]: line for line in listed.stdout.splitlines() if line.count("│") > 3}
    assert email in rows[cat.deliverable[0]]
    assert "none found" in rows[cat.no_email]  # tried, nothing found
    assert (
        "locked" in rows[cat.deliverable[1]] and "none found" not in rows[cat.deliverable[1]]
    )  # never tried

    again = run(cli_server, account, "unlock", "contacts", "--event", cat.event, cat.deliverable[0], "--yes")
    assert again.returncode == 0, again.stderr
    assert "already unlocked (no charge)" in again.stdout and email in again.stdout
    assert "Nothing charged" in again.stdout
    assert run_json(cli_server, account, "credits", "balance")["totalBalance"] == 10_000 - 15


# -- item 3: free quotes --------------------------------------------------------------------------------


def test_quote_commands(cli_server: LiveServer) -> None:
    cat = cli_server.catalog
    rich = cli_server.new_account(10_000)
    poor = cli_server.new_account(20)
    shown = run(cli_server, rich, "quote", "event", cat.event)  # no terminal: works, never prompts
    assert shown.returncode == 0, shown.stderr
    for words in ("event " + cat.event, "2,000 credits", "10,000 credits", "allowed"):
        assert words in shown.stdout, shown.stdout
    short = run(cli_server, poor, "quote", "event", cat.event)
    assert short.returncode == 3 and "costs 2,000; you have 20" in short.stdout
    assert "no charge" not in short.stdout
    missing = run(cli_server, rich, "quote", "event", "E-missing")
    assert missing.returncode == 1 and "not found" in missing.stderr
    assert missing.stdout == "" and "credits" not in missing.stderr
    contacts = run_json(cli_server, rich, "quote", "contacts", "--event", cat.event, *cat.deliverable)
    assert (contacts["credits"], contacts["unitCredits"], contacts["chargeableCount"]) == (45, 15, 3)
    assert contacts["balance"] == 10_000 and contacts["allowed"] is True and contacts["reason"] == "allowed"
    company = run_json(cli_server, rich, "quote", "search-company", cat.company)
    assert company["credits"] == 50 and company["actionType"] == "search_exhibitors_by_company_name"
    for sub in ("visitors", "full-access"):
        assert run(cli_server, rich, "quote", sub, cat.event).returncode in (0, 1)
    assert run_json(cli_server, rich, "quote", "phones", *cat.deliverable)["credits"] == 450
    assert run_json(cli_server, rich, "quote", "search-events", cat.company)["credits"] == 50
    no_plan = run(cli_server, rich, "quote", "person-events", "Ada Lovelace")  # gift credits only
    assert no_plan.returncode == 1 and "not included in your plan" in no_plan.stdout
    assert run_json(cli_server, rich, "credits", "balance")["totalBalance"] == 10_000  # quotes are free


def test_paid_command_with_unknown_event_is_not_found_before_any_cost(cli_server: LiveServer) -> None:
    account = cli_server.new_account(10_000)
    done = run(cli_server, account, "unlock", "contacts", "--event", "E-missing", "1", "--yes")
    assert done.returncode == 1 and "not found" in done.stderr
    assert "Cost:" not in done.stdout + done.stderr


# -- item 4: resumable waits --------------------------------------------------------------------------


def test_timeout_with_pending_items_exits_4_and_tasks_show_it(idle_server: LiveServer) -> None:
    cat = idle_server.catalog
    account = idle_server.new_account(10_000)
    started = time.monotonic()
    done = run(idle_server, account, "unlock", "contacts", *cat.deliverable[:2], "--timeout", "1.5",
               "--poll-interval", "0.5", "--yes", "--json")  # fmt: skip
    assert time.monotonic() - started >= 1.5  # waited the whole time
    assert done.returncode == 4, done.stderr
    report = json.loads(done.stdout)
    assert sorted(report["unresolved"]) == sorted(cat.deliverable[:2]) and report["taskId"]
    task_id = report["taskId"]
    assert f"showfloor tasks watch {task_id}" in done.stderr

    shown = run(idle_server, account, "tasks", "show", task_id)
    assert shown.returncode == 0 and "still pending" in shown.stdout and task_id in shown.stdout
    watched = run(idle_server, account, "tasks", "watch", task_id, "--timeout", "0.5", "--json")
    assert watched.returncode == 4 and json.loads(watched.stdout)["unresolved"]
    assert run(idle_server, account, "tasks", "show", "99999999").returncode == 1


def test_ctrl_c_after_submission_prints_the_task_and_how_to_resume(idle_server: LiveServer) -> None:
    cat = idle_server.catalog
    account = idle_server.new_account(10_000)
    proc = subprocess.Popen(
        [*SHOWFLOOR, "unlock", "contacts", cat.deliverable[2], "--poll-interval", "0.2", "--yes"],
        env=cli_env(idle_server, account),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()  # "task N submitted; Ctrl-C stops waiting, not the task …"
    assert "submitted" in line, line
    task_id = line.split()[1]
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert f"task {task_id} keeps running" in err and f"showfloor tasks watch {task_id}" in err
    assert "Traceback" not in err


def test_tasks_watch_prints_the_report_of_a_finished_task(cli_server: LiveServer) -> None:
    cat = cli_server.catalog
    account = cli_server.new_account(10_000)
    report = run_json(
        cli_server, account, "unlock", "contacts", cat.deliverable[1], "--poll-interval", "0.2", "--yes"
    )
    watched = run(cli_server, account, "tasks", "watch", report["taskId"])
    assert watched.returncode == 0, watched.stderr
    assert report["delivered"][cat.deliverable[1]] in watched.stdout
    assert "Charged 15 credits = 1 delivered × 15" in watched.stdout


# -- item 5: every paid operation, priced in --help ---------------------------------------------------


def test_every_paid_operation_is_a_command(cli_server: LiveServer) -> None:
    cat = cli_server.catalog
    account = cli_server.new_account(10_000)
    phones = run_json(cli_server, account, "unlock", "phones", "--event", cat.event, cat.deliverable[0],
                      "--poll-interval", "0.2", "--yes")  # fmt: skip
    assert phones["kind"] == "phone" and phones["delivered"][cat.deliverable[0]].startswith("+")
    assert phones["pricePerContact"] == 150 and phones["consistent"] is True
    full = run_json(cli_server, account, "unlock", "full-access", cat.event, "--yes")
    assert full["eventUnlocked"] is True and full["totalCreditsUsed"] == 2000
    visitors = run(cli_server, account, "unlock", "visitors", cat.event, "--yes")  # the event has no visitors
    assert visitors.returncode == 1 and "Traceback" not in visitors.stderr
    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    cli_server.admin("credits", "grant", "--account", account.id, "--subscription", "--amount", "100",
                     "--expires-at", later)  # fmt: skip
    person = run_json(cli_server, account, "search", "person", "Nobody Atall", "--yes")
    assert person["total"] == 0
    spent = 10_100 - run_json(cli_server, account, "credits", "balance")["totalBalance"]
    assert spent == 150 + 2000  # an empty name search is free


def test_paid_commands_state_their_default_price_in_help(cli_server: LiveServer) -> None:
    assert {k: SERVER_PRICES[k] for k in SERVER_PRICES if k in DEFAULT_PRICES} == DEFAULT_PRICES
    assert set(DEFAULT_PRICES) <= {a.value for a in SERVER_PRICES}
    expected = {
        ("unlock", "event"): "2,000 credits",
        ("unlock", "visitors"): "3,000 credits",
        ("unlock", "full-access"): "3,000 for its visitors",
        ("unlock", "contacts"): "15 credits per delivered email",
        ("unlock", "phones"): "150 credits per delivered phone",
        ("search", "company"): "50 credits",
        ("search", "events"): "50 credits",
        ("search", "person"): "50 credits",
    }
    for command, price in expected.items():
        shown = run(cli_server, None, *command, "--help", COLUMNS="300")
        assert shown.returncode == 0
        text = " ".join(shown.stdout.replace("│", " ").split())
        assert price in text and "default price" in text, (command, text)


# -- item 6: rate-limit waits are visible ---------------------------------------------------------------


@pytest.fixture(scope="module")
def tight_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One request per key per 2-second window."""
    tmp: Path = tmp_path_factory.mktemp("cli-tight")
    yield from start_server_with(
        tmp,
        SHOWFLOOR_RATE_LIMIT_ENABLED="true",
        SHOWFLOOR_RATE_LIMIT_PER_KEY="1",
        SHOWFLOOR_RATE_LIMIT_WINDOW_SECONDS="2",
    )


def test_rate_limit_wait_is_printed_on_stderr(tight_server: LiveServer) -> None:
    account: Account = tight_server.new_account(10_000)
    done = run(tight_server, account, "quote", "event", tight_server.catalog.event, "--json")  # two requests
    assert done.returncode == 0, done.stderr
    assert "rate limited; retrying in" in done.stderr and " s" in done.stderr
    assert json.loads(done.stdout)["credits"] == 2000
