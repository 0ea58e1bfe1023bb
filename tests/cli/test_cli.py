"""The customer CLI as a real subprocess against a real server: JSON output, prompts, exit codes."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.client.live import Account, LiveServer

SHOWFLOOR = [sys.executable, "-m", "showfloor"]


def run(
    server: LiveServer, account: Account | None, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {**server.env, "SHOWFLOOR_BASE_URL": server.base_url, "COLUMNS": "200"}
    if account is not None:
        env["SHOWFLOOR_API_KEY"] = account.key
    return subprocess.run(
        [*SHOWFLOOR, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def run_json(server: LiveServer, account: Account, *args: str) -> Any:
    done = run(server, account, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def account(cli_server: LiveServer) -> Account:
    return cli_server.new_account(10_000)


def test_read_commands_print_parseable_json(cli_server: LiveServer, account: Account) -> None:
    cat = cli_server.catalog
    events = run_json(
        cli_server, account, "events", "list", "--keyword", "Paginated Expo", "--page-size", "2"
    )
    assert events["total"] == 5 and len(events["items"]) == 2
    assert run_json(cli_server, account, "events", "show", cat.event)["eventId"] == cat.event
    assert run_json(cli_server, account, "exhibitors", "list", "--event", cat.event)["total"] == 3
    assert run_json(cli_server, account, "exhibitors", "show", cat.exhibitor)["companyName"] == cat.company
    assert run_json(cli_server, account, "personnel", "list", "--event", cat.event)["total"] == 5
    assert run_json(cli_server, account, "personnel", "show", cat.deliverable[0])["id"] == cat.deliverable[0]
    assert run_json(cli_server, account, "contacts", "search", cat.company)["total"] == 5
    assert run_json(cli_server, account, "credits", "balance")["totalBalance"] == 10_000
    assert run_json(cli_server, account, "credits", "history")["items"][0]["credits"] == 10_000
    assert run_json(cli_server, account, "credits", "history", "--raw")["items"][0]["amount"] == 10_000


def test_paid_commands_with_yes_print_parseable_json(cli_server: LiveServer) -> None:
    cat = cli_server.catalog
    account = cli_server.new_account(10_000)
    report = run_json(
        cli_server, account, "unlock", "contacts", "--event", cat.event, *cat.deliverable, cat.no_email,
        "--poll-interval", "0.2", "--timeout", "30", "--yes",
    )  # fmt: skip
    assert sorted(report["delivered"]) == sorted(cat.deliverable)
    assert report["notDelivered"] == {"no_email": [cat.no_email]} and report["consistent"] is True
    linkedin = run_json(cli_server, account, "unlock", "linkedin", cat.deliverable[0])
    assert linkedin["items"][0]["personnelId"] == cat.deliverable[0]
    unlocked = run_json(cli_server, account, "unlock", "event", cat.event, "--yes")
    assert unlocked["creditsUsed"] == 2000
    company = run_json(cli_server, account, "search", "company", cat.company, "--yes")
    assert any(x["companyName"] == cat.company for x in company["items"])
    events = run_json(cli_server, account, "search", "events", cat.company, "--yes")
    assert [e["eventId"] for e in events["items"]] == [cat.event]


def test_human_output_and_summary_table(cli_server: LiveServer, account: Account) -> None:
    done = run(cli_server, account, "credits", "balance")
    assert done.returncode == 0 and "total" in done.stdout and "10,000" in done.stdout


def test_exit_codes(cli_server: LiveServer, account: Account) -> None:
    cat = cli_server.catalog
    missing = run(cli_server, account, "events", "show", "E-missing", "--json")
    assert missing.returncode == 1 and missing.stdout == "" and "not found" in missing.stderr
    assert run(cli_server, account, "events", "show").returncode == 2  # usage: missing argument
    no_key = run(cli_server, None, "credits", "balance")
    assert no_key.returncode == 2 and "SHOWFLOOR_API_KEY" in no_key.stderr
    bad_key = run(cli_server, Account("0", "sk_0000000000000000_" + "0" * 64), "credits", "balance")
    assert bad_key.returncode == 1 and "API key was refused" in bad_key.stderr
    poor = cli_server.new_account(20)
    broke = run(
        cli_server, poor, "unlock", "contacts", "--event", cat.event, *cat.deliverable, "--yes", "--json"
    )
    assert broke.returncode == 3 and broke.stdout == ""
    assert "insufficient credits" in broke.stderr and "45" in broke.stderr


def test_paid_command_refuses_off_a_tty_without_yes(cli_server: LiveServer, account: Account) -> None:
    done = run(cli_server, account, "unlock", "event", cli_server.catalog.event, stdin="y\n")
    assert done.returncode == 2 and "--yes" in done.stderr
    assert run_json(cli_server, account, "credits", "balance")["totalBalance"] == 10_000


def run_in_pty(server: LiveServer, account: Account, args: list[str], answer: str) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin/stdout/stderr; answer the prompt when it shows."""
    master, slave = os.openpty()
    env = {**server.env, "SHOWFLOOR_BASE_URL": server.base_url, "SHOWFLOOR_API_KEY": account.key}
    proc = subprocess.Popen(
        [*SHOWFLOOR, *args], stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
    )
    os.close(slave)
    seen = b""
    answered = False
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
                if not answered and b"Spend up to" in seen:
                    os.write(master, answer.encode() + b"\n")
                    answered = True
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=30)
    finally:
        os.close(master)
    assert answered, seen.decode(errors="replace")
    return code, seen.decode(errors="replace")


@pytest.mark.parametrize(("answer", "code", "spent"), [("n", 1, 0), ("y", 0, 2000)])
def test_prompt_through_a_pseudo_terminal(cli_server: LiveServer, answer: str, code: int, spent: int) -> None:
    account = cli_server.new_account(10_000)
    exit_code, screen = run_in_pty(cli_server, account, ["unlock", "event", cli_server.catalog.event], answer)
    assert exit_code == code, screen
    assert "Cost:" in screen and "2,000" in screen and "Balance:" in screen and "10,000" in screen
    assert run_json(cli_server, account, "credits", "balance")["totalBalance"] == 10_000 - spent
