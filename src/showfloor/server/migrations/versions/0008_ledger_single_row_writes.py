"""Cheaper ledger functions and two partial indexes (measured in docs/benchmarks.md, "Third pass").

* ``ledger_spend`` and ``ledger_settle`` write their one or two entry, grant and allocation rows with
  single-row statements in a loop instead of one statement over ``unnest()``ed arrays: for the row
  counts a debit or a settlement has, the set-based statements cost more to run (a generic plan
  with a function scan, a sort for ``WITH ORDINALITY``) than the rows they write. ``ledger_spend``
  also reads the spendable total with the grants, in the same statement. Same steps, same order, same
  results: ``tests/integration/test_ledger_parity.py`` checks them against the Python path.
* ``ledger_operations.hold_id`` and ``.ref_operation_id`` are NULL on most operations (every debit);
  partial indexes (``WHERE … IS NOT NULL``) skip those rows, two index insertions less per debit. Every
  lookup by either column is an equality, which the planner matches to the partial index.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PARTIAL = (
    ("ix_ledger_operations_hold_id", "hold_id"),
    ("ix_ledger_operations_ref_operation_id", "ref_operation_id"),
)

SPEND = r"""
CREATE OR REPLACE FUNCTION ledger_spend(
    p_kind text, p_account_id bigint, p_amount bigint, p_op_key text, p_now timestamptz,
    p_api_key_id bigint, p_call_source text, p_business_code text,
    p_resource_type text, p_resource_id text,
    OUT status text, OUT operation_id bigint, OUT hold_id bigint, OUT amount bigint,
    OUT other_kind text, OUT available bigint)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_unlimited boolean;
    v_earlier record;
    v_ids bigint[];
    v_buckets text[];
    v_frees bigint[];
    v_left bigint;
    v_take bigint;
    v_op_id bigint;
    v_hold_id bigint;
BEGIN
    SELECT a.unlimited INTO v_unlimited FROM accounts a WHERE a.id = p_account_id FOR UPDATE;
    IF NOT FOUND THEN
        status := 'not_found'; RETURN;
    END IF;
    IF p_op_key = '' THEN
        status := 'no_key'; RETURN;
    END IF;
    <<attempt>>
    LOOP
        SELECT o.id, o.kind, o.amount, o.hold_id INTO v_earlier
          FROM ledger_operations o WHERE o.account_id = p_account_id AND o.op_key = p_op_key;
        IF FOUND THEN
            amount := v_earlier.amount;
            IF v_earlier.kind <> p_kind OR v_earlier.amount <> p_amount THEN
                status := 'conflict'; other_kind := v_earlier.kind; RETURN;
            END IF;
            status := 'replayed'; operation_id := v_earlier.id; hold_id := v_earlier.hold_id; RETURN;
        END IF;
        PERFORM 1 FROM credit_grants g
         WHERE g.account_id = p_account_id AND g.voided_at IS NULL
           AND (g.expires_at IS NULL OR g.expires_at > p_now)
         ORDER BY g.id FOR UPDATE;
        SELECT coalesce(array_agg(s.id ORDER BY s.rank, s.never, s.expires_at, s.created_at, s.id), '{}'),
               coalesce(array_agg(s.bucket ORDER BY s.rank, s.never, s.expires_at, s.created_at, s.id), '{}'),
               coalesce(array_agg(s.free ORDER BY s.rank, s.never, s.expires_at, s.created_at, s.id), '{}'),
               coalesce(sum(s.free), 0)
          INTO v_ids, v_buckets, v_frees, available
          FROM (SELECT g.id, g.bucket, g.expires_at, g.created_at,
                       CASE g.bucket WHEN 'subscription' THEN 0 WHEN 'addon' THEN 1 ELSE 2 END AS rank,
                       g.expires_at IS NULL AS never,
                       greatest(g.remaining - coalesce(
                           (SELECT sum(h.amount - h.captured - h.released)
                              FROM hold_allocations h WHERE h.grant_id = g.id), 0), 0) AS free
                  FROM credit_grants g
                 WHERE g.account_id = p_account_id AND g.voided_at IS NULL
                   AND (g.expires_at IS NULL OR g.expires_at > p_now)) s;
        IF p_amount > available AND NOT v_unlimited THEN
            status := 'insufficient'; RETURN;
        END IF;
        v_hold_id := NULL;
        IF p_kind = 'hold' THEN
            INSERT INTO credit_holds (account_id, amount, captured, released, state, created_at)
            VALUES (p_account_id, p_amount, 0, 0, 'open', p_now) RETURNING id INTO v_hold_id;
        END IF;
        INSERT INTO ledger_operations (account_id, op_key, kind, amount, api_key_id, call_source,
                                       business_code, resource_type, resource_id, hold_id, created_at)
        VALUES (p_account_id, p_op_key, p_kind, p_amount, p_api_key_id, p_call_source,
                p_business_code, p_resource_type, p_resource_id, v_hold_id, p_now)
        ON CONFLICT (account_id, op_key) DO NOTHING
        RETURNING id INTO v_op_id;
        EXIT attempt WHEN v_op_id IS NOT NULL;
        IF v_hold_id IS NOT NULL THEN
            DELETE FROM credit_holds WHERE id = v_hold_id;
        END IF;
    END LOOP;
    v_left := p_amount;
    FOR i IN 1 .. coalesce(array_length(v_ids, 1), 0) LOOP
        EXIT WHEN v_left = 0;
        v_take := least(v_left, v_frees[i]);
        CONTINUE WHEN v_take <= 0;
        INSERT INTO ledger_entries (operation_id, account_id, grant_id, bucket, type, amount, created_at)
        VALUES (v_op_id, p_account_id, v_ids[i], v_buckets[i], p_kind, -v_take, p_now);
        IF p_kind = 'debit' THEN
            UPDATE credit_grants g SET remaining = g.remaining - v_take WHERE g.id = v_ids[i];
        ELSE
            INSERT INTO hold_allocations (hold_id, grant_id, amount, captured, released)
            VALUES (v_hold_id, v_ids[i], v_take, 0, 0);
        END IF;
        v_left := v_left - v_take;
    END LOOP;
    IF v_left > 0 THEN  -- an unlimited account: the shortfall is recorded against no grant
        INSERT INTO ledger_entries (operation_id, account_id, grant_id, bucket, type, amount, created_at)
        VALUES (v_op_id, p_account_id, NULL, NULL, p_kind, -v_left, p_now);
    END IF;
    status := 'created'; operation_id := v_op_id; hold_id := v_hold_id; amount := p_amount;
