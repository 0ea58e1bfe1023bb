"""``Idempotency-Key`` support for paid POSTs (see docs/paid-actions.md, "Idempotency keys")."""
