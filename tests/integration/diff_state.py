"""Naming what the differential test compares (tests/integration/test_backend_diff.py) without database ids.

Ids differ between the backends (PostgreSQL's sequences advance on rolled-back inserts, SQLite's do not),
so every answer and every row is named by what the test knows it as: accounts by their order, grants and
holds by the operation key that made them, operations by their key (with the ids inside the keys the
code builds itself — ``expire:grant:{id}``, ``task:{t}:item:{i}:…``, ``unlock-task:{t}:…`` — replaced
too), tasks by their order, people by their label. Timestamps come from the test's clock, except those of
refunds and voids, which take none and read the wall clock: those are left out.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.integration import diff_support as ds

WALL_CLOCK_KINDS = ("refund", "void")


@dataclass
class Side:
    """One backend, and what the test's names (keys, handles, labels) are there."""

    name: str
    db: ds.Database
    accounts: list[int] = field(default_factory=list)  # 0: limited, 1: unlimited
    api_keys: list[int] = field(default_factory=list)  # one per account
    people: list[int] = field(default_factory=list)  # label pN -> personnel id
    event_ref: str = ""
    plan_id: int = 0
    grants: dict[str, int] = field(default_factory=dict)  # grant key -> grant id
    holds: dict[str, int] = field(default_factory=dict)  # hold key -> hold id
    spent: dict[str, int] = field(default_factory=dict)  # debit/capture key -> operation id
    tasks: list[int] = field(default_factory=list)  # task handle TN -> task id

    def reset(self) -> None:
        for mapping in (self.grants, self.holds, self.spent):
            mapping.clear()
        for listing in (self.accounts, self.api_keys, self.people, self.tasks):
            listing.clear()

    def ctx(self, account: int, source: str, n: int) -> ds.ChargeContext:
        return ds.ChargeContext(
            account_id=self.accounts[account],
            api_key_id=self.api_keys[account],
            call_source=source,
            business_code=f"code-{n % 3}",
            resource_type="thing",
            resource_id=f"r{n}",
        )

    def label(self, personnel_id: int) -> str:
        return f"p{self.people.index(personnel_id)}" if personnel_id in self.people else "?"

    def task_handle(self, task_id: int) -> str:
        return f"T{self.tasks.index(task_id)}"

    def raw_id(self, token: str) -> str:
        """A submitted id: a person's id for a label pN, else the token itself (invalid or unknown)."""
        return str(self.people[int(token[1:])]) if re.fullmatch(r"p\d", token) else token

    def named(self, text: str) -> str:
        """A message with this backend's hold, grant and operation ids replaced by the test's keys."""
        names = {
            "hold": {v: k for k, v in self.holds.items()},
            "grant": {v: k for k, v in self.grants.items()},
            "operation": {v: k for k, v in self.spent.items()},
        }

        def name(match: re.Match[str]) -> str:
            found = names[match.group(1).lower()].get(int(match.group(2)))
            return f"{match.group(1)} <{found}>" if found else match.group(0)

        return re.sub(r"\b(hold|Hold|grant|Grant|operation|Operation) (\d+)", name, text)


Call = Callable[[Side], Awaitable[Any]]


async def attempt(side: Side, call: Call) -> tuple[Any, ...]:
    """The answer of one call, or its refusal (type, code, message, details), comparable across backends."""
    try:
        result = await call(side)
    except ds.DomainError as error:
        details = sorted((error.details or {}).items())
        return ("refused", type(error).__name__, error.code, side.named(str(error)), details)
    except ValueError:  # items of two tasks settled in one call
        return ("refused", "ValueError")
    if isinstance(result, ds.HoldResult):
        return ("hold", result.amount, result.replayed)
    if isinstance(result, ds.OperationResult):
        return ("op", result.amount, result.replayed)
    if isinstance(result, dict):
        return ("submission", submission(side, result))
    return ("value", result)


def submission(side: Side, body: dict[str, Any]) -> dict[str, Any]:
    """A submission's answer (or a task's stored skips) with task handles and person labels."""

    def labels(ids: list[str]) -> list[str]:
        return [side.label(int(i)) if i.isdigit() and int(i) in side.people else i for i in ids]

    out = dict(body)
    for name in ("task_id", "job_id"):
        if name in out:
            out[name] = side.task_handle(int(out[name]))
    out["skipped_personnel_ids"] = labels(out["skipped_personnel_ids"])
    out["skipped_detail"] = {k: labels(v) for k, v in out["skipped_detail"].items()}
    return out


async def snapshot(side: Side, now: datetime) -> dict[str, Any]:
    """Every row the two backends must agree on, and each account's balance at ``now``."""
    state = await ds.read_state(side.db, side.accounts, now)
    names = _Names(side, state)
    return {
        "balances": state.balances,
        # Operations and entries in id order, the order they were written in (a refund gives back
        # last-spent first, by entry order).
        "operations": [names.operation(o) for o in state.operations],
        "entries": [names.entry(e) for e in state.entries],
        "grants": sorted(names.grant_row(g) for g in state.grants),
        "holds": sorted(names.hold_row(h) for h in state.holds),
        "allocations": sorted(names.allocation(a) for a in state.allocations),
        "tasks": [names.task_row(t) for t in state.tasks],
        "items": sorted(names.item(i) for i in state.items),
        "contacts": sorted(names.contact(c) for c in state.contacts),
        "spend counters": sorted(names.counter(c) for c in state.counters),
        "balance alerts": sorted((names.account[a.account_id], a.threshold, a.low) for a in state.alerts),
        "spend control events": [names.event(e) for e in state.events],
    }


