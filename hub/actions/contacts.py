"""New ways to reach a patient."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction

from hub.actions import consent
from hub.lib import clock
from hub.models import ConsentChange, ContactPoint, Patient


@dataclass(frozen=True)
class WebVisitor:
    patient: Patient
    visitor_id: str
    phone_linked: bool  # the number given is now this patient's
    phone_known: bool  # the number given already belongs to another patient record


def register_web_visitor(practice_id: int, *, first_name: str, phone: str = "", sms_consent: bool = False) -> WebVisitor:
    """A website visitor starting a chat. A mobile number they give is
    linked to them only if no patient record has it yet: the widget does not
    verify it, so it must never open someone else's history. A number that
    is already known stays where it is; the conversation notes it."""
    with transaction.atomic():
        patient = Patient.objects.create(practice_id=practice_id, first_name=first_name[:100], web_chat=True)
        visitor_id = uuid.uuid4().hex
        ContactPoint.objects.create(practice_id=practice_id, patient=patient, kind=ContactPoint.Kind.WEB,
                                    address=visitor_id, last_seen_at=clock.now())
        linked = known = False
        if phone:
            existing = ContactPoint.objects.filter(practice_id=practice_id, kind=ContactPoint.Kind.PHONE,
                                                   address=phone).first()
            if existing is None:
                contact = ContactPoint.objects.create(practice_id=practice_id, patient=patient,
                                                      kind=ContactPoint.Kind.PHONE, address=phone)
                linked = True
                if sms_consent:
                    consent.set_sms_consent(contact_point_id=contact.pk, opted_in=True,
                                            source=ConsentChange.Source.WIDGET, detail="web chat form")
            else:
                known = True
    return WebVisitor(patient=patient, visitor_id=visitor_id, phone_linked=linked, phone_known=known)


def visitor_left(patient_id: int, *, left_at) -> bool:
    """A chat visitor closed the page (no widget of theirs has been
    connected for a while) while waiting for the practice. On the thread,
    so the agent knows a reply may be read later or not at all, and for the
    abandonment figures (docs/kpi.md). Once per wait; nothing if they are
    not waiting or not on chat."""
    from hub.actions import timeline
    from hub.models import Conversation, Event

    with transaction.atomic():
        conversation = (Conversation.objects.select_for_update(no_key=True, of=("self",)).select_related("patient")
                        .filter(patient_id=patient_id).exclude(status=Conversation.Status.RESOLVED).first())
        if conversation is None or conversation.waiting_since is None or conversation.channel != "web":
            return False
        if conversation.waiting_since > left_at:
            return False  # they wrote again after the socket closed
        if Event.objects.filter(conversation=conversation, created_at__gte=conversation.waiting_since,
                                data__action="visitor_left").exists():
            return False
        before = timeline.queue_state(conversation)
        event = timeline.system_notice(conversation, Event.Kind.STATUS, "The patient left the chat", data={
            "action": "visitor_left", "left_at": left_at.isoformat()})
        conversation.save(update_fields=["last_event_seq"])
        timeline.publish_changes(conversation, [event], before=before)
    return True
