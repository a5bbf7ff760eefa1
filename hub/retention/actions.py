"""Changing a practice's retention policy and its legal holds. Every change
writes an audit row (ids and numbers of days, never the hold's reason,
which may name people)."""

from __future__ import annotations

from django.db import transaction

from hub.lib import audit, clock
from hub.models import Conversation
from hub.retention.models import LegalHold, RetentionPolicy


def hold_target(hold: LegalHold) -> dict:
    return {"patient": hold.patient_id} if hold.patient_id is not None else {"conversation": hold.conversation_id}


def hold_patient_id(hold: LegalHold) -> int | None:
    """The patient whose data the hold keeps (for the audit trail's patient index)."""
    if hold.patient_id is not None:
        return hold.patient_id
    return Conversation.objects.filter(pk=hold.conversation_id).values_list("patient_id", flat=True).first()


class AlreadyHeld(Exception):
    pass


class AlreadyReleased(Exception):
    pass


def change_policy(practice_id: int, user, days: dict[str, int | None], *, via: str, ip: str | None = None) -> bool:
    """Set the practice's days per kind ({"message_days": 365, ...}; None
    keeps forever). False when nothing changed (no audit row then)."""
    with transaction.atomic():
        policy, _ = RetentionPolicy.objects.select_for_update(no_key=True).get_or_create(practice_id=practice_id)
        before = {name: getattr(policy, name) for name in days}
        if before == days:
            return False
        for name, value in days.items():
            setattr(policy, name, value)
        policy.updated_at, policy.updated_by = clock.now(), user
        policy.full_clean(exclude=["practice", "updated_by"])
        policy.save()
        audit.record(user_id=user.pk, practice_id=practice_id, action="retention.policy_changed", obj=policy,
                     via=via, ip=ip, detail={"before": before, "after": days})
    return True


def place_hold(practice_id: int, user, *, reason: str, patient_id: int | None = None,
               conversation_id: int | None = None, via: str, ip: str | None = None) -> LegalHold:
    """Hold a patient's data (all their conversations) or one conversation.
    The caller has checked the target is in `practice_id`."""
    with transaction.atomic():
        # The purge reads holds under this lock: a batch under way finishes
        # first, and every later batch sees the hold.
        RetentionPolicy.objects.get_or_create(practice_id=practice_id)
        RetentionPolicy.objects.select_for_update(no_key=True).get(practice_id=practice_id)
        active = LegalHold.objects.filter(practice_id=practice_id, released_at__isnull=True,
                                          patient_id=patient_id, conversation_id=conversation_id)
        if active.exists():
            raise AlreadyHeld()
        hold = LegalHold.objects.create(practice_id=practice_id, patient_id=patient_id, conversation_id=conversation_id,
                                        reason=reason, placed_by=user, placed_at=clock.now())
        audit.record(user_id=user.pk, practice_id=practice_id, action="legal_hold.placed", obj=hold, via=via,
                     ip=ip, detail=hold_target(hold), patient_id=hold_patient_id(hold))
    return hold


def release_hold(practice_id: int, hold_id: int, user, *, via: str, ip: str | None = None) -> LegalHold:
    """Release an active hold; the next purge treats its data like any other.
    Raises LegalHold.DoesNotExist (not in this practice) or AlreadyReleased."""
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update(no_key=True).get(practice_id=practice_id, pk=hold_id)
        if hold.released_at is not None:
            raise AlreadyReleased()
        hold.released_at, hold.released_by = clock.now(), user
        hold.save(update_fields=["released_at", "released_by"])
        audit.record(user_id=user.pk, practice_id=practice_id, action="legal_hold.released", obj=hold, via=via,
                     ip=ip, detail=hold_target(hold), patient_id=hold_patient_id(hold))
    return hold