END;
$$;
"""

SETTLE = r"""
CREATE OR REPLACE FUNCTION ledger_settle(
    p_kind text, p_hold_id bigint, p_amount bigint, p_op_key text, p_now timestamptz,
    p_ctx_account_id bigint, p_api_key_id bigint, p_call_source text, p_business_code text,
    p_resource_type text, p_resource_id text,
    OUT status text, OUT operation_id bigint, OUT amount bigint, OUT other_kind text,
    OUT outstanding bigint)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_hold record;
    v_earlier record;
    v_api_key_id bigint;
    v_call_source text;
    v_business_code text;
    v_resource_type text;
    v_resource_id text;
    v_alloc record;
    v_grant record;
    v_amount bigint;
    v_op_id bigint;
    v_left bigint;
    v_take bigint;
    v_backed bigint;
    v_unbacked bigint;
    v_alloc_ids bigint[] := '{}';
    v_alloc_takes bigint[] := '{}';
    v_grant_ids bigint[] := '{}';
    v_grant_takes bigint[] := '{}';
    v_entry_grants bigint[] := '{}';
    v_entry_buckets text[] := '{}';
    v_entry_types text[] := '{}';
    v_entry_amounts bigint[] := '{}';
    v_voided timestamptz;
    v_captures bigint;
    v_expires timestamptz;
