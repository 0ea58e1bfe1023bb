"""Contact-unlock settlement as one function call (PostgreSQL only).

``unlock_settle_items`` does what ``showfloor.server.unlocks.settlement.settle_items`` does on SQLite,
step for step and in the same lock order (items, contacts, hold, grants, task): the guarded item
update, the contact rows, one ``ledger_settle`` call per item (the ledger's own function, the only
writer of ledger tables), the capture links, the task counter, and closing the task when its last
item settles. One statement instead of five, so a worker sends a settlement as a transaction of its
own with no BEGIN/COMMIT round trips (``Database.run_alone``): the hold and task rows every item of a
batch shares are then locked only while the function's last steps run and the commit is written,
instead of across three client round trips (docs/ledger.md, "Settlement in one statement").

A refusal ``ledger_settle`` reports (it cannot happen when items and their keys are as the submission
made them) raises, so nothing of the settlement stays; the worker logs it and the item's lease expires,
as with any other settlement error. Items of more than one task raise SQLSTATE 22023.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SETTLE_ITEMS = r"""
CREATE OR REPLACE FUNCTION unlock_settle_items(
    p_ids bigint[], p_statuses text[], p_values text[], p_errors text[], p_now timestamptz,
    OUT settled integer, OUT items_left integer)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_ids bigint[] := '{}';
    v_people bigint[] := '{}';
    v_statuses text[] := '{}';
    v_values text[] := '{}';
    v_contacts bigint[] := '{}';  -- by position in v_ids: the contact row recorded for the item
    v_item_task bigint;
    v_person bigint;
    v_task_id bigint;
    v_account_id bigint;
    v_api_key_id bigint;
    v_kind text;
    v_call_source text;
    v_business_code text;
    v_price bigint;
    v_hold_id bigint;
    v_at integer;
    v_contact bigint;
    v_key text;
    v_res record;
BEGIN
    -- The guard, item by item in the caller's id order (one lock order): only an item still unsettled
    -- takes its outcome, so of two racing settlements of an item exactly one gets the row.
    FOR n IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
        UPDATE unlock_task_items AS i
           SET status = p_statuses[n], value = coalesce(p_values[n], i.value),
               error_code = coalesce(p_errors[n], i.error_code), settled_at = p_now
         WHERE i.id = p_ids[n] AND i.status NOT IN ('unlocked', 'failed')
        RETURNING i.task_id, i.personnel_id INTO v_item_task, v_person;
        CONTINUE WHEN NOT FOUND;
        IF v_task_id IS NULL THEN
            v_task_id := v_item_task;
        ELSIF v_item_task <> v_task_id THEN
            RAISE EXCEPTION 'unlock_settle_items takes items of one task' USING ERRCODE = '22023';
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
      INTO v_account_id, v_api_key_id, v_kind, v_call_source, v_business_code, v_price, v_hold_id
      FROM unlock_tasks t WHERE t.id = v_task_id;

    -- Delivered contacts, people in id order; a person the account already has is not recorded again
    -- (delivered to it before, by another task): the item shows the value the account has.
    FOR v_at IN SELECT s.n FROM generate_subscripts(v_people, 1) AS s(n) ORDER BY v_people[s.n] LOOP
        CONTINUE WHEN v_statuses[v_at] <> 'unlocked';
        INSERT INTO contact_unlocks (account_id, personnel_id, kind, value, operation_id, created_at)
        VALUES (v_account_id, v_people[v_at], v_kind, v_values[v_at], NULL, p_now)
        ON CONFLICT (account_id, personnel_id, kind) DO NOTHING
        RETURNING id INTO v_contact;
        IF FOUND THEN
            v_contacts[v_at] := v_contact;
        ELSE
            UPDATE unlock_task_items AS i SET value = coalesce(
                (SELECT nullif(c.value, '') FROM contact_unlocks c
                  WHERE c.account_id = v_account_id AND c.personnel_id = v_people[v_at] AND c.kind = v_kind),
                i.value)
             WHERE i.id = v_ids[v_at];
        END IF;
    END LOOP;

    IF v_hold_id IS NOT NULL THEN  -- a free action (price 0) holds nothing
        FOR n IN 1 .. settled LOOP
            v_key := 'task:' || v_task_id || ':item:' || v_ids[n];
            IF v_contacts[n] IS NOT NULL THEN
                SELECT r.status, r.operation_id INTO v_res
                  FROM ledger_settle('capture', v_hold_id, v_price, v_key || ':capture', p_now,
                                     v_account_id, v_api_key_id, v_call_source, v_business_code,
                                     'contact_' || v_kind, v_people[n]::text) AS r;
            ELSE  -- not delivered, or delivered to this account before: never charged twice
                SELECT r.status, r.operation_id INTO v_res
                  FROM ledger_settle('release', v_hold_id, v_price, v_key || ':release', p_now,
                                     NULL, NULL, NULL, NULL, NULL, NULL) AS r;
            END IF;
            IF v_res.status NOT IN ('created', 'replayed') THEN
                RAISE EXCEPTION 'ledger_settle refused % of item %: %', v_key, v_ids[n], v_res.status;
            END IF;
            IF v_contacts[n] IS NOT NULL THEN  -- the capture that paid for the item and the contact
                UPDATE unlock_task_items SET operation_id = v_res.operation_id WHERE id = v_ids[n];
                UPDATE contact_unlocks SET operation_id = v_res.operation_id WHERE id = v_contacts[n];
            END IF;
        END LOOP;
    END IF;

    -- The row-locking decrement, last: of two concurrent last settlements, the second sees the first's.
    UPDATE unlock_tasks AS t SET items_left = t.items_left - settled
     WHERE t.id = v_task_id RETURNING t.items_left INTO items_left;
    IF items_left = 0 THEN
        PERFORM unlock_finish_task(v_task_id, p_now);
    END IF;
