"""The steps of the differential test (tests/integration/test_backend_diff.py), each run on SQLite and then
on PostgreSQL and compared: the answers at once, the whole state after every step (``same_state``).

``DiffMachine`` holds the steps as plain methods; the test's machine decides which steps to take.
Keys, handles and labels are the test's names for things (tests/integration/diff_state.py); each
backend keeps its own ids for them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import event
from hypothesis.stateful import RuleBasedStateMachine, invariant

from tests.conftest import new_account
from tests.factories import make_event, make_person
from tests.integration import diff_support as ds
from tests.integration.diff_state import Call, Side, attempt, difference, snapshot

T0 = datetime(2090, 1, 1, tzinfo=UTC)  # after the wall clock: wall-clock stamps never pass an expiry
PEOPLE = 6  # labels p0..p4 attend the event, p5 does not
PLAN_PRICES = {"contact_email": 7, "contact_phone": 0}  # on the plan a phone unlock is free (no hold)
# Each sequence starts with a grant of each bucket on the limited account (spending order matters from
# the first step) and an addon on the unlimited one: (account, (bucket, hours until expiry)).
START_GRANTS = [(0, ("subscription", 30)), (0, ("addon", 400)), (0, ("gift", None)), (1, ("addon", None))]


@dataclass(frozen=True)
class Used:
    """An operation key in use, to use again."""

    kind: str
    account: int
    key: str
    amount: int
    call: Call  # the operation itself: running it again is a replay


class DiffMachine(RuleBasedStateMachine):
    def __init__(self, runner: asyncio.Runner, sides: list[Side]) -> None:
        super().__init__()
        self.runner = runner
        self.sides = sides
        self.now = T0
        self.n = 0
        self.grant_keys: list[str] = []
        self.spent_keys: list[str] = []  # debits and captures, to refund
        self.hold_account: dict[str, int] = {}  # hold key -> account
        self.task_owner: dict[str, tuple[int, str]] = {}  # task handle -> account, kind
        self.used: list[Used] = []

    def both(self, step: str, detail: str, call: Call) -> tuple[Any, ...]:
        """Run one step on SQLite, then on PostgreSQL: both must answer the same."""
        sqlite, postgres = (self.runner.run(attempt(side, call)) for side in self.sides)
        assert sqlite == postgres, (
            f"{step} {detail}: the backends answered differently\n sqlite:   {sqlite}\n postgres: {postgres}"
        )
        shown = len(sqlite[1]) if isinstance(sqlite[1], list) else sqlite[1]
        event(f"{step}: {sqlite[0]}" + (f" {shown}" if sqlite[0] in ("refused", "value") else ""))
        return sqlite

    def key(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def start(self, amounts: list[int]) -> None:
        """Empty tables, the accounts, the catalog and the starting grants."""
        for side in self.sides:
            side.reset()
            self.runner.run(_seed(side))
        for (account, shape), amount in zip(START_GRANTS, amounts, strict=True):
            self.grant_credits(account, shape, amount)

    # -- the ledger -------------------------------------------------------------------------------------

    def grant_credits(self, account: int, shape: tuple[str, int | None], amount: int) -> None:
        (bucket, hours), key, now = shape, self.key("g"), self.now
        expires = None if hours is None else now + timedelta(hours=hours)

        async def call(side: Side) -> int:
            side.grants[key] = await ds.grant(
                side.db, side.accounts[account], bucket, amount, expires, key, now
            )
            return 0

        if self.both("grant", key, call)[0] != "refused":
            self.used.append(Used("grant", account, key, amount, call))
            self.grant_keys.append(key)

    def debit_credits(self, account: int, amount: int, alone: bool, agent: bool) -> None:
        """A debit the ledger locks the account for (``alone``), or after the caller locked it."""
        key, now, n = self.key("d"), self.now, self.n

        async def call(side: Side) -> ds.OperationResult:
            ctx = side.ctx(account, "agent" if agent else "api", n)
            result = await ds.debit(side.db, ctx, amount, key, now, alone=alone)
            side.spent.setdefault(key, result.operation_id)
            return result

        if self.both("debit", key, call)[0] != "refused":
            self.used.append(Used("debit", account, key, amount, call))
            self.spent_keys.append(key)

    def hold_credits(self, account: int, amount: int) -> None:
        key, now, n = self.key("h"), self.now, self.n

        async def call(side: Side) -> ds.HoldResult:
            result = await ds.hold(side.db, side.ctx(account, "api", n), amount, key, now)
            side.holds.setdefault(key, result.hold_id)
            return result

        if self.both("hold", key, call)[0] != "refused":
            self.hold_account[key] = account
            self.used.append(Used("hold", account, key, amount, call))

    def capture_held(self, hold: str, amount: int, payer: str) -> None:
        """Capture with the hold's own attribution, an explicit one, or another account's (refused)."""
        key, now, n = self.key("c"), self.now, self.n
        account = self.hold_account[hold]

        async def call(side: Side) -> ds.OperationResult:
            payer_account = account if payer == "same" else 1 - account
            ctx = None if payer == "hold" else side.ctx(payer_account, "agent", n)
            result = await ds.capture(side.db, side.holds[hold], amount, key, now, ctx)
            side.spent.setdefault(key, result.operation_id)
            return result

        if self.both("capture", f"{key} of {hold}", call)[0] != "refused":
            self.used.append(Used("capture", account, key, amount, call))
            self.spent_keys.append(key)

    def release_held(self, hold: str, amount: int | None) -> None:
        """Release part of a hold, or all it still has (None)."""
        key, now = self.key("r"), self.now

        async def call(side: Side) -> ds.OperationResult:
            return await ds.release(side.db, side.holds[hold], amount, key, now)

        answer = self.both("release", f"{key} of {hold}", call)
        if answer[0] != "refused":
            self.used.append(Used("release", self.hold_account[hold], key, answer[1], call))

    def refund_spent(self, original: str, amount: int) -> None:
        key = self.key("f")

        async def call(side: Side) -> ds.OperationResult:
            return await ds.refund(side.db, side.spent[original], amount, key)

        self.both("refund", f"{key} of {original}", call)

    def void(self, grant: str) -> None:
        key = self.key("v")

        async def call(side: Side) -> ds.OperationResult:
            return await ds.void_grant(side.db, side.grants[grant], key)

        self.both("void", f"{key} of {grant}", call)

    def set_caps(self, account: int, daily: int | None, monthly: int | None, clear: bool) -> None:
        """Cap the account's key per day and/or month (None: keep, 0: remove), or remove both caps."""
        now = self.now

        async def call(side: Side) -> None:
            await ds.set_caps(side.db, side.api_keys[account], now, daily, monthly, clear)

        self.both("spend caps", f"{daily}/{monthly}{' clear' if clear else ''}", call)

    def set_alerts(self, account: int, thresholds: list[int]) -> None:
        """Replace the account's balance alert thresholds (an empty list removes them)."""
        now = self.now

        async def call(side: Side) -> None:
            await ds.set_alerts(side.db, side.accounts[account], thresholds, now)

        self.both("balance alerts", str(thresholds), call)

    def pass_time(self, hours: int, sweep: bool) -> None:
        """The clock moves on (expiry is exact at read time); then, maybe, the expiry sweep runs."""
        self.now += timedelta(hours=hours)
        now = self.now
        if sweep:
            self.both("expiry sweep", str(now), lambda side: ds.expire_due(side.db, now))

    def use_key_again(self, pick: int, use: str) -> None:
        """A key used again: by the same operation (``same``: replayed), or by a debit, a hold or a
        capture (a conflict; also when only the amount differs). ``blank``: a debit without a key."""
        used = self.used[pick % len(self.used)]
        now, n = self.now, self.n
        amount = used.amount + (1 if use == used.kind else 0)
        step = f"key reuse ({use} of a {used.kind})"
        if use == "blank":
            used, use = Used("debit", used.account, "", used.amount, used.call), "debit"
        holds = [h for h, a in self.hold_account.items() if a == used.account]  # keys are per account
        if use == "capture" and not holds:
            return

        async def call(side: Side) -> Any:
            ctx = side.ctx(used.account, "api", n)
            if use == "debit":
                return await ds.debit(side.db, ctx, amount, used.key, now, alone=False)
            if use == "hold":
                return await ds.hold(side.db, ctx, amount, used.key, now)
            return await ds.capture(side.db, side.holds[holds[0]], amount, used.key, now, None)

        self.both(step, used.key, used.call if use == "same" else call)

    # -- contact unlocks --------------------------------------------------------------------------------

    def open_tasks(self) -> list[str]:
        statuses = self.runner.run(ds.task_statuses(self.sides[0].db))
        return [f"T{n}" for n, status in enumerate(statuses) if status == "open"]

    def submit(
        self, account: int, kind: str, tokens: list[str], at_event: bool, on_plan: bool, source: str
    ) -> None:
        """Submit people (labels, an invalid id, an unknown id) for an email or phone unlock."""
        now = self.now

        async def call(side: Side) -> dict[str, Any]:
            body = await ds.submit(
                side.db,
                account_id=side.accounts[account],
                api_key_id=side.api_keys[account],
                plan_id=side.plan_id if on_plan else None,
                kind=kind,
                personnel_ids=[side.raw_id(t) for t in tokens],
                event_ref=side.event_ref if at_event else None,
                call_source=source,
                now=now,
            )
            if "task_id" in body and int(body["task_id"]) not in side.tasks:
                side.tasks.append(int(body["task_id"]))
            return body

        self.both(f"{kind} unlock", str(tokens), call)
        for n in range(len(self.task_owner), len(self.sides[0].tasks)):
            self.task_owner[f"T{n}"] = (account, kind)

    def claim(self, limit: int, alone: bool) -> None:
        """A worker claims items (pending ones, and processing ones whose lease expired)."""
        now = self.now

        async def call(side: Side) -> list[tuple[str, str, int]]:
            claimed = await ds.claim_work(side.db, limit, now, alone=alone)
            return [
                (side.task_handle(c.task_id), side.label(c.person.personnel_id), c.attempts) for c in claimed
            ]

        self.both("claim", f"up to {limit}", call)

    def settle(
        self,
        task: str,
        picks: list[tuple[int, str | None]],
        meanwhile: tuple[int, str | None] | None,
        other: str | None,
        alone: bool,
    ) -> None:
        """Settle some items of a task (item picks with outcomes): items already settled are left alone,
        the last one finishes the task. ``meanwhile``: first the account gets the person of one item
        another way (then shown, never charged twice). ``other``: an item of that task joins the call
        (refused while both tasks have unsettled items). ``alone``: as the worker does, a transaction of
        its own; else in a unit of work."""
        now = self.now
        account, kind = self.task_owner[task]
        if meanwhile is not None:
            pick, value = meanwhile

            async def elsewhere(side: Side) -> bool:
                person = _items_of(side, task, await ds.task_items(side.db))[pick].personnel_id
                return await ds.unlock_elsewhere(side.db, side.accounts[account], person, kind, value)

            self.both("unlocked elsewhere", f"item {pick} of {task}", elsewhere)
        chosen = [(task, pick, outcome) for pick, outcome in picks]
        if other is not None:
            chosen.append((other, 0, picks[0][1]))

        async def call(side: Side) -> int:
            return await ds.settle_outcomes(side.db, await _outcomes(side, chosen), now, alone=alone)

        self.both("settle" if other is None else "settle with another task", str(chosen), call)

    # -- after every step -------------------------------------------------------------------------------

    @invariant()
    def same_state(self) -> None:
        sqlite, postgres = (self.runner.run(snapshot(side, self.now)) for side in self.sides)
        for part in sqlite:
            assert sqlite[part] == postgres[part], difference(part, sqlite[part], postgres[part])

    def teardown(self) -> None:
        """Once per sequence (it is slow): each backend's ledger reconciles by its own check."""
        for status in self.runner.run(ds.task_statuses(self.sides[0].db)):
            event(f"task {status}")
        for side in self.sides:
            problems = self.runner.run(ds.reconcile_problems(side.db, self.now))
            assert problems == [], f"{side.name}: the ledger does not reconcile: {problems}"


