-- ledger_settle: captures and releases of ONE hold, in order, on PostgreSQL, in one round trip.
-- The Python twin is ``showfloor.server.ledger.holds`` (SQLite runs it); the rules are the same, step for
-- step. Lock order: the hold, the account (KEY SHARE, as the operation rows' foreign key will take it),
-- then every grant of the hold by id: the account before grants, as in ledger_spend.
-- Each settlement n has its own operation key (a replayed key writes nothing; the same key for another
-- operation is a conflict). A capture spends the hold's outstanding credits from its allocations in
-- spending order (an expired grant's reserved credits stay capturable); the rest of an unlimited account's
-- hold, backed by no grant, is captured against no grant. A release gives credits back unbacked part
-- first, then allocations in reverse spending order; credits released onto a grant that is no longer
-- active are written off at once (``expire`` or ``void`` entry). The hold closes when nothing is
-- outstanding. A capture is attributed as given (p_attributed[n]) or like the hold; a release like the hold.
-- The hold's allocations are read once and settled in memory; each settlement writes its operation and
-- entries, and the allocation, grant and hold rows are updated once at the end (a batch of 32 captures
-- rewrites them once, not 32 times).
-- One row is returned per settlement; a refusal (not_found, foreign, no_key, conflict, exceeds) is returned
-- as the last row, never raised (what was settled before it is written whole), and the caller rolls back.
-- Installed by migration 0011 from this file; tests/integration/test_ledger_sql.py checks the database
-- holds exactly this text.
CREATE OR REPLACE FUNCTION ledger_settle(
    p_hold_id bigint, p_kinds text[], p_amounts bigint[], p_op_keys text[], p_now timestamptz,
    p_account_id bigint, p_attributed boolean[], p_api_key_ids bigint[], p_call_sources text[],
    p_business_codes text[], p_resource_types text[], p_resource_ids text[])
RETURNS TABLE (status text, operation_id bigint, amount bigint, other_kind text, outstanding bigint)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_hold record;
    v_outstanding bigint;
    v_earlier record;
    v_kind text;
    v_hold_api_key_id bigint;
    v_hold_call_source text;
    v_hold_business_code text;
    v_hold_resource_type text;
    v_hold_resource_id text;
    v_api_key_id bigint;
    v_call_source text;
    v_business_code text;
    v_resource_type text;
    v_resource_id text;
    v_amount bigint;
    v_op_id bigint;
    v_left bigint;
    v_take bigint;
    v_unbacked bigint;
    -- The hold's allocations in spending order, settled in memory.
    a_ids bigint[];
    a_grants bigint[];
    a_buckets text[];
    a_open bigint[];
    a_void boolean[];
    a_inactive boolean[];
    a_captured bigint[];
    a_released bigint[];
    a_gone bigint[];  -- credits leaving the grant's ``remaining`` (captures and write-offs)
    v_count integer;
    v_captured bigint := 0;
    v_released bigint := 0;
    v_refusal boolean := false;
BEGIN
    SELECT h.id, h.account_id, h.amount - h.captured - h.released AS outstanding
      INTO v_hold FROM credit_holds h WHERE h.id = p_hold_id FOR UPDATE;
    IF NOT FOUND THEN
        status := 'not_found'; RETURN NEXT; RETURN;
    END IF;
    IF p_account_id IS NOT NULL AND p_account_id <> v_hold.account_id THEN
        status := 'foreign'; RETURN NEXT; RETURN;
    END IF;
    PERFORM 1 FROM accounts a WHERE a.id = v_hold.account_id FOR KEY SHARE;
    -- Locked before voided_at is read below, so a concurrent void_grant is seen whole.
    PERFORM 1 FROM credit_grants g
     WHERE g.id IN (SELECT a.grant_id FROM hold_allocations a WHERE a.hold_id = p_hold_id)
     ORDER BY g.id FOR UPDATE;
    SELECT coalesce(array_agg(a.id ORDER BY s.rank, s.never, s.expires_at, s.created_at, s.id), '{}'),
           coalesce(array_agg(a.grant_id ORDER BY s.rank, s.never, s.expires_at, s.created_at, s.id), '{}'),
           coalesce(array_agg(s.bucket ORDER BY s.rank, s.never, s.expires_at, s.created_at, s.id), '{}'),
           coalesce(array_agg(a.amount - a.captured - a.released
                              ORDER BY s.rank, s.never, s.expires_at, s.created_at, s.id), '{}'),
           coalesce(array_agg(s.voided_at IS NOT NULL ORDER BY s.rank, s.never, s.expires_at, s.created_at, s.id),
                    '{}'),
           coalesce(array_agg(s.voided_at IS NOT NULL OR (s.expires_at IS NOT NULL AND s.expires_at <= p_now)
                              ORDER BY s.rank, s.never, s.expires_at, s.created_at, s.id), '{}')
      INTO a_ids, a_grants, a_buckets, a_open, a_void, a_inactive
      FROM hold_allocations a
      JOIN (SELECT g.id, g.bucket, g.expires_at, g.created_at, g.voided_at,
                   CASE g.bucket WHEN 'subscription' THEN 0 WHEN 'addon' THEN 1 ELSE 2 END AS rank,
                   g.expires_at IS NULL AS never
              FROM credit_grants g) s ON s.id = a.grant_id
     WHERE a.hold_id = p_hold_id;
    v_count := coalesce(array_length(a_ids, 1), 0);
    a_captured := array_fill(0::bigint, ARRAY[v_count]);
    a_released := array_fill(0::bigint, ARRAY[v_count]);
    a_gone := array_fill(0::bigint, ARRAY[v_count]);
    -- The hold's own attribution, for releases and unattributed captures (scalar variables, not a record:
    -- a record's field types could differ between calls and break the cached plans).
    SELECT o.api_key_id, coalesce(o.call_source, 'api')::text, o.business_code::text,
           o.resource_type::text, o.resource_id::text
      INTO v_hold_api_key_id, v_hold_call_source, v_hold_business_code, v_hold_resource_type,
           v_hold_resource_id
      FROM ledger_operations o WHERE o.hold_id = p_hold_id AND o.kind = 'hold';
    v_hold_call_source := coalesce(v_hold_call_source, 'api');  -- no row leaves NULLs
    v_outstanding := v_hold.outstanding;
    <<settlements>>
    FOR n IN 1 .. coalesce(array_length(p_kinds, 1), 0) LOOP
        v_kind := p_kinds[n];
        status := NULL; operation_id := NULL; amount := NULL; other_kind := NULL;
        outstanding := v_outstanding;
        IF p_op_keys[n] = '' THEN
            status := 'no_key'; v_refusal := true; EXIT settlements;
        END IF;
        v_op_id := NULL;
        <<attempt>>
        LOOP
            SELECT o.id, o.kind, o.amount INTO v_earlier
              FROM ledger_operations o WHERE o.account_id = v_hold.account_id AND o.op_key = p_op_keys[n];
            IF FOUND THEN
                amount := v_earlier.amount;
                IF v_earlier.kind <> v_kind OR (p_amounts[n] IS NOT NULL AND v_earlier.amount <> p_amounts[n])
                THEN
                    status := 'conflict'; other_kind := v_earlier.kind; v_refusal := true;
                    EXIT settlements;
                END IF;
                status := 'replayed'; operation_id := v_earlier.id;
                EXIT attempt;
            END IF;
            v_amount := coalesce(p_amounts[n], v_outstanding);
            IF v_amount > v_outstanding THEN
                amount := v_amount; status := 'exceeds'; v_refusal := true; EXIT settlements;
            END IF;
            IF v_kind = 'capture' AND p_attributed[n] THEN
                v_api_key_id := p_api_key_ids[n];
                v_call_source := p_call_sources[n];
                v_business_code := p_business_codes[n];
                v_resource_type := p_resource_types[n];
                v_resource_id := p_resource_ids[n];
            ELSE
                v_api_key_id := v_hold_api_key_id;
                v_call_source := v_hold_call_source;
                v_business_code := v_hold_business_code;
                v_resource_type := v_hold_resource_type;
                v_resource_id := v_hold_resource_id;
            END IF;
            INSERT INTO ledger_operations (account_id, op_key, kind, amount, api_key_id, call_source,
                                           business_code, resource_type, resource_id, hold_id, created_at)
            VALUES (v_hold.account_id, p_op_keys[n], v_kind, v_amount, v_api_key_id, v_call_source,
                    v_business_code, v_resource_type, v_resource_id, p_hold_id, p_now)
            ON CONFLICT (account_id, op_key) DO NOTHING
            RETURNING id INTO v_op_id;
            EXIT attempt WHEN v_op_id IS NOT NULL;
        END LOOP;
        IF status = 'replayed' THEN
            RETURN NEXT;
            CONTINUE settlements;
        END IF;
        v_left := v_amount;
        IF v_kind = 'capture' THEN
            -- Backed credits first, in spending order; the rest is an unlimited account's unbacked part.
            FOR i IN 1 .. v_count LOOP
                EXIT WHEN v_left = 0;
                v_take := least(v_left, a_open[i]);
                CONTINUE WHEN v_take <= 0;
                a_open[i] := a_open[i] - v_take;
                a_captured[i] := a_captured[i] + v_take;
                a_gone[i] := a_gone[i] + v_take;
                INSERT INTO ledger_entries (operation_id, account_id, grant_id, bucket, type, amount, created_at)
                VALUES (v_op_id, v_hold.account_id, a_grants[i], a_buckets[i], 'capture', -v_take, p_now);
                v_left := v_left - v_take;
            END LOOP;
            IF v_left > 0 THEN
                INSERT INTO ledger_entries (operation_id, account_id, grant_id, bucket, type, amount, created_at)
                VALUES (v_op_id, v_hold.account_id, NULL, NULL, 'capture', -v_left, p_now);
            END IF;
            v_captured := v_captured + v_amount;
        ELSE
            v_unbacked := least(v_left, v_outstanding - (SELECT coalesce(sum(x), 0) FROM unnest(a_open) x));
            IF v_unbacked > 0 THEN  -- what no grant backs goes first
                INSERT INTO ledger_entries (operation_id, account_id, grant_id, bucket, type, amount, created_at)
                VALUES (v_op_id, v_hold.account_id, NULL, NULL, 'release', v_unbacked, p_now);
                v_left := v_left - v_unbacked;
            END IF;
            -- Last reserved, first released: reverse spending order.
            FOR i IN REVERSE v_count .. 1 LOOP
                EXIT WHEN v_left = 0;
                v_take := least(v_left, a_open[i]);
                CONTINUE WHEN v_take <= 0;
                a_open[i] := a_open[i] - v_take;
                a_released[i] := a_released[i] + v_take;
                INSERT INTO ledger_entries (operation_id, account_id, grant_id, bucket, type, amount, created_at)
                VALUES (v_op_id, v_hold.account_id, a_grants[i], a_buckets[i], 'release', v_take, p_now);
                IF a_inactive[i] THEN  -- released onto a grant that is no longer active: written off at once
                    INSERT INTO ledger_entries (operation_id, account_id, grant_id, bucket, type, amount,
                                                created_at)
                    VALUES (v_op_id, v_hold.account_id, a_grants[i], a_buckets[i],
                            CASE WHEN a_void[i] THEN 'void' ELSE 'expire' END, -v_take, p_now);
                    a_gone[i] := a_gone[i] + v_take;
                END IF;
                v_left := v_left - v_take;
            END LOOP;
            v_released := v_released + v_amount;
        END IF;
        v_outstanding := v_outstanding - v_amount;
        status := 'created'; operation_id := v_op_id; amount := v_amount; outstanding := v_outstanding;
        RETURN NEXT;
    END LOOP settlements;
    -- The shared rows, once: allocations, grants (locked above), the hold.
    FOR i IN 1 .. v_count LOOP
        IF a_captured[i] <> 0 OR a_released[i] <> 0 THEN
            UPDATE hold_allocations a SET captured = a.captured + a_captured[i],
                   released = a.released + a_released[i]
             WHERE a.id = a_ids[i];
        END IF;
        IF a_gone[i] <> 0 THEN
            UPDATE credit_grants g SET remaining = g.remaining - a_gone[i] WHERE g.id = a_grants[i];
        END IF;
    END LOOP;
    IF v_captured <> 0 OR v_released <> 0 THEN
        UPDATE credit_holds h SET captured = h.captured + v_captured, released = h.released + v_released,
               state = CASE WHEN v_outstanding = 0 THEN 'closed' ELSE h.state END,
               closed_at = CASE WHEN v_outstanding = 0 AND h.state = 'open' THEN p_now ELSE h.closed_at END
         WHERE h.id = p_hold_id;
    END IF;
    IF v_refusal THEN
        RETURN NEXT;  -- the refusal, after what was settled before it
    END IF;
END;
$$;
