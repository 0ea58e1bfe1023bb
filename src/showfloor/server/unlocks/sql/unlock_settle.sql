-- unlock_settle: a group of one task's contact-unlock items settled on PostgreSQL, in one round trip.
-- The Python twin is ``showfloor.server.unlocks.settlement.settle_items`` (SQLite runs it); the rules are
-- the same, step for step, in the same lock order (items by id, contacts by person, the hold and its grants,
-- the task): the guarded item update (only an item still unsettled takes its outcome, so of two racing
-- settlements of one item exactly one gets it); the contact rows (a person the account already has is not
-- recorded again: the item shows the value the account has, and is released, never charged twice); ONE
-- ``ledger_settle`` call for the group (a capture per newly recorded contact, a release per other item,
-- keys ``task:{task}:item:{item}:capture|release`` as ``settlement.item_key`` writes them, captures bought
-- as ``contact_{kind}`` + the person); the capture ids onto items and contacts; the task counter last.
-- Closing the task when ``items_left`` reaches 0 is Python's (``settlement.finish_task``), in the same
-- transaction. Items of several tasks raise SQLSTATE 22023; a ledger refusal raises (nothing stays).
-- Installed by migration 0011 from this file; tests/integration/test_ledger_sql.py checks the database
-- holds exactly this text.
CREATE OR REPLACE FUNCTION unlock_settle(
    p_ids bigint[], p_statuses text[], p_values text[], p_errors text[], p_now timestamptz,
    OUT settled integer, OUT items_left integer, OUT task_id bigint)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_ids bigint[] := '{}';
    v_people bigint[] := '{}';
    v_statuses text[] := '{}';
    v_values text[] := '{}';
    v_contacts bigint[] := '{}';  -- by position in v_ids: the contact row recorded for the item
    v_item_task bigint;
    v_person bigint;
    v_task record;
    v_at integer;
    v_contact bigint;
    v_kinds text[] := '{}';
    v_keys text[] := '{}';
    v_attributed boolean[] := '{}';
    v_resource_ids text[] := '{}';
    v_res record;
    v_row integer := 0;
BEGIN
    -- The guard, item by item in the caller's id order (one lock order).
    FOR n IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
        UPDATE unlock_task_items AS i
           SET status = p_statuses[n], value = coalesce(p_values[n], i.value),
               error_code = coalesce(p_errors[n], i.error_code), settled_at = p_now
         WHERE i.id = p_ids[n] AND i.status NOT IN ('unlocked', 'failed')
        RETURNING i.task_id, i.personnel_id INTO v_item_task, v_person;
        CONTINUE WHEN NOT FOUND;
        IF task_id IS NULL THEN
            task_id := v_item_task;
        ELSIF v_item_task <> task_id THEN
            RAISE EXCEPTION 'unlock_settle takes items of one task' USING ERRCODE = '22023';
        END IF;
        v_ids := v_ids || p_ids[n];
        v_people := v_people || v_person;
        v_statuses := v_statuses || p_statuses[n];
        v_values := v_values || p_values[n];
    END LOOP;
    settled := coalesce(array_length(v_ids, 1), 0);
    IF settled = 0 THEN
        RETURN;
    END IF;
    SELECT t.account_id, t.api_key_id, t.kind, t.call_source, t.business_code, t.unit_price, t.hold_id
      INTO v_task FROM unlock_tasks t WHERE t.id = task_id;

    -- Delivered contacts, people in id order.
    FOR v_at IN SELECT s.n FROM generate_subscripts(v_people, 1) AS s(n) ORDER BY v_people[s.n] LOOP
        CONTINUE WHEN v_statuses[v_at] <> 'unlocked';
        INSERT INTO contact_unlocks (account_id, personnel_id, kind, value, operation_id, created_at)
        VALUES (v_task.account_id, v_people[v_at], v_task.kind, v_values[v_at], NULL, p_now)
        ON CONFLICT (account_id, personnel_id, kind) DO NOTHING
        RETURNING id INTO v_contact;
        IF FOUND THEN
            v_contacts[v_at] := v_contact;
        ELSE
            UPDATE unlock_task_items AS i SET value = coalesce(
                (SELECT nullif(c.value, '') FROM contact_unlocks c
                  WHERE c.account_id = v_task.account_id AND c.personnel_id = v_people[v_at]
                    AND c.kind = v_task.kind),
                i.value)
             WHERE i.id = v_ids[v_at];
        END IF;
    END LOOP;

    IF v_task.hold_id IS NOT NULL THEN  -- a free action (price 0) holds nothing
        FOR n IN 1 .. settled LOOP
            IF v_contacts[n] IS NOT NULL THEN
                v_kinds := v_kinds || 'capture'::text;
                v_keys := v_keys || ('task:' || task_id || ':item:' || v_ids[n] || ':capture');
                v_attributed := v_attributed || true;
            ELSE  -- not delivered, or delivered to this account before: never charged twice
                v_kinds := v_kinds || 'release'::text;
                v_keys := v_keys || ('task:' || task_id || ':item:' || v_ids[n] || ':release');
                v_attributed := v_attributed || false;
            END IF;
            v_resource_ids := v_resource_ids || v_people[n]::text;
        END LOOP;
        FOR v_res IN
            SELECT r.status, r.operation_id
              FROM ledger_settle(v_task.hold_id, v_kinds, array_fill(v_task.unit_price::bigint, ARRAY[settled]),
                                 v_keys, p_now, v_task.account_id, v_attributed,
                                 array_fill(v_task.api_key_id::bigint, ARRAY[settled]),
                                 array_fill(v_task.call_source::text, ARRAY[settled]),
                                 array_fill(v_task.business_code::text, ARRAY[settled]),
                                 array_fill(('contact_' || v_task.kind)::text, ARRAY[settled]),
                                 v_resource_ids) AS r
        LOOP
            v_row := v_row + 1;
            IF v_res.status NOT IN ('created', 'replayed') THEN
                RAISE EXCEPTION 'ledger_settle refused % of task %: %', v_keys[v_row], task_id, v_res.status;
            END IF;
            IF v_contacts[v_row] IS NOT NULL THEN  -- the capture that paid for the item and the contact
                UPDATE unlock_task_items SET operation_id = v_res.operation_id WHERE id = v_ids[v_row];
                UPDATE contact_unlocks SET operation_id = v_res.operation_id WHERE id = v_contacts[v_row];
            END IF;
        END LOOP;
    END IF;

    -- The row-locking decrement, last: of two concurrent last settlements, the second sees the first's.
    UPDATE unlock_tasks AS t SET items_left = t.items_left - settled
     WHERE t.id = task_id RETURNING t.items_left INTO items_left;
END;
$$;
