"""``showfloor admin config`` as a real subprocess: every setting with its effective value and source,
secrets and URL passwords masked, ``--json``, and a bad setting explained without a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from showfloor.server.config import Settings

SECRETS = {
    "SHOWFLOOR_DATABASE_URL": "postgresql+asyncpg://showfloor:db-pass-123@db.internal:5432/showfloor",
    "SHOWFLOOR_REDIS_URL": "redis://:redis-pass-456@cache.internal:6379/0",
    "SHOWFLOOR_METRICS_TOKEN": "metrics-token-abcdefghijklmnop",
    "SHOWFLOOR_UNLOCK_HTTP_TOKEN": "provider-token-789",
}


def config(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SHOWFLOOR_")}
    return subprocess.run(
        [sys.executable, "-m", "showfloor", "admin", "config", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_config_json_lists_every_setting_masked() -> None:
    done = config(
        "--json", **SECRETS, SHOWFLOOR_RATE_LIMIT_PER_KEY="42", SHOWFLOOR_TRUSTED_PROXIES="10.0.0.0/8"
    )
    assert done.returncode == 0, done.stderr
    for secret in ("db-pass-123", "redis-pass-456", "metrics-token-abcdefghijklmnop", "provider-token-789"):
        assert secret not in done.stdout
    rows: dict[str, Any] = {row["env"]: row for row in json.loads(done.stdout)["settings"]}
    assert set(rows) == {f"SHOWFLOOR_{name.upper()}" for name in Settings.model_fields}
    assert (
        rows["SHOWFLOOR_DATABASE_URL"]["value"]
        == "postgresql+asyncpg://showfloor:****@db.internal:5432/showfloor"
    )
    assert rows["SHOWFLOOR_REDIS_URL"]["value"] == "redis://:****@cache.internal:6379/0"
    assert rows["SHOWFLOOR_METRICS_TOKEN"]["value"] == "****"
    assert rows["SHOWFLOOR_UNLOCK_HTTP_TOKEN"]["value"] == "****"
    assert rows["SHOWFLOOR_RATE_LIMIT_PER_KEY"] == {
        "env": "SHOWFLOOR_RATE_LIMIT_PER_KEY",
        "value": 42,
        "source": "environment",
    }
    assert rows["SHOWFLOOR_TRUSTED_PROXIES"]["value"] == ["10.0.0.0/8"]
    assert rows["SHOWFLOOR_RATE_LIMIT_PER_IP"] == {
        "env": "SHOWFLOOR_RATE_LIMIT_PER_IP",
        "value": 600,
        "source": "default",
    }


def test_config_piped_prints_environment_lines() -> None:
    done = config(**SECRETS)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(Settings.model_fields)
    assert "SHOWFLOOR_METRICS_TOKEN=****  # environment" in lines
    assert "SHOWFLOOR_REDIS_KEY_PREFIX=showfloor  # default" in lines
    assert "db-pass-123" not in done.stdout and "provider-token-789" not in done.stdout


def test_config_explains_a_bad_setting_without_a_traceback() -> None:
    done = config(SHOWFLOOR_TRUSTED_PROXIES="10.0.0.0/8,proxy.internal")
    assert done.returncode == 2
    assert "SHOWFLOOR_TRUSTED_PROXIES" in done.stderr and "Traceback" not in done.stderr + done.stdout