async def _seed(side: Side) -> None:
    """Empty tables; a limited and an unlimited account with a key each; a plan; an event with people."""
    await ds.wipe(side.db)
    for name, unlimited in (("payer", False), ("big", True)):
        account = await new_account(side.db, name, unlimited=unlimited)
        side.accounts.append(account.id)
        side.api_keys.append(account.key_id)
    side.plan_id = await ds.make_plan(side.db, "diff", PLAN_PRICES, T0)
    async with side.db.write() as session:
        expo = await make_event(session)
        side.event_ref = expo.event_id
        for n in range(PEOPLE):
            side.people.append((await make_person(session, expo if n < PEOPLE - 1 else None)).id)


def _items_of(side: Side, task: str, items: list[Any]) -> list[Any]:
    """The task's items in id order, repeated so that every pick (0..5) names one."""
    of_task = [i for i in items if i.task_id == side.tasks[int(task[1:])]]
    return (of_task * 6)[:6]


async def _outcomes(side: Side, picks: list[tuple[str, int, str | None]]) -> list[tuple[int, ds.ItemOutcome]]:
    """(task handle, item pick, outcome) -> (item id, ItemOutcome) on this backend, one per item. An
    outcome ``value:x`` delivers a value (``value:`` an empty one); any other is an error code."""
    items = await ds.task_items(side.db)
    chosen: dict[int, ds.ItemOutcome] = {}
    for task, pick, outcome in picks:
        item = _items_of(side, task, items)[pick]
        if outcome is not None and outcome.startswith("value:"):
            variant = outcome.split(":", 1)[1]
            value = f"{side.label(item.personnel_id)}.{variant}@mail.test" if variant else ""
            chosen.setdefault(item.id, ds.ItemOutcome(value=value))
        else:
            chosen.setdefault(item.id, ds.ItemOutcome(error_code=outcome))
    return list(chosen.items())
