"""Reading commands of the customer CLI as a real subprocess against a real server (issue 18, items 7–9):
credit history one row per operation, preview truncation from the server's semantics (and the SDK's typed
signal), and list options (--all, --limit, --output, no wrapping when piped, separators, empty results)."""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from showfloor.client import Client, PreviewTruncated
from tests.cli.flow_support import run, run_json, start_server_with
from tests.client.live import Account, LiveServer


@pytest.fixture(scope="module")
def preview_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Lists of a locked event show only their first 2 records."""
    tmp: Path = tmp_path_factory.mktemp("cli-preview")
    yield from start_server_with(tmp, SHOWFLOOR_PREVIEW_LIMIT="2")


@pytest.fixture(scope="module")
def spender(cli_server: LiveServer) -> Account:
    """An account with a grant, an agent-sourced contact unlock task and an api-sourced event unlock."""
    cat = cli_server.catalog
    account = cli_server.new_account(10_000)
    report = run_json(cli_server, account, "unlock", "contacts", "--event", cat.event, *cat.deliverable,
                      cat.no_email, "--poll-interval", "0.2", "--yes")  # fmt: skip
    assert report["consistent"] is True
    assert run(cli_server, account, "unlock", "event", cat.event, "--yes").returncode == 0
    return account


# -- item 7: credit history ---------------------------------------------------------------------------


def test_credit_history_one_row_per_operation(cli_server: LiveServer, spender: Account) -> None:
    shown = run(cli_server, spender, "credits", "history", TZ="Europe/Paris")
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert "contact email unlock, task " in text and ": 3 delivered × 15 = 45 credits (15 released)" in text
    assert "event unlock, event " in text and "-2,000" in text and "+10,000" in text and "-45" in text
    assert "+01:00" in text  # times carry their timezone (local: Paris in December)
    assert run(cli_server, spender, "credits", "history", "--utc").stdout.count("+00:00") == 3
    rows = run_json(cli_server, spender, "credits", "history")["items"]
    assert [r["type"] for r in rows] == ["spend", "spend", "grant"]
    assert sum(r["balanceChange"] for r in rows) == 10_000 - 2_045


def test_credit_history_filters_and_raw(cli_server: LiveServer, spender: Account) -> None:
    def total(*args: str) -> int:
        return int(run_json(cli_server, spender, "credits", "history", *args)["total"])

    assert total("--action", "grant") == 1 and total("--action", "contact_email_unlock") == 1
    assert total("--source", "agent") == 0 and total("--source", "api") == 2
    assert total("--since", "2999-01-01") == 0 and total("--until", "2999-01-01T00:00:00+00:00") == 3
    empty = run(cli_server, spender, "credits", "history", "--since", "2999-01-01")
    assert empty.returncode == 0 and "No credit history found." in empty.stdout
    bad = run(cli_server, spender, "credits", "history", "--since", "yesterday")
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr
    wrong = run(cli_server, spender, "credits", "history", "--action", "bogus")
    assert wrong.returncode == 1 and "Unknown action" in wrong.stderr and "Traceback" not in wrong.stderr
    raw = run_json(cli_server, spender, "credits", "history", "--raw", "--all")
    assert {"hold", "capture", "release", "debit", "grant"} <= {e["type"] for e in raw["items"]}
    assert raw["count"] == raw["total"] > 3


# -- item 8: preview truncation -----------------------------------------------------------------------


def test_preview_truncation_is_visible(preview_server: LiveServer) -> None:
    cat = preview_server.catalog
    account = preview_server.new_account(10_000)
    listed = run(preview_server, account, "personnel", "list", "--event", cat.event)
    assert listed.returncode == 0, listed.stderr
    assert (
        f"showing 2 of 5 — unlock this event for 2,000 credits (`showfloor unlock event {cat.event}`)"
        in listed.stdout
    )
    past = run(preview_server, account, "personnel", "list", "--event", cat.event, "--page", "3",
               "--page-size", "2")  # fmt: skip
    assert past.returncode == 0 and "page 3 is past the preview" in past.stdout
    assert "3/0" not in past.stdout and "only the first 2 of 5 personnel" in past.stdout
    complete = run(preview_server, account, "exhibitors", "list", "--event", cat.event, "--keyword", "Globex")
    assert complete.returncode == 0 and "showing" not in complete.stdout and "unlock" not in complete.stdout
    piped = run(preview_server, account, "exhibitors", "list", "--event", cat.event, "--json")
    assert json.loads(piped.stdout)["total"] == 3 and "showing 2 of 3" in piped.stderr


def test_sdk_iter_signals_truncation(preview_server: LiveServer) -> None:
    cat = preview_server.catalog
    account = preview_server.new_account(10_000)
    with Client(account.key, preview_server.base_url) as client:
        page = client.personnel.list(cat.event, page_size=1)
        assert page.truncation is not None
        assert (page.truncation.actual_total, page.truncation.visible_total) == (5, 2)
        assert page.truncation.unlock_credits == 2000
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            people = list(client.personnel.iter(cat.event, page_size=1))
        assert len(people) == 2
        signals = [w.message for w in caught if isinstance(w.message, PreviewTruncated)]
        assert len(signals) == 1 and signals[0].truncation.remaining_locked == 3
        with warnings.catch_warnings(record=True) as complete:
            warnings.simplefilter("always")
            list(client.exhibitors.iter(cat.event, keyword="Globex"))
        assert not [w for w in complete if isinstance(w.message, PreviewTruncated)]
        assert client.exhibitors.list(cat.event, keyword="Globex").truncation is None


# -- item 9: lists ----------------------------------------------------------------------------------------


def test_all_limit_and_output_formats(cli_server: LiveServer) -> None:
    account = cli_server.new_account(10_000)
    base = ["events", "list", "--keyword", "Paginated Expo", "--page-size", "2"]
    everything = run_json(cli_server, account, *base, "--all")
    assert everything["count"] == 5 and len(everything["items"]) == 5 and everything["total"] == 5
    limited = run_json(cli_server, account, *base, "--limit", "3")
    assert len(limited["items"]) == 3
    as_csv = run(cli_server, account, *base, "--all", "--output", "csv")
    table = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert table[0] == ["id", "eventId", "name", "starts", "city", "country"] and len(table) == 6
    as_tsv = run(cli_server, account, *base, "--limit", "4", "-o", "tsv")
    assert [len(line.split("\t")) for line in as_tsv.stdout.splitlines()] == [6] * 5
    assert run(cli_server, account, *base, "-o", "yaml").returncode == 2


def test_piped_tables_do_not_wrap_and_use_separators(cli_server: LiveServer) -> None:
    account = cli_server.new_account(10_000)
    listed = run(cli_server, account, "events", "list", "--keyword", "Paginated Expo", COLUMNS="40")
    assert listed.returncode == 0
    lines = [line for line in listed.stdout.splitlines() if "Paginated Expo" in line]
    assert len(lines) == 5 and all("2026-03-01" in line and "E1" in line for line in lines)
    balance = run(cli_server, account, "credits", "balance", COLUMNS="40")
    assert "10,000" in balance.stdout


def test_empty_results_say_so_and_date_filters(cli_server: LiveServer) -> None:
    account = cli_server.new_account(10_000)
    empty = run(cli_server, account, "events", "list", "--keyword", "no such event anywhere")
    assert empty.returncode == 0 and "No events found." in empty.stdout
    later = run_json(cli_server, account, "events", "list", "--keyword", "Paginated", "--from", "2026-03-02")
    assert later["total"] == 0
    until = run_json(cli_server, account, "events", "list", "--keyword", "Paginated", "--to", "2026-03-01")
    assert until["total"] == 5
    bad = run(cli_server, account, "events", "list", "--from", "March")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