END;
$$;
"""

# Close a task: release what its hold still has, free the intent key, set the final status ("failed"
# only when the provider failed every item). The Python path is ``settlement.finish_task``.
FINISH_TASK = r"""
CREATE OR REPLACE FUNCTION unlock_finish_task(p_task_id bigint, p_now timestamptz) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_status text;
    v_hold_id bigint;
    v_item_count integer;
    v_outstanding bigint;
    v_failed integer;
    v_res record;
BEGIN
    SELECT t.status, t.hold_id, t.item_count INTO v_status, v_hold_id, v_item_count
      FROM unlock_tasks t WHERE t.id = p_task_id FOR UPDATE;
    IF NOT FOUND OR v_status <> 'open' THEN
        RETURN;
    END IF;
    IF v_hold_id IS NOT NULL THEN
        SELECT h.amount - h.captured - h.released INTO v_outstanding
          FROM credit_holds h WHERE h.id = v_hold_id;
        IF v_outstanding > 0 THEN
            SELECT r.status INTO v_res
              FROM ledger_settle('release', v_hold_id, NULL, 'unlock-task:' || p_task_id || ':final-release',
                                 p_now, NULL, NULL, NULL, NULL, NULL, NULL) AS r;
            IF v_res.status NOT IN ('created', 'replayed') THEN
                RAISE EXCEPTION 'ledger_settle refused the final release of task %: %', p_task_id,
                    v_res.status;
            END IF;
        END IF;
    END IF;
    SELECT count(*) INTO v_failed FROM unlock_task_items i
     WHERE i.task_id = p_task_id AND i.status = 'failed'
       AND i.error_code NOT IN ('NO_EMAIL', 'NO_PHONE', 'INELIGIBLE');
    UPDATE unlock_tasks SET status = CASE WHEN v_failed = v_item_count THEN 'failed' ELSE 'completed' END,
           open_intent_key = NULL, finished_at = p_now
     WHERE id = p_task_id;
END;
$$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite keeps the Python path (its write unit already serialises every writer)
    for sql in (FINISH_TASK, SETTLE_ITEMS):
        op.execute(sa.text(sql.replace(":", r"\:")))  # the operation keys' colons are not bind parameters


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS unlock_settle_items(bigint[], text[], text[], text[], timestamptz)")
    op.execute("DROP FUNCTION IF EXISTS unlock_finish_task(bigint, timestamptz)")