BEGIN
    SELECT h.id, h.account_id, h.amount - h.captured - h.released AS outstanding
      INTO v_hold FROM credit_holds h WHERE h.id = p_hold_id FOR UPDATE;
    IF NOT FOUND THEN
        status := 'not_found'; RETURN;
    END IF;
    IF p_ctx_account_id IS NOT NULL AND p_ctx_account_id <> v_hold.account_id THEN
        status := 'foreign'; RETURN;
    END IF;
    IF p_op_key = '' THEN
        status := 'no_key'; RETURN;
    END IF;
    outstanding := v_hold.outstanding;
    <<attempt>>
    LOOP
        SELECT o.id, o.kind, o.amount INTO v_earlier
          FROM ledger_operations o WHERE o.account_id = v_hold.account_id AND o.op_key = p_op_key;
        IF FOUND THEN
            amount := v_earlier.amount;
            IF v_earlier.kind <> p_kind OR (p_amount IS NOT NULL AND v_earlier.amount <> p_amount) THEN
                status := 'conflict'; other_kind := v_earlier.kind; RETURN;
            END IF;
            status := 'replayed'; operation_id := v_earlier.id; RETURN;
        END IF;
        v_amount := coalesce(p_amount, v_hold.outstanding);
        IF v_amount > v_hold.outstanding THEN
            amount := v_amount; status := 'exceeds'; RETURN;
        END IF;
        -- Attributed like the hold unless the caller says otherwise (scalar variables, not a record:
        -- a record's field types would differ between the branches and break the cached plans).
        v_api_key_id := p_api_key_id;
        v_call_source := p_call_source;
        v_business_code := p_business_code;
        v_resource_type := p_resource_type;
        v_resource_id := p_resource_id;
        IF p_kind = 'release' OR p_ctx_account_id IS NULL THEN
            v_api_key_id := NULL; v_call_source := 'api'; v_business_code := NULL;
            v_resource_type := NULL; v_resource_id := NULL;
            SELECT o.api_key_id, coalesce(o.call_source, 'api')::text, o.business_code::text,
                   o.resource_type::text, o.resource_id::text
              INTO v_api_key_id, v_call_source, v_business_code, v_resource_type, v_resource_id
              FROM ledger_operations o WHERE o.hold_id = p_hold_id AND o.kind = 'hold';
            v_call_source := coalesce(v_call_source, 'api');  -- no row leaves NULLs
        END IF;
        INSERT INTO ledger_operations (account_id, op_key, kind, amount, api_key_id, call_source,
                                       business_code, resource_type, resource_id, hold_id, created_at)
        VALUES (v_hold.account_id, p_op_key, p_kind, v_amount, v_api_key_id, v_call_source,
                v_business_code, v_resource_type, v_resource_id, p_hold_id, p_now)
        ON CONFLICT (account_id, op_key) DO NOTHING
        RETURNING id INTO v_op_id;
        EXIT attempt WHEN v_op_id IS NOT NULL;
    END LOOP;
    -- Every grant of the hold, in id order, at once: later settlements of this hold in the same
    -- transaction (a group, a task's final release) then take no new grant lock out of order.
    -- Locked before voided_at is read below, so a concurrent void_grant is seen whole.
    PERFORM 1 FROM credit_grants g
     WHERE g.id IN (SELECT a.grant_id FROM hold_allocations a WHERE a.hold_id = p_hold_id)
     ORDER BY g.id FOR UPDATE;
    v_left := v_amount;
    IF p_kind = 'capture' THEN
        -- Backed credits first, in spending order; the rest is an unlimited account's unbacked part.
        FOR v_alloc IN
            SELECT a.id, a.grant_id, g.bucket, a.amount - a.captured - a.released AS open
              FROM hold_allocations a JOIN credit_grants g ON g.id = a.grant_id
             WHERE a.hold_id = p_hold_id
             ORDER BY CASE g.bucket WHEN 'subscription' THEN 0 WHEN 'addon' THEN 1 ELSE 2 END,
                      g.expires_at IS NULL, g.expires_at, g.created_at, g.id
        LOOP
            EXIT WHEN v_left = 0;
            v_take := least(v_left, v_alloc.open);
            CONTINUE WHEN v_take <= 0;
            v_alloc_ids := v_alloc_ids || v_alloc.id;
            v_alloc_takes := v_alloc_takes || v_take;
            v_grant_ids := v_grant_ids || v_alloc.grant_id;
            v_grant_takes := v_grant_takes || v_take;
            v_entry_grants := v_entry_grants || v_alloc.grant_id;
            v_entry_buckets := v_entry_buckets || v_alloc.bucket;
            v_entry_types := v_entry_types || 'capture'::text;
            v_entry_amounts := v_entry_amounts || -v_take;
            v_left := v_left - v_take;
        END LOOP;
        IF v_left > 0 THEN
            v_entry_grants := v_entry_grants || NULL::bigint;
            v_entry_buckets := v_entry_buckets || NULL::text;
            v_entry_types := v_entry_types || 'capture'::text;
            v_entry_amounts := v_entry_amounts || -v_left;
        END IF;
    ELSE
        SELECT coalesce(sum(a.amount - a.captured - a.released), 0) INTO v_backed
          FROM hold_allocations a WHERE a.hold_id = p_hold_id;
        v_unbacked := least(v_left, v_hold.outstanding - v_backed);  -- released first
        IF v_unbacked > 0 THEN
            v_entry_grants := v_entry_grants || NULL::bigint;
            v_entry_buckets := v_entry_buckets || NULL::text;
            v_entry_types := v_entry_types || 'release'::text;
            v_entry_amounts := v_entry_amounts || v_unbacked;
            v_left := v_left - v_unbacked;
        END IF;
        -- Last reserved, first released: reverse spending order.
        FOR v_alloc IN
            SELECT a.id, a.grant_id, g.bucket, a.amount - a.captured - a.released AS open
              FROM hold_allocations a JOIN credit_grants g ON g.id = a.grant_id
             WHERE a.hold_id = p_hold_id
             ORDER BY CASE g.bucket WHEN 'subscription' THEN 0 WHEN 'addon' THEN 1 ELSE 2 END DESC,
                      g.expires_at IS NULL DESC, g.expires_at DESC NULLS FIRST, g.created_at DESC,
                      g.id DESC
        LOOP
            EXIT WHEN v_left = 0;
            v_take := least(v_left, v_alloc.open);
            CONTINUE WHEN v_take <= 0;
            v_alloc_ids := v_alloc_ids || v_alloc.id;
            v_alloc_takes := v_alloc_takes || v_take;
            v_grant_ids := v_grant_ids || v_alloc.grant_id;
            v_left := v_left - v_take;
        END LOOP;
        FOR i IN 1 .. coalesce(array_length(v_grant_ids, 1), 0) LOOP
            SELECT g.bucket, g.voided_at, g.expires_at INTO v_grant
              FROM credit_grants g WHERE g.id = v_grant_ids[i];
            v_entry_grants := v_entry_grants || v_grant_ids[i];
            v_entry_buckets := v_entry_buckets || v_grant.bucket;
            v_entry_types := v_entry_types || 'release'::text;
            v_entry_amounts := v_entry_amounts || v_alloc_takes[i];
            v_voided := v_grant.voided_at;
            v_expires := v_grant.expires_at;
            IF v_voided IS NOT NULL OR (v_expires IS NOT NULL AND v_expires <= p_now) THEN
                -- Released onto a grant that is no longer active: written off at once.
                v_entry_grants := v_entry_grants || v_grant_ids[i];
                v_entry_buckets := v_entry_buckets || v_grant.bucket;
                v_entry_types := v_entry_types
                    || (CASE WHEN v_voided IS NOT NULL THEN 'void' ELSE 'expire' END);
                v_entry_amounts := v_entry_amounts || -v_alloc_takes[i];
                v_grant_takes := v_grant_takes || v_alloc_takes[i];
            ELSE
                v_grant_takes := v_grant_takes || 0::bigint;
            END IF;
        END LOOP;
    END IF;
    -- Single-row statements: cheaper than one statement over unnest()ed arrays for the one or two rows
    -- a settlement touches.
    FOR i IN 1 .. coalesce(array_length(v_entry_amounts, 1), 0) LOOP
        INSERT INTO ledger_entries (operation_id, account_id, grant_id, bucket, type, amount, created_at)
        VALUES (v_op_id, v_hold.account_id, v_entry_grants[i], v_entry_buckets[i], v_entry_types[i],
                v_entry_amounts[i], p_now);
    END LOOP;
    -- The shared rows, last: grants (locked above), allocations, the hold.
    FOR i IN 1 .. coalesce(array_length(v_grant_ids, 1), 0) LOOP
        CONTINUE WHEN v_grant_takes[i] = 0;
        UPDATE credit_grants g SET remaining = g.remaining - v_grant_takes[i] WHERE g.id = v_grant_ids[i];
    END LOOP;
    -- One shape for both kinds: a capture adds to ``captured``, a release to ``released``.
    v_captures := CASE WHEN p_kind = 'capture' THEN 1 ELSE 0 END;
    FOR i IN 1 .. coalesce(array_length(v_alloc_ids, 1), 0) LOOP
        UPDATE hold_allocations a SET captured = a.captured + v_captures * v_alloc_takes[i],
               released = a.released + (1 - v_captures) * v_alloc_takes[i]
         WHERE a.id = v_alloc_ids[i];
    END LOOP;
    UPDATE credit_holds h SET captured = h.captured + v_captures * v_amount,
           released = h.released + (1 - v_captures) * v_amount,
           state = CASE WHEN h.amount - h.captured - h.released - v_amount = 0 THEN 'closed' ELSE h.state END,
           closed_at = CASE WHEN h.amount - h.captured - h.released - v_amount = 0 AND h.state = 'open'
                            THEN p_now ELSE h.closed_at END
     WHERE h.id = p_hold_id;
    status := 'created'; operation_id := v_op_id; amount := v_amount;
    outstanding := v_hold.outstanding - v_amount;
END;
$$;
"""


def upgrade() -> None:
    for name, column in PARTIAL:
        op.drop_index(name, table_name="ledger_operations")
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, "ledger_operations", [column], postgresql_where=where, sqlite_where=where)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(SPEND)
        op.execute(SETTLE)


def downgrade() -> None:
    for name, column in PARTIAL:
        op.drop_index(name, table_name="ledger_operations")
        op.create_index(name, "ledger_operations", [column])
    if op.get_bind().dialect.name == "postgresql":
        # Back to the functions of 0006 (their text lives there; a module name may not start with a digit).
        spec = importlib.util.spec_from_file_location(
            "showfloor_migration_0006", Path(__file__).with_name("0006_ledger_functions.py")
        )
        assert spec is not None and spec.loader is not None
        previous = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(previous)
        op.execute(previous.SPEND)
        op.execute(previous.SETTLE)
