-- ledger_settle: captures and releases of ONE hold, in order, on PostgreSQL, in one round trip.
-- The Python twin is ``showfloor.server.ledger.holds`` (SQLite runs it); the rules are the same, step for
-- step. Lock order: the hold, the account (KEY SHARE, as the operation rows' foreign key will take it),
-- then every grant of the hold by id (once, so later settlements of the batch take no lock out of order):
-- the account before grants, as in ledger_spend. Each settlement n has its own operation key (a replayed key writes nothing;
-- the same key for another operation is a conflict). A capture spends the hold's outstanding credits from
-- its allocations in spending order (an expired grant's reserved credits stay capturable); the rest of an
-- unlimited account's hold, backed by no grant, is captured against no grant. A release gives credits back
-- unbacked part first, then allocations in reverse spending order; credits released onto a grant that is no
-- longer active are written off at once (``expire`` or ``void`` entry). The hold closes when nothing is
-- outstanding. A capture is attributed as given (p_attributed[n]) or like the hold; a release like the hold.
-- One row is returned per settlement; a refusal (not_found, foreign, no_key, conflict, exceeds) is returned
-- as the last row, never raised, and the caller rolls its transaction back.
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
    v_alloc record;
    v_grant record;
    v_amount bigint;
    v_op_id bigint;
    v_left bigint;
    v_take bigint;
    v_backed bigint;
    v_unbacked bigint;
    v_alloc_ids bigint[];
    v_alloc_takes bigint[];
    v_grant_ids bigint[];
    v_grant_takes bigint[];
    v_entry_grants bigint[];
    v_entry_buckets text[];
    v_entry_types text[];
    v_entry_amounts bigint[];
    v_captures bigint;
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
    -- The hold's own attribution, for releases and unattributed captures (scalar variables, not a record:
    -- a record's field types could differ between calls and break the cached plans).
    SELECT o.api_key_id, coalesce(o.call_source, 'api')::text, o.business_code::text,
           o.resource_type::text, o.resource_id::text
      INTO v_hold_api_key_id, v_hold_call_source, v_hold_business_code, v_hold_resource_type,
           v_hold_resource_id
      FROM ledger_operations o WHERE o.hold_id = p_hold_id AND o.kind = 'hold';
    v_hold_call_source := coalesce(v_hold_call_source, 'api');  -- no row leaves NULLs
    v_outstanding := v_hold.outstanding;
    FOR n IN 1 .. coalesce(array_length(p_kinds, 1), 0) LOOP
        v_kind := p_kinds[n];
        status := NULL; operation_id := NULL; amount := NULL; other_kind := NULL;
        outstanding := v_outstanding;
        IF p_op_keys[n] = '' THEN
            status := 'no_key'; RETURN NEXT; RETURN;
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
                    status := 'conflict'; other_kind := v_earlier.kind; RETURN NEXT; RETURN;
                END IF;
                status := 'replayed'; operation_id := v_earlier.id;
                EXIT attempt;
            END IF;
            v_amount := coalesce(p_amounts[n], v_outstanding);
            IF v_amount > v_outstanding THEN
                amount := v_amount; status := 'exceeds'; RETURN NEXT; RETURN;
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
            CONTINUE;
        END IF;
        v_alloc_ids := '{}'; v_alloc_takes := '{}'; v_grant_ids := '{}'; v_grant_takes := '{}';
        v_entry_grants := '{}'; v_entry_buckets := '{}'; v_entry_types := '{}'; v_entry_amounts := '{}';
        v_left := v_amount;
        IF v_kind = 'capture' THEN
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
            v_unbacked := least(v_left, v_outstanding - v_backed);  -- released first
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
                IF v_grant.voided_at IS NOT NULL OR (v_grant.expires_at IS NOT NULL AND v_grant.expires_at <= p_now)
                THEN
                    -- Released onto a grant that is no longer active: written off at once.
                    v_entry_grants := v_entry_grants || v_grant_ids[i];
                    v_entry_buckets := v_entry_buckets || v_grant.bucket;
                    v_entry_types := v_entry_types
                        || (CASE WHEN v_grant.voided_at IS NOT NULL THEN 'void' ELSE 'expire' END);
                    v_entry_amounts := v_entry_amounts || -v_alloc_takes[i];
                    v_grant_takes := v_grant_takes || v_alloc_takes[i];
                ELSE
                    v_grant_takes := v_grant_takes || 0::bigint;
                END IF;
            END LOOP;
        END IF;
        FOR i IN 1 .. coalesce(array_length(v_entry_amounts, 1), 0) LOOP
            INSERT INTO ledger_entries (operation_id, account_id, grant_id, bucket, type, amount, created_at)
            VALUES (v_op_id, v_hold.account_id, v_entry_grants[i], v_entry_buckets[i], v_entry_types[i],
                    v_entry_amounts[i], p_now);
        END LOOP;
        FOR i IN 1 .. coalesce(array_length(v_grant_ids, 1), 0) LOOP
            CONTINUE WHEN v_grant_takes[i] = 0;
            UPDATE credit_grants g SET remaining = g.remaining - v_grant_takes[i] WHERE g.id = v_grant_ids[i];
        END LOOP;
        -- One shape for both kinds: a capture adds to ``captured``, a release to ``released``.
        v_captures := CASE WHEN v_kind = 'capture' THEN 1 ELSE 0 END;
        FOR i IN 1 .. coalesce(array_length(v_alloc_ids, 1), 0) LOOP
            UPDATE hold_allocations a SET captured = a.captured + v_captures * v_alloc_takes[i],
                   released = a.released + (1 - v_captures) * v_alloc_takes[i]
             WHERE a.id = v_alloc_ids[i];
        END LOOP;
        v_outstanding := v_outstanding - v_amount;
        UPDATE credit_holds h SET captured = h.captured + v_captures * v_amount,
               released = h.released + (1 - v_captures) * v_amount,
               state = CASE WHEN v_outstanding = 0 THEN 'closed' ELSE h.state END,
               closed_at = CASE WHEN v_outstanding = 0 AND h.state = 'open' THEN p_now ELSE h.closed_at END
         WHERE h.id = p_hold_id;
        status := 'created'; operation_id := v_op_id; amount := v_amount; outstanding := v_outstanding;
        RETURN NEXT;
    END LOOP;
END;
$$;
