"""Issue 18, item 14: ``make demo`` prints the export lines for the CLI and SDK, logs human-readable
text in the foreground, documents ``PORT=``, and re-running keeps the saved key unless asked."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

from tests.reference import REPO_ROOT

SHOWFLOOR = [sys.executable, "-m", "showfloor"]


def admin(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWFLOOR_")} | {"COLUMNS": "200"}
    return subprocess.run(
        [*SHOWFLOOR, "admin", *args], env=env, cwd=tmp, capture_output=True, text=True, timeout=300
    )


def exported(banner: str) -> dict[str, str]:
    return dict(re.findall(r"^\s*export (SHOWFLOOR_[A-Z_]+)=(\S+)\s*$", banner, re.M))


def test_demo_setup_prints_exports_and_keeps_its_key(tmp_path: Path) -> None:
    assert admin(tmp_path, "migrate").returncode == 0
    tiny = admin(tmp_path, "demo-data", "--events", "2", "--exhibitors", "4", "--personnel", "6")
    assert tiny.returncode == 0, tiny.stderr
    first = admin(tmp_path, "demo-setup", "--base-url", "http://127.0.0.1:8123")
    assert first.returncode == 0, first.stderr
    env = exported(first.stdout)
    assert env["SHOWFLOOR_BASE_URL"] == "http://127.0.0.1:8123"
    key = env["SHOWFLOOR_API_KEY"]
    assert key.startswith("sk_")
    event = re.search(r"showfloor exhibitors list --event (\S+)", first.stdout)
    people = re.search(r"showfloor unlock contacts --event (\S+)((?: \d+)+)\s*$", first.stdout, re.M)
    assert event and people and people.group(1) == event.group(1) and people.group(2).split()
    assert f"showfloor events show {event.group(1)}" in first.stdout  # real ids for the quickstart
    saved = tmp_path / "var" / "demo-api-key"
    assert saved.read_text().strip() == key and stat.S_IMODE(saved.stat().st_mode) == 0o600

    again = admin(tmp_path, "demo-setup", "--base-url", "http://127.0.0.1:8123")
    assert exported(again.stdout)["SHOWFLOOR_API_KEY"] == key  # no new key on a re-run
    fresh = admin(tmp_path, "demo-setup", "--new-key")
    new_key = exported(fresh.stdout)["SHOWFLOOR_API_KEY"]
    assert new_key != key and saved.read_text().strip() == new_key
    keys = json.loads(admin(tmp_path, "keys", "list", "--json").stdout)
    assert len(keys) == 2  # one key per asked-for key, not one per run
    # A revoked saved key is replaced rather than printed.
    assert admin(tmp_path, "keys", "revoke", "--prefix", new_key.rsplit("_", 1)[0]).returncode == 0
    replaced = exported(admin(tmp_path, "demo-setup").stdout)["SHOWFLOOR_API_KEY"]
    assert replaced not in (key, new_key)


def test_make_demo_logs_text_and_honours_port_and_new_key() -> None:
    def dry_run(*args: str) -> str:
        done = subprocess.run(["make", "-n", "demo", *args], cwd=REPO_ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    plain = dry_run()
    serve = next(line for line in plain.splitlines() if "showfloor serve" in line)
    assert "SHOWFLOOR_LOG_FORMAT=text" in serve and "--port 8000" in serve
    assert "--new-key" not in plain
    moved = dry_run("PORT=8123", "NEW_KEY=1")
    assert "--base-url http://127.0.0.1:8123 --new-key" in moved and "--port 8123" in moved


def test_readme_opens_with_the_two_commands_and_mentions_port() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    block = readme.split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in block.splitlines()[1:] if line.strip()]
    assert commands == ["make demo", "make test"]
    assert "PORT=" in readme and "export SHOWFLOOR_API_KEY" in readme


def test_the_quickstart_uses_the_ids_the_demo_prints(tmp_path: Path) -> None:
    """docs/quickstart.md is followed literally against `make demo`: its ids are the demo data's own
    (the default seed), the same the banner prints."""
    assert admin(tmp_path, "migrate").returncode == 0
    loaded = admin(tmp_path, "demo-data")
    assert loaded.returncode == 0, loaded.stderr
    banner = admin(tmp_path, "demo-setup").stdout
    event = re.search(r"showfloor events show (\S+)", banner)
    company = re.search(r'showfloor contacts search "([^"]+)"', banner)
    people = re.search(r"showfloor unlock contacts --event \S+((?: \d+)+)\s*$", banner, re.M)
    assert event and company and people, banner
    quickstart = (REPO_ROOT / "docs" / "quickstart.md").read_text()
    assert f"showfloor events show {event.group(1)}" in quickstart
    assert f'"{company.group(1)}"' in quickstart
    assert " ".join(people.group(1).split()) in quickstart
    assert "E123456" not in quickstart
