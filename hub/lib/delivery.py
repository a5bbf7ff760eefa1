"""Delivery status of outbound messages only moves forward.

Providers report statuses out of order and more than once (Twilio documents
both), so a late `sent` must never overwrite `delivered`, and a terminal state
sticks.
"""

RANK = {
    "": -1,
    "pending": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "read": 5,
}
TERMINAL_FAILURES = {"undelivered", "failed"}


def can_advance(current: str, new: str) -> bool:
    if new not in RANK:
        return False
    if current in TERMINAL_FAILURES:
        return False
    if current in ("delivered", "read") and new in TERMINAL_FAILURES:
        return False
    return RANK[new] > RANK.get(current, -1)
