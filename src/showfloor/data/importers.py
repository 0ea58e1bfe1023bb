"""Import operators' own events, exhibitors and personnel from JSONL or CSV files.

All or nothing: every row is validated (shape with pydantic, then references to events and exhibitors
against the database) before anything is written, and a file with any bad row imports nothing; the
``ImportRejected`` error lists each bad row's line number and reason. Rows are keyed by ``external_id``:
re-importing a file updates the same rows in place. The count columns of every event whose rows
changed are recomputed in the same transaction.

File formats: ``docs/data.md``; row schemas: ``showfloor.data.import_schemas``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from showfloor.data.bulk import NullProgress, Progress
from showfloor.data.counts import recompute_event_counts
from showfloor.data.import_schemas import KINDS, ROW_MODELS, Kind, _Row
from showfloor.data.import_writers import check_references, write_rows
from showfloor.server.db.uow import Database
from showfloor.server.errors import DomainError

Format = Literal["jsonl", "csv"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv")
MAX_REPORTED_ERRORS = 1000


@dataclass(frozen=True, order=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class ImportRejected(DomainError):
    """The file has bad rows; nothing was imported."""

    code = "INVALID_REQUEST"

    def __init__(self, path: Path, errors: list[RowError]) -> None:
        self.errors = sorted(errors)
        super().__init__(f"{path}: {len(self.errors)} bad row(s); nothing was imported")


@dataclass(frozen=True)
class ImportResult:
    kind: Kind
    rows: int
    created: int
    updated: int
    events_touched: int


def detect_kind(path: Path) -> Kind:
    name = path.name.lower()
    for kind in KINDS:
        if kind in name or (kind == "personnel" and "people" in name):
            return kind
    raise DomainError(
        f"Cannot tell what {path.name} holds from its name; pass --kind events|exhibitors|personnel"
    )


def detect_format(path: Path) -> Format:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise DomainError(f"Cannot tell the format of {path.name} from its extension; pass --format jsonl|csv")


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    with path.open(encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield line_no, f"invalid JSON: {exc.msg}"
                continue
            yield line_no, value if isinstance(value, dict) else "a line must hold one JSON object"


def _read_csv(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None:
            return
        for row in reader:
            if None in row:
                yield reader.line_num, "more cells than the header has columns"
                continue
            yield reader.line_num, {k: v for k, v in row.items() if v is not None}


def _count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


def _reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def validate_file(
    path: Path, kind: Kind, fmt: Format, progress: Progress | None = None
) -> tuple[list[tuple[int, _Row]], list[RowError]]:
    """Parse and validate every row (no database): the good rows with their line numbers, and the errors."""
    if not path.is_file():
        raise DomainError(f"{path}: no such file")
    progress = progress or NullProgress()
    progress.start(f"Validating {path.name}", _count_lines(path))
    model = ROW_MODELS[kind]
    rows: list[tuple[int, _Row]] = []
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    reader = _read_jsonl(path) if fmt == "jsonl" else _read_csv(path)
    for line_no, raw in reader:
        progress.advance(1)
        if isinstance(raw, str):
            errors.append(RowError(line_no, raw))
            continue
        try:
            row = model.model_validate(raw)
        except ValidationError as exc:
            errors.append(RowError(line_no, _reason(exc)))
            continue
        if row.external_id in first_line:
            errors.append(
                RowError(
                    line_no,
                    f"duplicate external_id {row.external_id!r} (first on line {first_line[row.external_id]})",
                )
            )
            continue
        first_line[row.external_id] = line_no
        rows.append((line_no, row))
    return rows, errors


async def import_file(
    db: Database,
    path: Path,
    *,
    kind: Kind | None = None,
    fmt: Format | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import ``path`` in one transaction. Raises ``ImportRejected`` (nothing written) on any bad row."""
    kind = kind or detect_kind(path)
    fmt = fmt or detect_format(path)
    progress = progress or NullProgress()
    rows, errors = validate_file(path, kind, fmt, progress)  # file I/O before the transaction opens
    async with db.write() as session:
        errors += await check_references(session, kind, rows)
        if errors:
            raise ImportRejected(path, sorted(errors)[:MAX_REPORTED_ERRORS])
        written = await write_rows(session, kind, [row for _, row in rows], progress)
        await recompute_event_counts(session, written.touched_events)
    return ImportResult(
        kind=kind,
        rows=len(rows),
        created=written.created,
        updated=written.updated,
        events_touched=len(written.touched_events),
    )


def parse_kind(value: str | None) -> Kind | None:
    if value is None:
        return None
    if value not in KINDS:
        raise DomainError(f"--kind must be one of {', '.join(KINDS)}")
    return value


def parse_format(value: str | None) -> Format | None:
    if value is None:
        return None
    if value not in FORMATS:
        raise DomainError(f"--format must be one of {', '.join(FORMATS)}")
    return value
