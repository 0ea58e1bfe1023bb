"""Ledger functions (PostgreSQL only): debit, hold, capture and release in one round trip each.

They do exactly what the Python path in ``showfloor.server.ledger`` does (see docs/ledger.md, "One round
trip on PostgreSQL"); on SQLite this migration does nothing and the Python path is used. The functions
never raise for business refusals: they return a ``status`` and the service raises the same
``DomainError`` the Python path raises, so a refused call leaves the transaction usable.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Debit and hold: lock the account, replay by key, lock the active grants by id, read their free credits
# (remaining − outstanding allocations, in a later statement than the lock, so a capture or release that
# committed while we waited is seen whole), spend in spending order.
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
    v_take_ids bigint[] := '{}';
    v_take_buckets text[] := '{}';
    v_takes bigint[] := '{}';
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
               coalesce(array_agg(s.free ORDER BY s.rank, s.never, s.expires_at, s.created_at, s.id), '{}')
          INTO v_ids, v_buckets, v_frees
          FROM (SELECT g.id, g.bucket, g.expires_at, g.created_at,
                       CASE g.bucket WHEN 'subscription' THEN 0 WHEN 'addon' THEN 1 ELSE 2 END AS rank,
                       g.expires_at IS NULL AS never,
                       greatest(g.remaining - coalesce(
                           (SELECT sum(h.amount - h.captured - h.released)
                              FROM hold_allocations h WHERE h.grant_id = g.id), 0), 0) AS free
                  FROM credit_grants g
                 WHERE g.account_id = p_account_id AND g.voided_at IS NULL
                   AND (g.expires_at IS NULL OR g.expires_at > p_now)) s;
        available := coalesce((SELECT sum(f) FROM unnest(v_frees) f), 0);
        IF p_amount > available AND NOT v_unlimited THEN
            status := 'insufficient'; RETURN;
        END IF;
        v_hold_id := NULL;
        IF p_kind = 'hold' THEN
            INSERT INTO credit_holds (account_id, amount, captured, released, state, created_at)
            VALUES (p_account_id, p_amount, 0, 0, 'open', p_now) RETURNING id INTO v_hold_id;
        END IF;
        -- Captures and releases take the hold's lock, not the account's: the same key sent to one of
        -- them at the same moment is caught here (ON CONFLICT waits for that transaction's outcome).
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
        v_take_ids := v_take_ids || v_ids[i];
        v_take_buckets := v_take_buckets || v_buckets[i];
        v_takes := v_takes || v_take;
        v_left := v_left - v_take;
    END LOOP;
    IF v_left > 0 THEN  -- an unlimited account: the shortfall is recorded against no grant
        v_take_ids := v_take_ids || NULL::bigint;
        v_take_buckets := v_take_buckets || NULL::text;
        v_takes := v_takes || v_left;
    END IF;
    INSERT INTO ledger_entries (operation_id, account_id, grant_id, bucket, type, amount, created_at)
    SELECT v_op_id, p_account_id, t.gid, t.bucket, p_kind, -t.take, p_now
      FROM unnest(v_take_ids, v_take_buckets, v_takes) WITH ORDINALITY AS t(gid, bucket, take, n)
     ORDER BY t.n;
    IF p_kind = 'debit' THEN
        UPDATE credit_grants g SET remaining = g.remaining - t.take
          FROM unnest(v_take_ids, v_takes) AS t(gid, take) WHERE g.id = t.gid;
    ELSE
        INSERT INTO hold_allocations (hold_id, grant_id, amount, captured, released)
        SELECT v_hold_id, t.gid, t.take, 0, 0
          FROM unnest(v_take_ids, v_takes) WITH ORDINALITY AS t(gid, take, n)
         WHERE t.gid IS NOT NULL ORDER BY t.n;
    END IF;
    status := 'created'; operation_id := v_op_id; hold_id := v_hold_id; amount := p_amount;
END;
$$;
"""

# Capture and release lock the hold, not the account: they cannot overspend (the hold reserved the
# credits under the account lock). Then every grant of the hold, in id order (the global lock order),
# and the shared rows (grants, allocations, the hold) are written last. The grants are locked before
# their voided_at is read, so a release racing void_grant writes off what it must.
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
    INSERT INTO ledger_entries (operation_id, account_id, grant_id, bucket, type, amount, created_at)
    SELECT v_op_id, v_hold.account_id, t.gid, t.bucket, t.typ, t.amt, p_now
      FROM unnest(v_entry_grants, v_entry_buckets, v_entry_types, v_entry_amounts)
           WITH ORDINALITY AS t(gid, bucket, typ, amt, n)
     ORDER BY t.n;
    -- The shared rows, last: grants (locked above), allocations, the hold.
    UPDATE credit_grants g SET remaining = g.remaining - t.take
      FROM unnest(v_grant_ids, v_grant_takes) AS t(gid, take) WHERE g.id = t.gid AND t.take <> 0;
    IF p_kind = 'capture' THEN
        UPDATE hold_allocations a SET captured = a.captured + t.take
          FROM unnest(v_alloc_ids, v_alloc_takes) AS t(aid, take) WHERE a.id = t.aid;
        UPDATE credit_holds h SET captured = h.captured + v_amount,
               state = CASE WHEN h.amount - h.captured - v_amount - h.released = 0 THEN 'closed' ELSE h.state END,
               closed_at = CASE WHEN h.amount - h.captured - v_amount - h.released = 0 AND h.state = 'open'
                                THEN p_now ELSE h.closed_at END
         WHERE h.id = p_hold_id;
    ELSE
        UPDATE hold_allocations a SET released = a.released + t.take
          FROM unnest(v_alloc_ids, v_alloc_takes) AS t(aid, take) WHERE a.id = t.aid;
        UPDATE credit_holds h SET released = h.released + v_amount,
               state = CASE WHEN h.amount - h.captured - h.released - v_amount = 0 THEN 'closed' ELSE h.state END,
               closed_at = CASE WHEN h.amount - h.captured - h.released - v_amount = 0 AND h.state = 'open'
                                THEN p_now ELSE h.closed_at END
         WHERE h.id = p_hold_id;
    END IF;
    status := 'created'; operation_id := v_op_id; amount := v_amount;
    outstanding := v_hold.outstanding - v_amount;
END;
$$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite keeps the Python path (its write unit already serialises every writer)
    op.execute(SPEND)
    op.execute(SETTLE)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "DROP FUNCTION IF EXISTS ledger_spend(text, bigint, bigint, text, timestamptz, bigint, text, text, "
        "text, text)"
    )
    op.execute(
        "DROP FUNCTION IF EXISTS ledger_settle(text, bigint, bigint, text, timestamptz, bigint, bigint, "
        "text, text, text, text)"
    )
