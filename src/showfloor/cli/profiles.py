"""Stored connection profiles (``showfloor login``): a base URL and an API key per name, in
``$XDG_CONFIG_HOME/showfloor/config.json`` (default ``~/.config/showfloor/config.json``), mode 0600.

Precedence for each value: a flag (``--api-key``, ``--base-url``, before or after the subcommand),
then the environment (``SHOWFLOOR_API_KEY``/``LENSMOR_API_KEY``, ``SHOWFLOOR_BASE_URL``), then the
profile (``--profile NAME``, else ``SHOWFLOOR_PROFILE``, else ``default``), then the built-in default.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_PROFILE = "default"
_selected: str | None = None


class ProfileError(Exception):
    """A named profile does not exist, or the config file cannot be read."""


@dataclass(frozen=True)
class Profile:
    name: str
    base_url: str | None
    api_key: str | None


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "showfloor" / "config.json"


def select(name: str | None) -> None:
    """Remember ``--profile`` for this run."""
    global _selected
    _selected = name


def selected_name() -> tuple[str, bool]:
    """The profile name in use and whether the user named it (then it must exist)."""
    if _selected:
        return _selected, True
    env = os.environ.get("SHOWFLOOR_PROFILE")
    return (env, True) if env else (DEFAULT_PROFILE, False)


def _read() -> dict[str, Any]:
    path = config_path()
    if not path.exists():
        return {"profiles": {}}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ProfileError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("profiles"), dict):
        raise ProfileError(f"{path} is not a showfloor config file")
    return data


def _write(data: dict[str, Any]) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
    os.chmod(tmp, 0o600)  # the umask cannot widen it, and an older file's mode is replaced
    os.replace(tmp, path)
    return path


def current() -> Profile | None:
    """The profile in use, or ``None`` when none is stored and none was named."""
    name, named = selected_name()
    stored = _read()["profiles"].get(name)
    if stored is None:
        if named:
            raise ProfileError(
                f"no profile {name!r} in {config_path()}: run `showfloor login --profile {name}`"
            )
        return None
    return Profile(name, stored.get("base_url"), stored.get("api_key"))


def save(name: str, base_url: str, api_key: str) -> Path:
    data = _read()
    data["profiles"][name] = {"base_url": base_url, "api_key": api_key}
    return _write(data)


def remove(name: str) -> bool:
    data = _read()
    if data["profiles"].pop(name, None) is None:
        return False
    _write(data)
    return True
