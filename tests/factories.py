"""Small helpers to put inbound events into the hub the way channels do."""

import itertools

from hub.actions.ingest import InboundEvent, ingest

_ids = itertools.count(1)


def inbound(practice, *, phone="+15555550101", body="Hello", provider_id=None, channel="api", **extra):
    return ingest(InboundEvent(
        practice_id=practice.pk, channel=channel, provider_id=provider_id or f"test-{next(_ids)}",
        contact_kind="phone", contact_address=phone, body=body, **extra,
    ))
