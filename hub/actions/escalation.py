"""Urgent symptoms: a red-flag phrase in what a patient writes (or says in a
voicemail) puts the conversation at the top of the clinical queue, alerts
supervisors, and, unless negated or already done within the hour, sends
the patient a safety message on their channel at once."""

from __future__ import annotations

import time
from datetime import timedelta

from django.db import transaction

from hub.actions import timeline
from hub.lib import clock, directory, redflags
from hub.lib.event_types import AlertOut
from hub.lib.events import practice_stream, publish
from hub.models import Conversation, Department, Event, RedFlagPhrase

SAFETY_911 = ("If this is a medical emergency, call 911 now or go to the nearest emergency room. "
              "A nurse from our team has been alerted to your message.")
SAFETY_988 = ("If you are thinking about suicide or hurting yourself, please call or text 988 now "
              "(Suicide & Crisis Lifeline, 24/7), or call 911. You are not alone. "
              "A nurse from our team has been alerted to your message.")
SAFETY_EVERY = timedelta(hours=1)


_cache: dict[int, tuple[float, list]] = {}
CACHE_SECONDS = 30.0


def phrases(practice_id: int) -> tuple[tuple[str, str], ...]:
    """The practice's phrases (the defaults if it has none). Every inbound
    message is checked, so the list is read at most every 30 s per process."""
    loaded = _cache.get(practice_id)
    if loaded is None or time.monotonic() - loaded[0] > CACHE_SECONDS:
        rows = list(RedFlagPhrase.objects.in_practice(practice_id).filter(active=True)
                    .values_list("phrase", "category"))
        loaded = (time.monotonic(), tuple(rows) or tuple(redflags.DEFAULT_PHRASES))
        _cache[practice_id] = loaded
    return loaded[1]


def flags_in(practice_id: int, text: str) -> list[redflags.Flag]:
    return redflags.find(text, phrases(practice_id)) if text else []


def check(conversation: Conversation, event: Event, flags: list[redflags.Flag]) -> list[Event]:
    """Inside the ingest transaction, the conversation locked: act on the
    flags found in `event`. Returns the timeline events it added (the caller
    publishes them)."""
    if not flags:
        return []
    now = clock.now()
    serious = redflags.most_serious(flags)
    shown = serious or flags[0]
    conversation.urgent = True
    conversation.priority = Conversation.Priority.URGENT
    moved_to = None
    current = Department.objects.filter(pk=conversation.department_id).values_list("is_clinical", flat=True).first()
    if not current:
        clinical = Department.objects.in_practice(conversation.practice_id).filter(is_clinical=True).first()
        if clinical is not None:
            conversation.department_id = clinical.pk
            conversation.assignee = None
            conversation.status = Conversation.Status.QUEUED
            moved_to = clinical.name
            conversation.routing_reason = f"Urgent symptom: moved to {clinical.name}"[:200]
    negated = " (negated: a nurse should still look)" if serious is None else ""
    text_line = f"Urgent: \"{shown.phrase}\" ({shown.category}){negated}"
    if moved_to:
        text_line += f"; moved to {moved_to}"
    reply = serious is not None and not _safety_sent_recently(conversation, now)
    notice = timeline.system_notice(conversation, Event.Kind.SYSTEM, text_line, at=now, data={
        "action": "escalated", **({"department_id": conversation.department_id, "assignee_id": None} if moved_to else {}),
        "red_flags": [{"phrase": f.phrase, "category": f.category, "negated": f.negated} for f in flags],
        "event_id": event.pk, "safety_reply": reply})
    publish(([practice_stream(conversation.practice_id)], "alert.created", AlertOut(
        kind="urgent", conversation_id=conversation.pk, patient_name=conversation.patient.display_name,
        department_id=conversation.department_id,
        department_name=directory.department_name(conversation.practice_id, conversation.department_id),
        text=text_line, created_at=now)))
    if reply:
        body = SAFETY_988 if serious.crisis_line else SAFETY_911
        conversation_id, channel = conversation.pk, _reply_channel(conversation, event)
        if channel:
            from hub.actions import outbound

            transaction.on_commit(lambda: outbound.send_automatic(conversation_id, body, channel=channel,
                                                                  reason="safety"))
    return [notice]


def _reply_channel(conversation: Conversation, event: Event) -> str | None:
    """The patient's channel; a voicemail is answered by text."""
    return "sms" if event.channel == "voice" else event.channel


def _safety_sent_recently(conversation: Conversation, now) -> bool:
    # The decision is recorded on the notice in the same transaction, so two
    # alarming messages a second apart get one safety reply, not two.
    return Event.objects.filter(patient_id=conversation.patient_id, kind=Event.Kind.SYSTEM,
                                data__safety_reply=True, created_at__gte=now - SAFETY_EVERY).exists()