class _Names:
    """This backend's rows with ids replaced by the test's names, for one snapshot."""

    def __init__(self, side: Side, state: ds.State) -> None:
        self.side = side
        self.ops = {o.id: o for o in state.operations}
        self.account = {a: n for n, a in enumerate(side.accounts)}
        self.api_key = {k: n for n, k in enumerate(side.api_keys)}
        self.task = {t.id: f"T{n}" for n, t in enumerate(state.tasks)}
        self.item_person = {i.id: side.label(i.personnel_id) for i in state.items}
        self.grant = {e.grant_id: self.ops[e.operation_id].op_key for e in state.entries if e.type == "grant"}
        self.hold = {o.hold_id: self.key(o.id) for o in state.operations if o.kind == "hold"}

    def key(self, op_id: int | None) -> str | None:
        if op_id is None:
            return None
        op_key = str(self.ops[op_id].op_key)
        if m := re.fullmatch(r"expire:grant:(\d+)", op_key):
            return f"expire:grant:{self.grant[int(m[1])]}"
        if m := re.fullmatch(r"task:(\d+):item:(\d+):(\w+)", op_key):
            return f"task:{self.task[int(m[1])]}:item:{self.item_person[int(m[2])]}:{m[3]}"
        if m := re.fullmatch(r"unlock-task:(\d+):(.+)", op_key):
            return f"unlock-task:{self.task[int(m[1])]}:{m[2]}"
        return op_key

    def stamp(self, op_id: int, at: datetime) -> datetime | None:
        return None if self.ops[op_id].kind in WALL_CLOCK_KINDS else at

    def resource(self, op: Any) -> str | None:
        kind, resource_id = op.resource_type, op.resource_id
        if kind is not None and kind.endswith("_task"):  # an unlock task's hold
            return self.task[int(resource_id)]
        if kind is not None and kind.startswith("contact_"):  # an item's capture: the person
            return self.side.label(int(resource_id))
        return None if resource_id is None else str(resource_id)

    def operation(self, o: Any) -> tuple[Any, ...]:
        return (
            self.account[o.account_id],
            self.key(o.id),
            o.kind,
            o.amount,
            self.api_key.get(o.api_key_id),
            o.call_source,
            o.business_code,
            o.resource_type,
            self.resource(o),
            self.hold.get(o.hold_id),
            self.key(o.ref_operation_id),
            self.stamp(o.id, o.created_at),
        )

    def entry(self, e: Any) -> tuple[Any, ...]:
        return (
            self.key(e.operation_id),
            self.account[e.account_id],
            self.grant.get(e.grant_id),
            e.bucket,
            e.type,
            e.amount,
            self.stamp(e.operation_id, e.created_at),
        )

    def counter(self, c: Any) -> tuple[Any, ...]:
        return (self.api_key[c.api_key_id], c.period, c.period_start, c.spent)

    def event(self, e: Any) -> tuple[Any, ...]:
        """An event with the key's id in its payload and dedup key named by the key's account."""
        payload = dict(e.payload)
        key = payload.get("apiKeyId")
        if key is not None:
            payload["apiKeyId"] = self.api_key[int(key)]
        dedup = (
            e.dedup_key
            if key is None
            else e.dedup_key.replace(f":key:{key}:", f":key:#{payload['apiKeyId']}:")
        )
        return (e.type, sorted(payload.items()), dedup)

    def grant_row(self, g: Any) -> tuple[Any, ...]:
        voided = g.voided_at is not None  # a void reads the wall clock
        return (
            self.grant[g.id],
            self.account[g.account_id],
            g.bucket,
            g.amount,
            g.remaining,
            g.expires_at,
            voided,
            g.expired_swept_at,
        )

    def hold_row(self, h: Any) -> tuple[Any, ...]:
        return (
            self.hold[h.id],
            self.account[h.account_id],
            h.amount,
            h.captured,
            h.released,
            h.state,
            h.created_at,
            h.closed_at,
        )

    def allocation(self, a: Any) -> tuple[Any, ...]:
        return (self.hold[a.hold_id], self.grant[a.grant_id], a.amount, a.captured, a.released)

    def task_row(self, t: Any) -> tuple[Any, ...]:
        return (
            self.task[t.id],
            self.account[t.account_id],
            t.kind,
            t.status,
            t.event_id is not None,
            t.call_source,
            t.business_code,
            t.unit_price,
            t.item_count,
            t.items_left,
            self.hold.get(t.hold_id),
            t.open_intent_key is not None,  # a hash of ids: only whether the intent is still held
            submission(self.side, dict(t.submission)),
            t.created_at,
            t.finished_at,
        )

    def item(self, i: Any) -> tuple[Any, ...]:
        return (
            self.task[i.task_id],
            self.side.label(i.personnel_id),
            i.status,
            i.value,
            i.error_code,
            self.key(i.operation_id),
            i.attempts,
            i.available_at,
            i.lease_owner,
            i.settled_at,
        )

    def contact(
        self, c: Any
    ) -> tuple[Any, ...]:  # created_at left out: recorded "elsewhere" by the wall clock
        return (
            self.account[c.account_id],
            self.side.label(c.personnel_id),
            c.kind,
            c.value,
            self.key(c.operation_id),
        )


def difference(part: str, sqlite: Any, postgres: Any) -> str:
    """What differs, row by row where the part is a list of rows."""
    if isinstance(sqlite, list) and isinstance(postgres, list):
        only_sqlite = [row for row in sqlite if row not in postgres]
        only_postgres = [row for row in postgres if row not in sqlite]
        if only_sqlite or only_postgres:
            return f"{part} differ\n only on sqlite:   {only_sqlite}\n only on postgres: {only_postgres}"
    return f"{part} differ\n sqlite:   {sqlite}\n postgres: {postgres}"
