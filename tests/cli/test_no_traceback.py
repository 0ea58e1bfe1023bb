"""Issue 18, item 10: no Python traceback reaches a user. Every command of the tree runs in a real
subprocess with bad input (ids that do not exist, unreachable server, wrong values); none may print a
traceback. Plus the known cases: an unknown action for a plan price, the common PostgreSQL URL
spellings, and ``serve``/``worker``/``admin`` on a client-only install."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import typer.main

from showfloor.cli.main import app
from showfloor.server.config import Settings
from tests.conftest import scratch_pg_url

SHOWFLOOR = [sys.executable, "-m", "showfloor"]
LONG_RUNNING = {("serve",), ("worker",)}  # they start servers; their failures are tested below
EXTRA_BAD = {("admin", "demo-data"): ["--scale", "-1", "--events", "-5"]}


def leaf_commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if hasattr(command, "commands"):
        for name, child in command.commands.items():
            yield from leaf_commands(child, (*path, name))
    else:
        yield path, command


def bad_value(param: Any) -> str:
    kind = str(param.bare_type())
    if kind == "int":
        return "987654"
    if kind == "float":
        return "-1"
    if "Path" in kind:
        return "/nonexistent/showfloor-input.csv"
    return "bogus"


def bad_args(command: Any) -> list[str]:
    args: list[str] = []
    for param in command.params:
        if param.param_type_name == "argument":
            args.append(bad_value(param))
        elif param.required and not getattr(param, "is_flag", False):
            args += [param.opts[0], bad_value(param)]
    return args


def env_for(tmp: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOWFLOOR_", "LENSMOR_"))}
    return env | {
        "SHOWFLOOR_DATABASE_URL": database_url,
        "SHOWFLOOR_BASE_URL": "http://127.0.0.1:9",  # nothing listens there
        "SHOWFLOOR_API_KEY": "sk_bogus",
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "HOME": str(tmp),
        "COLUMNS": "200",
    }


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SHOWFLOOR, *args], env=env, cwd=cwd, input="", capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_every_command_with_bad_input_prints_no_traceback(tmp_path: Path) -> None:
    env = env_for(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'walk.db'}")
    assert run(["admin", "migrate"], env, tmp_path).returncode == 0
    tiny = ["admin", "demo-data", "--events", "2", "--exhibitors", "4", "--personnel", "6"]
    assert run(tiny, env, tmp_path).returncode == 0  # so demo-data/demo-setup below stay quick
    commands = [
        (path, cmd) for path, cmd in leaf_commands(typer.main.get_command(app)) if path not in LONG_RUNNING
    ]
    assert len(commands) > 30
    runs = [[*path, *bad_args(cmd), *EXTRA_BAD.get(path, [])] for path, cmd in commands]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda args: (args, run(args, env, tmp_path)), runs))
    for args, done in results:
        shown = done.stdout + done.stderr
        assert "Traceback" not in shown, f"showfloor {' '.join(args)}:\n{shown}"


def test_unknown_plan_action_is_a_usage_error(tmp_path: Path) -> None:
    env = env_for(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'plans.db'}")
    assert run(["admin", "migrate"], env, tmp_path).returncode == 0
    done = run(
        ["admin", "plans", "set-price", "--plan", "p", "--action", "bogus", "--credits", "1"], env, tmp_path
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "unknown action 'bogus'" in done.stderr and "event_unlock" in done.stderr


@pytest.mark.parametrize("scheme", ["postgresql://", "postgres://"])
def test_common_postgresql_url_forms_use_asyncpg(scheme: str) -> None:
    assert Settings(database_url=f"{scheme}u@h:5432/db").database_url == "postgresql+asyncpg://u@h:5432/db"
    assert Settings(database_url="sqlite:///./x.db").database_url == "sqlite+aiosqlite:///./x.db"


@pytest.mark.postgres
async def test_migrate_with_a_plain_postgresql_url(tmp_path: Path) -> None:
    async with scratch_pg_url("plainurl") as url:
        plain = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        done = run(["admin", "migrate"], env_for(tmp_path, plain), tmp_path)
        assert done.returncode == 0, done.stderr
        listed = run(["admin", "accounts", "list", "--json"], env_for(tmp_path, plain), tmp_path)
        assert listed.returncode == 0 and listed.stdout.strip() == "[]", listed.stderr


def test_unknown_database_scheme_is_one_line(tmp_path: Path) -> None:
    done = run(["admin", "accounts", "list"], env_for(tmp_path, "mysql://localhost/x"), tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "SHOWFLOOR_DATABASE_URL" in done.stderr and "postgresql://" in done.stderr


# A client-only install: the server extra's packages cannot be imported.
CLIENT_ONLY = """
import sys
class NoServerExtra:
    blocked = ("fastapi", "sqlalchemy", "uvicorn", "alembic", "asyncpg", "aiosqlite", "starlette")
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.blocked:
            raise ImportError(f"No module named {name!r}")
        return None
sys.meta_path.insert(0, NoServerExtra())
sys.argv = ["showfloor", *sys.argv[1:]]
from showfloor.cli.main import main
main()
"""


@pytest.mark.parametrize("args", [["serve"], ["worker"], ["admin", "migrate", "--json"], ["admin"]])
def test_server_commands_on_a_client_only_install_name_the_extra(tmp_path: Path, args: list[str]) -> None:
    env = env_for(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'none.db'}")
    done = subprocess.run(
        [sys.executable, "-c", CLIENT_ONLY, *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "pip install 'showfloor[server]'" in done.stderr
    help_text = subprocess.run(
        [sys.executable, "-c", CLIENT_ONLY, "--help"], env=env, capture_output=True, text=True, timeout=60
    )
    assert "Traceback" not in help_text.stderr and help_text.returncode == 0
    assert "pip install 'showfloor[server]'" in help_text.stdout
