"""Issue 18, items 11 and 12: help that reads well, global options before the subcommand, JSON errors,
one key style, ``--version``; profiles stored by ``showfloor login`` (mode 0600) and their precedence."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from showfloor import __version__
from showfloor.cli.main import app
from tests.client.live import Account, LiveServer

SHOWFLOOR = [sys.executable, "-m", "showfloor"]
RAW_PLACEHOLDER = re.compile(r"<(?:str|int|float|bool|Path|list\[[^\]]*\])>")


def commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, child in getattr(command, "commands", {}).items():
        yield from commands(child, (*path, name))


def run(
    args: list[str], env: dict[str, str], stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SHOWFLOOR, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120, cwd=cwd
    )


def base_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOWFLOOR_", "LENSMOR_"))}
    return env | {"XDG_CONFIG_HOME": str(tmp / "xdg"), "HOME": str(tmp), "COLUMNS": "200"}


def test_help_has_no_raw_type_placeholders_and_every_command_a_description() -> None:
    runner = CliRunner()
    tree = list(commands(typer.main.get_command(app)))
    assert len(tree) > 40
    for path, command in tree:
        if path:
            assert (command.help or command.short_help or "").strip(), f"{' '.join(path)} has no description"
        shown = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"}, prog_name="showfloor").output
        assert not RAW_PLACEHOLDER.search(shown), f"showfloor {' '.join(path)} --help:\n{shown}"
    flags = runner.invoke(app, ["unlock", "contacts", "--help"], env={"COLUMNS": "200"}).output
    assert "NUMBER..." in flags and re.search(r"--yes\s+-y\s+Spend", flags)
    top = runner.invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    assert "Examples:" in top and "showfloor login" in top and "--profile" in top


def test_version(tmp_path: Path) -> None:
    done = run(["--version"], base_env(tmp_path))
    assert done.returncode == 0 and done.stdout.strip() == f"showfloor {__version__}"


@pytest.fixture(scope="module")
def account(cli_server: LiveServer) -> Account:
    return cli_server.new_account(10_000)


def test_global_options_before_the_subcommand(
    cli_server: LiveServer, account: Account, tmp_path: Path
) -> None:
    env = base_env(tmp_path)
    flags = ["--json", "--api-key", account.key, "--base-url", cli_server.base_url]
    done = run([*flags, "credits", "balance"], env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["totalBalance"] == 10_000
    # An option after the subcommand still wins over the global one.
    wrong = run(["--base-url", "http://127.0.0.1:9", "credits", "balance", "--base-url", cli_server.base_url,
                 "--api-key", account.key, "--json"], env)  # fmt: skip
    assert wrong.returncode == 0, wrong.stderr


def test_json_errors_are_json_on_stderr(cli_server: LiveServer, account: Account, tmp_path: Path) -> None:
    env = base_env(tmp_path) | {"SHOWFLOOR_API_KEY": account.key, "SHOWFLOOR_BASE_URL": cli_server.base_url}
    missing = run(["--json", "events", "show", "E-missing"], env)
    assert missing.returncode == 1 and missing.stdout == ""
    error = json.loads(missing.stderr)["error"]
    assert error["errorKey"] == "NOT_FOUND" and error["status"] == 404 and "not found" in error["message"]
    usage = run(["events", "show", "--json"], env)
    assert usage.returncode == 2 and json.loads(usage.stderr)["error"]["errorKey"] == "USAGE"
    no_key = run(["events", "list", "--json"], base_env(tmp_path))
    assert no_key.returncode == 2 and "showfloor login" in json.loads(no_key.stderr)["error"]["message"]


def camel_keys(value: Any, data_fields: set[str], path: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if path.rsplit(".", 1)[-1] not in data_fields:
                yield key
            yield from camel_keys(item, data_fields, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from camel_keys(item, data_fields, path)


def test_json_output_uses_camel_case_keys(cli_server: LiveServer, tmp_path: Path) -> None:
    cat = cli_server.catalog
    account = cli_server.new_account(10_000)
    env = base_env(tmp_path) | {"SHOWFLOOR_API_KEY": account.key, "SHOWFLOOR_BASE_URL": cli_server.base_url}
    report = run(["--json", "unlock", "contacts", "--event", cat.event, *cat.deliverable, cat.no_email,
                  "--poll-interval", "0.2", "--timeout", "30", "--yes"], env)  # fmt: skip
    assert report.returncode == 0, report.stderr
    linkedin = run(["--json", "unlock", "linkedin", cat.deliverable[0]], env)
    data_fields = {"delivered", "notDelivered", "skipped", "detail"}  # keys there are ids and reasons
    for done in (report, linkedin):
        keys = set(camel_keys(json.loads(done.stdout), data_fields))
        assert keys and not [k for k in keys if "_" in k], keys
    assert {"taskId", "notDelivered", "creditsExpected"} <= set(json.loads(report.stdout))
    assert json.loads(report.stdout)["notDelivered"] == {"no_email": [cat.no_email]}


def test_login_stores_a_private_profile_and_logout_forgets_it(
    cli_server: LiveServer, account: Account, tmp_path: Path
) -> None:
    env = base_env(tmp_path)
    done = run(["login"], env, stdin=f"{cli_server.base_url}\n{account.key}\n")
    assert done.returncode == 0, done.stderr
    path = tmp_path / "xdg" / "showfloor" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())["profiles"]["default"]
    assert stored == {"base_url": cli_server.base_url, "api_key": account.key}
    balance = run(["credits", "balance", "--json"], env)
    assert balance.returncode == 0 and json.loads(balance.stdout)["totalBalance"] == 10_000
    # The environment overrides the profile, and a flag overrides the environment.
    bad = "sk_0000000000000000_" + "0" * 64
    assert run(["credits", "balance"], env | {"SHOWFLOOR_API_KEY": bad}).returncode == 1
    flagged = run(["--api-key", account.key, "credits", "balance"], env | {"SHOWFLOOR_API_KEY": bad})
    assert flagged.returncode == 0, flagged.stderr
    # A wrong key is refused by the balance check and not stored.
    refused = run(["login", "--profile", "staging"], env, stdin=f"{cli_server.base_url}\n{bad}\n")
    assert refused.returncode == 1 and "staging" not in json.loads(path.read_text())["profiles"]
    assert run(["--profile", "staging", "credits", "balance"], env).returncode == 2
    named = run(
        ["login", "--profile", "staging", "--base-url", cli_server.base_url, "--api-key", account.key], env
    )
    assert named.returncode == 0, named.stderr
    assert run(["--profile", "staging", "credits", "balance"], env).returncode == 0
    assert run(["logout"], env).returncode == 0
    assert set(json.loads(path.read_text())["profiles"]) == {"staging"}
    assert run(["credits", "balance"], env).returncode == 2  # no default profile any more
