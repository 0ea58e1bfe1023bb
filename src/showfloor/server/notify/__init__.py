"""Outbound events: the transactional outbox, expiry notices and signed webhook delivery.

- ``events.emit(session, account_id, event_type, data)``: the one call an emission site makes, in the
  transaction of the change it reports (``hooks`` shapes the payload of each type emitted today).
- ``notices``: ``credits.expiring`` before a grant expires (a periodic job).
- ``endpoints``: the account's webhook endpoints, as ``/external/webhooks`` manages them.
- ``outbox`` (database steps), ``sender`` (one HTTP attempt, no database), ``worker`` (the loop).
- ``targets``: URL and address rules; ``signing``: secrets and Standard Webhooks signatures.

See docs/webhooks.md.
"""
