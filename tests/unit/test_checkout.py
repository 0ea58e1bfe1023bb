"""The tests run from any checkout: no absolute machine path in the repository, and the reference contract
found through ``SHOWFLOOR_REFERENCE_DIR`` (tests/reference.py), skipped with a clear message when missing
outside CI and failed with ``CI`` set."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests import reference
from tests.reference import REPO_ROOT

# A path into a user's home, root's home or a machine's work folder: true of one machine only. The
# look-behind leaves URL paths alone ("example.com/home/...").
MACHINE_PATH = re.compile(r"(?<![\w.~-])/(?:work|root|home|Users)/|\b[A-Z]:\\Users\\")


def _tracked_files() -> list[str]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"not a git checkout ({error})")
    return [name for name in listed.stdout.split("\0") if name]


def test_no_tracked_file_holds_an_absolute_machine_path() -> None:
    found: list[str] = []
    files = _tracked_files()
    assert "pyproject.toml" in files  # the listing really is this repository's
    for name in files:
        path = REPO_ROOT / name
        if not path.is_file():  # deleted in the work tree, not yet committed
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if MACHINE_PATH.search(line):
                found.append(f"{name}:{number}: {line.strip()[:120]}")
    assert found == [], "absolute machine paths (use a setting or a path relative to the repository):\n" + (
        "\n".join(found)
    )


@pytest.mark.parametrize(
    ("line", "machine"),
    [
        ('OPENAPI = Path("' + "/wo" + 'rk/shared/reference/openapi.json")', True),
        ("cd " + "/ro" + "ot/showfloor && make test", True),
        ("see " + "/ho" + "me/alice/notes.md", True),
        ("C:" + "\\Users\\alice\\showfloor", True),
        ("https://example.com/home/index.html", False),
        ("../shared/reference/lensmor-api-doc", False),
        ("sqlite+aiosqlite:///./var/showfloor.db", False),
    ],
)
def test_the_machine_path_pattern(line: str, machine: bool) -> None:
    assert bool(MACHINE_PATH.search(line)) is machine


def test_the_reference_folder_defaults_to_the_shared_folder_beside_the_checkout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(reference.SETTING, raising=False)
    beside = REPO_ROOT.parent / "shared" / "reference" / "lensmor-api-doc"
    assert reference.reference_dir() == beside.resolve()  # (a link there is followed)


def test_a_relative_reference_folder_is_taken_from_the_repository_root(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # not the working directory
    monkeypatch.setenv(reference.SETTING, "docs")
    assert reference.reference_dir() == (REPO_ROOT / "docs").resolve()
    monkeypatch.setenv(reference.SETTING, str(tmp_path))
    assert reference.reference_dir() == tmp_path.resolve()


def test_a_present_reference_file_is_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "api-reference").mkdir()
    (tmp_path / "api-reference" / "openapi.json").write_text("{}")
    monkeypatch.setenv(reference.SETTING, str(tmp_path))
    assert reference.require(reference.OPENAPI) == tmp_path.resolve() / "api-reference" / "openapi.json"


def test_a_missing_reference_skips_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv(reference.SETTING, str(tmp_path / "absent"))
    with pytest.raises(pytest.skip.Exception, match=reference.SETTING):
        reference.openapi()


def test_a_missing_reference_fails_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv(reference.SETTING, str(tmp_path / "absent"))
    with pytest.raises(pytest.fail.Exception, match=reference.SETTING):
        reference.openapi()
