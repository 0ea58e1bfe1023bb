-- ledger_spend: a debit or a hold, on PostgreSQL, in one round trip.
-- The Python twin is ``showfloor.server.ledger.spending`` (SQLite runs it); the rules are the same, step for
-- step: lock the account (unless the caller already holds the lock), replay by operation key, lock the
-- active grants by id, read their free credits (remaining - outstanding allocations, read after the lock so
-- a capture or release that committed while we waited is seen whole), refuse what the account cannot pay
-- (never an unlimited account), then what the API key's spend caps refuse (a capped key's counter rows of
-- the current UTC day and month, created at 0 and locked after the grants: status ``cap_exceeded`` with the
-- period, cap and spent, day first), then spend in spending order: subscription, addon, gift; earliest
-- expiry first, never-expiring last; then creation, then id. The counters count the spend; ``caps_reached``
-- names the periods whose cap it reached exactly ('day', 'month', 'day,month'). A debit lowers each grant's ``remaining``; a hold
-- reserves through one allocation per grant. An unlimited account's shortfall is recorded against no grant.
-- Business refusals are returned as ``status``, never raised, so the caller's transaction stays usable.
-- Installed by migration 0011 from this file; tests/integration/test_ledger_sql.py checks the database
-- holds exactly this text.
CREATE OR REPLACE FUNCTION ledger_spend(
    p_kind text, p_account_id bigint, p_amount bigint, p_op_key text, p_now timestamptz,
    p_api_key_id bigint, p_call_source text, p_business_code text,
    p_resource_type text, p_resource_id text, p_account_locked boolean,
    OUT status text, OUT operation_id bigint, OUT hold_id bigint, OUT amount bigint,
    OUT other_kind text, OUT available bigint,
    OUT cap_period text, OUT cap_limit bigint, OUT cap_spent bigint, OUT caps_reached text)
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
    v_daily_cap bigint;
    v_monthly_cap bigint;
    v_periods text[] := ARRAY['day', 'month'];
    v_starts date[];
    v_caps bigint[];
    v_spents bigint[];
    v_spent bigint;
BEGIN
    IF p_account_locked THEN
        SELECT a.unlimited INTO v_unlimited FROM accounts a WHERE a.id = p_account_id;
    ELSE
        SELECT a.unlimited INTO v_unlimited FROM accounts a WHERE a.id = p_account_id FOR UPDATE;
    END IF;
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
        v_spents := ARRAY[NULL, NULL]::bigint[];
        IF p_api_key_id IS NOT NULL THEN
            SELECT c.daily_cap, c.monthly_cap INTO v_daily_cap, v_monthly_cap
              FROM api_key_spend_caps c WHERE c.api_key_id = p_api_key_id;
            IF FOUND THEN
                v_caps := ARRAY[v_daily_cap, v_monthly_cap];
                v_starts := ARRAY[(p_now AT TIME ZONE 'UTC')::date,
                                  date_trunc('month', p_now AT TIME ZONE 'UTC')::date];
                FOR i IN 1 .. 2 LOOP
                    CONTINUE WHEN v_caps[i] IS NULL;
                    INSERT INTO api_key_spend_counters (api_key_id, period, period_start, spent)
                    VALUES (p_api_key_id, v_periods[i], v_starts[i], 0) ON CONFLICT DO NOTHING;
                    SELECT s.spent INTO v_spent FROM api_key_spend_counters s
                     WHERE s.api_key_id = p_api_key_id AND s.period = v_periods[i] AND s.period_start = v_starts[i]
                       FOR UPDATE;
                    IF v_spent + p_amount > v_caps[i] THEN
                        status := 'cap_exceeded'; cap_period := v_periods[i]; cap_limit := v_caps[i];
                        cap_spent := v_spent; RETURN;
                    END IF;
                    v_spents[i] := v_spent;
                END LOOP;
            END IF;
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
        -- Another transaction recorded the key meanwhile: undo the hold row and read its operation.
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
    FOR i IN 1 .. 2 LOOP
        CONTINUE WHEN v_spents[i] IS NULL;
        UPDATE api_key_spend_counters s SET spent = s.spent + p_amount
         WHERE s.api_key_id = p_api_key_id AND s.period = v_periods[i] AND s.period_start = v_starts[i];
        IF v_spents[i] + p_amount = v_caps[i] THEN
            caps_reached := concat_ws(',', caps_reached, v_periods[i]);
        END IF;
    END LOOP;
    status := 'created'; operation_id := v_op_id; hold_id := v_hold_id; amount := p_amount;
END;
$$;
