"""Consent to be texted: every change goes into the ledger and onto the
patient's timeline, and the contact point keeps the current state."""

from __future__ import annotations

from django.db import transaction

from hub.actions import timeline
from hub.lib import audit, clock
from hub.models import ConsentChange, ContactPoint, Conversation, Event


def set_sms_consent(*, contact_point_id: int, opted_in: bool, source: str, detail: str = "", actor=None,
                    conversation_id: int | None = None, via: str | None = None,
                    ip: str | None = None) -> ConsentChange | None:
    """Record an opt-out or opt-in of SMS for a phone contact point. A
    change to the state it already has is still recorded in the ledger (a
    second STOP is evidence too) but publishes no notice. Audited: by the
    staff member (`actor`, with `via` and `ip`), or as a system change when
    the patient or the provider made it."""
    with transaction.atomic():
        contact = ContactPoint.objects.select_for_update(no_key=True).get(pk=contact_point_id)
        if contact.kind != ContactPoint.Kind.PHONE:
            return None
        changed = contact.sms_opted_out == opted_in
        now = clock.now()
        record = ConsentChange.objects.create(
            practice_id=contact.practice_id, contact_point=contact, channel="sms", opted_in=opted_in,
            source=source, detail=detail[:100], actor=actor, created_at=now,
        )
        if changed:
            contact.sms_opted_out = not opted_in
            contact.save(update_fields=["sms_opted_out"])
            _notice_on_timeline(contact, opted_in, source, detail, conversation_id, actor)
        audit.record(user_id=actor.pk if actor is not None else None, practice_id=contact.practice_id,
                     action="consent.changed", obj=contact, via=via or ("console" if actor is not None else "system"),
                     ip=ip, detail={"channel": "sms", "opted_in": opted_in, "source": source, "changed": changed,
                                    "consent_change": record.pk})
    return record


def _notice_on_timeline(contact: ContactPoint, opted_in: bool, source: str, detail: str,
                        conversation_id: int | None, actor) -> None:
    qs = Conversation.objects.select_for_update(no_key=True).filter(patient_id=contact.patient_id)
    conversation = (qs.filter(pk=conversation_id).first() if conversation_id
                    else qs.exclude(status=Conversation.Status.RESOLVED).first())
    if conversation is None:
        return
    before = timeline.queue_state(conversation)
    why = f" ({detail})" if detail else ""
    text = ("Opted back in to text messages" if opted_in else "Opted out of text messages") + why
    event = timeline.system_notice(conversation, Event.Kind.STATUS, text, author=actor,
                                   data={"action": "consent", "consent": "sms", "opted_in": opted_in, "source": source})
    conversation.save(update_fields=["last_event_seq"])
    conversation.patient  # noqa: B018  (loaded for the payload)
    timeline.publish_changes(conversation, [event], before=before)
