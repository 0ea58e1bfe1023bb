"""The PostgreSQL functions (migration 0006) and the Python path (SQLite) must write the same ledger.

One seeded script of a few hundred mixed operations (debits, holds, partial captures, releases, refunds,
voids, expiry sweeps, replays, key reuse, refusals; a limited and an unlimited account; grants that
expire mid-script) runs on both backends; every answer and the resulting ledger, normalised to ids
that do not depend on sequences, must be identical.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from showfloor.server.db.engine import make_engine
from showfloor.server.db.uow import Database
from showfloor.server.errors import DomainError
from showfloor.server.ledger import service
from showfloor.server.ledger.balance import get_balance
from showfloor.server.ledger.reconcile import reconcile
from showfloor.server.models import CreditGrant, CreditHold, HoldAllocation, LedgerEntry, LedgerOperation
from tests.conftest import Databases, _clean, new_account

T0 = datetime(2030, 1, 1, tzinfo=UTC)
STEPS = 240


async def _attempt(db: Database, call: Any) -> tuple[Any, ...]:
    """Run one operation in its own unit of work; the answer or the refusal, comparable across backends."""
    try:
        async with db.write() as session:
            result = await call(session)
    except DomainError as exc:
        return ("refused", type(exc).__name__, exc.code, str(exc), sorted((exc.details or {}).items()))
    if isinstance(result, service.HoldResult):
        return ("hold", result.amount, result.replayed)
    if isinstance(result, service.OperationResult):
        return ("op", result.amount, result.replayed)
    return ("value", result)


async def run_script(db: Database, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    payer = await new_account(db, "payer")
    big = await new_account(db, "big", unlimited=True)
    accounts = [payer.id, big.id]
    answers: list[tuple[Any, ...]] = []
    holds: dict[str, int] = {}  # hold op key -> hold id
    spent: dict[str, int] = {}  # debit/capture op key -> operation id
    grants: list[int] = []
    keys: list[tuple[str, str, int | None]] = []  # (kind, key, amount) for replays and misuse

    async def give(account_id: int, n: int, now: datetime) -> None:
        bucket = rng.choice(["subscription", "addon", "gift"])
        expires = None if bucket == "gift" else now + timedelta(hours=rng.choice([3, 10, 40, 400]))
        if bucket == "addon" and rng.random() < 0.3:
            expires = None
        async with db.write() as session:
            grants.append(
                await service.grant(
                    session, account_id, bucket, rng.randint(20, 150), expires_at=expires,
                    op_key=f"grant-{n}", now=now,
                )
            )  # fmt: skip

    for n in range(4):
        await give(payer.id, n, T0)
    await give(big.id, 4, T0)
    answers.extend(await _write_off_prelude(db, (await new_account(db, "prelude")).id, accounts, grants))
    for step in range(STEPS):
        now = T0 + timedelta(hours=step / 4)
        account_id = rng.choice(accounts[:2])
        ctx = service.ChargeContext(account_id, None, rng.choice(["api", "agent"]), f"code-{step % 3}")
        roll = rng.random()
        key = f"k{step}"
        if roll < 0.22:
            amount = rng.randint(1, 60)
            keys.append(("debit", key, amount))
            answer = await _attempt(
                db, lambda s, c=ctx, a=amount, k=key, t=now: service.debit(s, c, a, k, now=t)
            )
            if answer[0] == "op":
                async with db.read() as session:
                    spent[key] = await _op_id(session, account_id, key)
        elif roll < 0.40:
            amount = rng.randint(1, 80)
            keys.append(("hold", key, amount))
            answer = await _attempt(
                db, lambda s, c=ctx, a=amount, k=key, t=now: service.hold(s, c, a, k, now=t)
            )
            if answer[0] == "hold":
                async with db.read() as session:
                    holds[key] = await _hold_id(session, account_id, key)
        elif roll < 0.58 and holds:
            hold_id = holds[rng.choice(sorted(holds))]
            amount = rng.randint(1, 30)
            with_ctx = ctx if rng.random() < 0.5 else None
            keys.append(("capture", key, amount))
            answer = await _attempt(
                db,
                lambda s, h=hold_id, a=amount, k=key, c=with_ctx, t=now: service.capture(
                    s, h, a, k, ctx=c, now=t
                ),
            )
            if answer[0] == "op":
                async with db.read() as session:
                    spent[key] = await _op_id_any(session, key)
        elif roll < 0.72 and holds:
            hold_id = holds[rng.choice(sorted(holds))]
            amount = None if rng.random() < 0.4 else rng.randint(1, 30)
            keys.append(("release", key, amount))
            answer = await _attempt(
                db, lambda s, h=hold_id, a=amount, k=key, t=now: service.release(s, h, a, k, now=t)
            )
        elif roll < 0.77 and spent:
            original = spent[rng.choice(sorted(spent))]
            amount = rng.randint(1, 40)
            answer = await _attempt(db, lambda s, o=original, a=amount, k=key: service.refund(s, o, a, k))
        elif roll < 0.81 and grants:  # then holds on it are released onto a void grant
            grant_id = rng.choice(grants)
            answer = await _attempt(db, lambda s, g=grant_id, k=key: service.void_grant(s, g, k))
        elif roll < 0.85:
            answer = await _attempt(db, lambda s, t=now: service.expire_due(s, t))
        elif roll < 0.90:
            await give(account_id, 100 + step, now)
            answer = ("granted",)
        elif keys:  # a replay, or a key reused for something else
            kind, old_key, amount = rng.choice(keys)
            if kind == "debit" or rng.random() < 0.5:
                answer = await _attempt(
                    db, lambda s, c=ctx, a=amount or 1, k=old_key, t=now: service.debit(s, c, a, k, now=t)
                )
            elif holds:
                hold_id = holds[rng.choice(sorted(holds))]
                answer = await _attempt(
                    db, lambda s, h=hold_id, k=old_key, a=amount, t=now: service.release(s, h, a, k, now=t)
                )
            else:
                answer = ("skipped",)
        else:
            answer = ("skipped",)
        answers.append((step, *answer))
    end = T0 + timedelta(hours=STEPS / 4)
    async with db.read() as session:
        assert await reconcile(session, now=end) == []
        return {"answers": answers, **await _snapshot(session, accounts, grants, end)}


async def _write_off_prelude(
    db: Database, account_id: int, accounts: list[int], grants: list[int]
) -> list[tuple[Any, ...]]:
    """Releases onto a grant that expired or was voided meanwhile (written off at once), on an account
    of its own (the random steps leave it alone)."""
    accounts.append(account_id)
    ctx = service.ChargeContext(account_id)
    soon = T0 + timedelta(minutes=30)
    async with db.write() as session:
        grants.append(
            await service.grant(
                session, account_id, "subscription", 40, expires_at=soon, op_key="p-g1", now=T0
            )
        )
        grants.append(
            await service.grant(session, account_id, "gift", 500, expires_at=None, op_key="p-g2", now=T0)
        )
    later = soon + timedelta(minutes=1)
    out = [
        await _attempt(db, lambda s: service.hold(s, ctx, 50, "p-h1", now=T0)),
        await _attempt(db, lambda s: service.hold(s, ctx, 100, "p-h2", now=T0)),
        await _attempt(db, lambda s: service.capture(s, 1, 5, "p-c1", now=later)),
        await _attempt(db, lambda s: service.release(s, 1, 20, "p-r1", now=later)),
        await _attempt(db, lambda s: service.void_grant(s, grants[-1], "p-v")),
        await _attempt(db, lambda s: service.release(s, 2, 30, "p-r2", now=later)),
        await _attempt(db, lambda s: service.release(s, 1, None, "p-r3", now=later)),
    ]
    return [("prelude", *answer) for answer in out]


async def _op_id(session: Any, account_id: int, key: str) -> int:
    return int(
        await session.scalar(
            select(LedgerOperation.id).where(
                LedgerOperation.account_id == account_id, LedgerOperation.op_key == key
            )
        )
    )


async def _op_id_any(session: Any, key: str) -> int:
    return int(await session.scalar(select(LedgerOperation.id).where(LedgerOperation.op_key == key)))


async def _hold_id(session: Any, account_id: int, key: str) -> int:
    return int(
        await session.scalar(
            select(LedgerOperation.hold_id).where(
                LedgerOperation.account_id == account_id, LedgerOperation.op_key == key
            )
        )
    )


async def _snapshot(session: Any, accounts: list[int], grants: list[int], now: datetime) -> dict[str, Any]:
    """The ledger with ids replaced by operation keys and grant creation order."""
    grant_no = {g: n for n, g in enumerate(grants)}
    account_no = {a: n for n, a in enumerate(accounts)}

    def key_of(op: LedgerOperation) -> str:  # the sweep's keys name a grant id
        if op.op_key.startswith("expire:grant:"):
            return f"expire:grant#{grant_no[int(op.op_key.rsplit(':', 1)[1])]}"
        return op.op_key

    ops = {
        o.id: o for o in (await session.scalars(select(LedgerOperation).order_by(LedgerOperation.id))).all()
    }
    hold_key = {o.hold_id: key_of(o) for o in ops.values() if o.kind == "hold"}
    operations = [
        (account_no[o.account_id], key_of(o), o.kind, o.amount, o.api_key_id, o.call_source, o.business_code,
         o.resource_type, o.resource_id, hold_key.get(o.hold_id),
         key_of(ops[o.ref_operation_id]) if o.ref_operation_id else None)
        for o in ops.values()
    ]  # fmt: skip
    entries = [
        (
            key_of(ops[e.operation_id]),
            account_no[e.account_id],
            grant_no.get(e.grant_id),
            e.bucket,
            e.type,
            e.amount,
        )
        for e in (await session.scalars(select(LedgerEntry).order_by(LedgerEntry.id))).all()
    ]
    grant_rows = sorted(
        (grant_no[g.id], g.remaining, g.voided_at is not None, g.expired_swept_at is not None)
        for g in (await session.scalars(select(CreditGrant))).all()
    )
    hold_rows = sorted(
        (hold_key[h.id], h.amount, h.captured, h.released, h.state, h.closed_at)
        for h in (await session.scalars(select(CreditHold))).all()
    )
    allocations = sorted(
        (hold_key[a.hold_id], grant_no[a.grant_id], a.amount, a.captured, a.released)
        for a in (await session.scalars(select(HoldAllocation))).all()
    )
    balances = [(await get_balance(session, a, now)).balances for a in accounts]
    return {
        "operations": operations,
        "entries": entries,
        "grants": grant_rows,
        "holds": hold_rows,
        "allocations": allocations,
        "balances": balances,
    }


async def test_functions_and_python_path_write_the_same_ledger(databases: Databases) -> None:
    results = []
    for backend in ("sqlite", "postgres"):
        db = Database(make_engine(await databases.url(backend), pool_size=5, max_overflow=0))
        try:
            await _clean(db)
            results.append(await run_script(db, seed=2026))
        finally:
            await _clean(db)
            await db.dispose()
    sqlite_run, pg_run = results
    kinds = {a[1] for a in sqlite_run["answers"]}
    assert {"op", "hold", "refused"} <= kinds  # the script exercised successes and refusals
    kinds_of = {(o[1], o[2]) for o in sqlite_run["operations"]}
    write_offs = {(e[0], e[4]) for e in sqlite_run["entries"] if (e[0], "release") in kinds_of}
    assert {("p-r1", "expire"), ("p-r2", "void")} <= write_offs  # releases were written off
    for part in ("answers", "operations", "entries", "grants", "holds", "allocations", "balances"):
        assert pg_run[part] == sqlite_run[part], part
