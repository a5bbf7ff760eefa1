"""What agents do with the EHR from a conversation: find the patient,
verify who they are, read their appointments and insurance, and book,
move or cancel appointments.

Rules kept here:
- Nothing clinical or about insurance is shown, and nothing is booked,
  before the person in the conversation has proved who they are (name and
  date of birth, or a code sent by text to the number on the EHR record).
  Before that, candidates are shown masked (initials only), so an agent
  cannot lead the caller.
- The EHR is called outside every database transaction: a slow EHR never
  holds a row lock, and messaging never waits for it.
- Answers are cached briefly (EHR_CACHE_SECONDS); an EHR that times out or
  fails is not called again for EHR_BREAKER_SECONDS, so a down EHR costs
  each agent one timeout, not one per click.
- Every read of EHR data and every change is audited.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from channels_app.registry import UnknownChannel
from hub.actions import outbound, timeline
from hub.actions.errors import ActionError, Conflict, InvalidInput, NotDeliverable, NotFound
from hub.ehr import connection as connections
from hub.ehr.adapter import (
    Appointment, EhrBadResponse, EhrConflict, EhrError, EhrNotFound, EhrNotSupported, EhrPatient, EhrRejected,
    EhrUnavailable, Schedule, Slot,
)
from hub.ehr.models import EhrLink, IdentityCheck
from hub.lib import access, audit, clock
from hub.models import ContactPoint, Conversation, Event, Practice

log = logging.getLogger(__name__)

T = TypeVar("T")

STATUS_OF = {EhrUnavailable: 503, EhrBadResponse: 502, EhrNotSupported: 422, EhrNotFound: 404,
             EhrConflict: 409, EhrRejected: 422}


class EhrActionError(ActionError):
    """An EHR failure as the API answers it."""

    def __init__(self, exc: EhrError):
        super().__init__(exc.message, code=exc.code)
        self.status = STATUS_OF.get(type(exc), 502)


class NotAllowed(ActionError):
    status = 403


class NotVerified(ActionError):
    status = 403

    def __init__(self):
        super().__init__("Verify the patient's identity first.", code="not_verified")


# --- plumbing ---------------------------------------------------------------

def _cache_get(key: str):
    try:
        return cache.get(key)
    except Exception:  # the cache is an optimisation: Redis being down must not matter here
        return None


def _cache_set(key: str, value, seconds: int) -> None:
    try:
        cache.set(key, value, seconds)
    except Exception:
        pass


def _cache_delete(*keys: str) -> None:
    try:
        cache.delete_many(list(keys))
    except Exception:
        pass


def _key(practice_id: int, adapter, name: str) -> str:
    # The EHR's address is part of the key: a changed connection starts afresh.
    # Hashed: names hold spaces and phone numbers, neither belongs in a key.
    digest = hashlib.sha256(f"{adapter.base_url}\n{name}".encode()).hexdigest()[:32]
    return f"ehr:{practice_id}:{digest}"


def _call(practice_id: int, adapter, fn: Callable[[], T], *, cache_key: str = "", seconds: int | None = None) -> T:
    """One EHR call through the practice's breaker and, with a key, the cache."""
    if cache_key:
        hit = _cache_get(_key(practice_id, adapter, cache_key))
        if hit is not None:
            return hit
    down = _cache_get(_key(practice_id, adapter, "down"))
    if down:
        raise EhrUnavailable(down)
    try:
        value = fn()
    except EhrUnavailable as exc:
        _cache_set(_key(practice_id, adapter, "down"), exc.message, settings.EHR_BREAKER_SECONDS)
        raise
    if cache_key:
        _cache_set(_key(practice_id, adapter, cache_key), value,
                   settings.EHR_CACHE_SECONDS if seconds is None else seconds)
    return value


def _adapter(practice_id: int):
    try:
        return connections.adapter_for(practice_id)
    except connections.NotConfigured as exc:
        raise ActionError(str(exc), code="ehr_not_configured") from None


def _audit(viewer, action: str, obj, via: str, ip: str | None, **detail) -> None:
    audit.record(user_id=viewer.user_id, practice_id=viewer.practice_id, action=action, obj=obj, via=via, ip=ip,
                 detail=detail)


def _conversation(viewer, conversation_id: int) -> Conversation:
    try:
        return access.get_conversation(viewer, conversation_id)
    except access.NotVisible:
        raise NotFound("No such conversation.") from None


def _phone_of(conversation: Conversation) -> str:
    point = (ContactPoint.objects.in_practice(conversation.practice_id)
             .filter(patient_id=conversation.patient_id, kind=ContactPoint.Kind.PHONE).order_by("pk").first())
    return point.address if point else ""


def _check(conversation: Conversation) -> IdentityCheck | None:
    return IdentityCheck.objects.filter(conversation_id=conversation.pk).first()


def _verified(viewer, conversation_id: int) -> tuple[Conversation, str, object]:
    """The conversation, its verified patient's EHR id and the practice's
    adapter, for the actions that need a verified patient."""
    conversation = _conversation(viewer, conversation_id)
    check = _check(conversation)
    if check is None or not check.verified:
        raise NotVerified()
    return conversation, check.ehr_patient_id, _adapter(conversation.practice_id)


def _zone(practice_id: int) -> ZoneInfo:
    return ZoneInfo(Practice.objects.values_list("timezone", flat=True).get(pk=practice_id))


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return "an unknown time"
    local = moment.astimezone(zone)
    return f"{local:%A, %B} {local.day} at {local:%I:%M %p}".replace(" 0", " ")


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(folded.casefold().replace("-", " ").split())


def _candidate_token(conversation_id: int, ehr_patient_id: str) -> str:
    """What the console gets instead of a candidate's EHR id: EHR ids can be
    readable ("smith-john-1970"), and candidates are shown masked."""
    message = f"ehr-candidate:{conversation_id}:{ehr_patient_id}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:24]


def _mask(patient: EhrPatient) -> str:
    return " ".join(f"{part[0]}•••" for part in (patient.given, patient.family) if part) or "•••"


# --- reading ----------------------------------------------------------------

def _candidates(practice_id: int, adapter, phone: str) -> list[EhrPatient]:
    if not phone:
        return []
    return _call(practice_id, adapter, lambda: adapter.patients_by_phone(phone), cache_key=f"phone:{phone}")


def _patient_out(p: EhrPatient) -> dict:
    return {"id": p.id, "name": p.name, "given": p.given, "family": p.family, "birth_date": p.birth_date,
            "gender": p.gender, "phones": list(p.phones), "emails": list(p.emails), "address": p.address,
            "mrn": p.mrn}


def _section(practice_id: int, adapter, fn: Callable[[], T], *, cache_key: str) -> tuple[T | None, str]:
    try:
        return _call(practice_id, adapter, fn, cache_key=cache_key), ""
    except EhrError as exc:
        return None, exc.message


def context(viewer, conversation_id: int, *, via: str = "console", ip: str | None = None) -> dict:
    """Everything the console's EHR panel shows for a conversation. EHR
    failures do not fail the call: they come back as `status` "degraded"
    with a message per section, so the panel can say what is missing."""
    conversation = _conversation(viewer, conversation_id)
    practice_id = conversation.practice_id
    out: dict = {"status": "ok", "label": "", "detail": "", "verified": False, "verification": None,
                 "linked": False, "candidates": [], "phone_searched": False, "patient": None,
                 "appointments": None, "appointments_error": "", "coverages": None, "coverages_error": "",
                 "eligibility_supported": None, "attempts_left": settings.EHR_MAX_FAILED_CHECKS,
                 "code_pending": False}
    try:
        adapter = connections.adapter_for(practice_id)
    except connections.NotConfigured as exc:
        out.update(status="not_configured", detail=str(exc))
        return out
    out["label"] = adapter.label
    check = _check(conversation)
    link = EhrLink.objects.in_practice(practice_id).filter(patient_id=conversation.patient_id).first()
    out["linked"] = link is not None
    if check is not None:
        out["attempts_left"] = max(0, settings.EHR_MAX_FAILED_CHECKS - check.failed_attempts)
        out["code_pending"] = bool(check.code_hash) and check.code_expires_at is not None \
            and check.code_expires_at > clock.now()
    if check is None or not check.verified:
        phone = _phone_of(conversation)
        out["phone_searched"] = bool(phone)
        try:
            found = _candidates(practice_id, adapter, phone)
        except EhrError as exc:
            out.update(status="degraded", detail=exc.message)
            return out
        out["candidates"] = [{"id": _candidate_token(conversation.pk, p.id), "label": _mask(p),
                              "linked": bool(link and link.ehr_patient_id == p.id)} for p in found]
        _audit(viewer, "ehr.match_searched", conversation, via, ip, candidates=len(found), by="phone")
        return out

    ehr_id = check.ehr_patient_id
    out["verified"] = True
    out["verification"] = {"method": check.method, "by": check.verified_by.get_full_name() if check.verified_by else "",
                           "at": check.verified_at}
    try:
        patient = _call(practice_id, adapter, lambda: adapter.patient(ehr_id), cache_key=f"patient:{ehr_id}")
    except EhrError as exc:
        out.update(status="degraded", detail=exc.message)
        return out
    out["patient"] = _patient_out(patient)
    since = clock.now() - timedelta(days=365)
    appointments, out["appointments_error"] = _section(
        practice_id, adapter, lambda: adapter.appointments(ehr_id, since), cache_key=f"appointments:{ehr_id}")
    coverages, out["coverages_error"] = _section(
        practice_id, adapter, lambda: adapter.coverages(ehr_id), cache_key=f"coverages:{ehr_id}")
    out["appointments"] = [asdict(a) for a in appointments] if appointments is not None else None
    out["coverages"] = [asdict(c) for c in coverages] if coverages is not None else None
    supported, _ = _section(practice_id, adapter, adapter.supports_eligibility, cache_key="eligibility-supported")
    out["eligibility_supported"] = supported
    if out["appointments_error"] or out["coverages_error"]:
        out.update(status="degraded", detail=out["appointments_error"] or out["coverages_error"])
    _audit(viewer, "ehr.record_viewed", conversation, via, ip, ehr_patient=ehr_id)
    return out


# --- verification -----------------------------------------------------------

def _open_check(conversation: Conversation) -> IdentityCheck:
    check, _ = IdentityCheck.objects.get_or_create(
        conversation_id=conversation.pk,
        defaults={"practice_id": conversation.practice_id, "patient_id": conversation.patient_id})
    if check.verified:
        raise Conflict("This conversation's patient is already verified.", code="already_verified")
    if check.failed_attempts >= settings.EHR_MAX_FAILED_CHECKS:
        raise Conflict("Too many failed verification attempts in this conversation. Do not disclose anything; "
                       "ask a supervisor.", code="verification_locked")
    return check


def _failed(viewer, conversation: Conversation, check_pk: int, via: str, ip: str | None, method: str,
            message: str) -> ActionError:
    with transaction.atomic():
        check = IdentityCheck.objects.select_for_update(no_key=True).get(pk=check_pk)
        check.failed_attempts += 1
        check.save(update_fields=["failed_attempts"])
        _audit(viewer, "ehr.verification_failed", conversation, via, ip, method=method,
               failed_attempts=check.failed_attempts)
    left = max(0, settings.EHR_MAX_FAILED_CHECKS - check.failed_attempts)
    return InvalidInput(f"{message} {left} attempt{'s' if left != 1 else ''} left.", code="not_matched")


def _names_match(patient: EhrPatient, given: str, family: str) -> bool:
    first = _plain(patient.given).split()[:1]
    return _plain(patient.family) == _plain(family) and first == _plain(given).split()[:1]


def verify_details(viewer, conversation_id: int, *, given: str, family: str, birth_date: date,
                   via: str = "console", ip: str | None = None) -> dict:
    """The person gave their name and date of birth: do they match one EHR
    patient (preferring one reached at this conversation's phone)?"""
    given, family = (given or "").strip(), (family or "").strip()
    if not given or not family:
        raise InvalidInput("Enter the first and last name the patient gives.", code="invalid")
    if birth_date > clock.now().date():
        raise InvalidInput("The date of birth is in the future.", code="invalid")
    conversation = _conversation(viewer, conversation_id)
    check = _open_check(conversation)
    adapter = _adapter(conversation.practice_id)
    practice_id = conversation.practice_id
    try:
        by_details = _call(practice_id, adapter, lambda: adapter.patients_by_details(family, birth_date))
        by_phone = _candidates(practice_id, adapter, _phone_of(conversation))
    except EhrError as exc:
        raise EhrActionError(exc) from None
    matches = {p.id: p for p in [*by_details, *by_phone]
               if p.birth_date == birth_date and _names_match(p, given, family)}
    if len(matches) > 1:
        phone_ids = {p.id for p in by_phone}
        preferred = [p for p in matches.values() if p.id in phone_ids]
        if len(preferred) != 1:
            raise Conflict("More than one EHR patient has this name and date of birth. Verify with a code sent by "
                           "text, or check the record in the EHR.", code="ambiguous")
        matches = {preferred[0].id: preferred[0]}
    if not matches:
        raise _failed(viewer, conversation, check.pk, via, ip, IdentityCheck.Method.DETAILS,
                      "Those details do not match an EHR patient. Do not disclose anything.")
    (patient,) = matches.values()
    _mark_verified(viewer, conversation.pk, patient, IdentityCheck.Method.DETAILS, via, ip)
    return context(viewer, conversation_id, via=via, ip=ip)


def reset_attempts(viewer, conversation_id: int, *, via: str = "console", ip: str | None = None) -> dict:
    """A supervisor, having looked into it, allows new verification attempts
    in a conversation that ran out of them."""
    if not viewer.may_supervise:
        raise NotAllowed("Only a supervisor can allow new verification attempts.", code="forbidden")
    with transaction.atomic():
        conversation = access.get_conversation(viewer, conversation_id, for_update=True)
        check = IdentityCheck.objects.select_for_update(no_key=True).filter(conversation_id=conversation.pk).first()
        if check is None or check.verified or check.failed_attempts == 0:
            raise Conflict("There are no failed attempts to clear.", code="nothing_to_reset")
        failed, check.failed_attempts, check.code_hash = check.failed_attempts, 0, ""
        check.save(update_fields=["failed_attempts", "code_hash"])
        before = timeline.queue_state(conversation)
        event = timeline.system_notice(conversation, Event.Kind.SYSTEM,
                                       f"Verification attempts cleared by {viewer.display_name}",
                                       author=viewer.user, data={"ehr": "verification_reset"})
        conversation.save(update_fields=["last_event_seq"])
        timeline.publish_changes(conversation, [event], before=before)
        _audit(viewer, "ehr.verification_reset", conversation, via, ip, failed_attempts=failed)
    return context(viewer, conversation_id, via=via, ip=ip)


def _code_hash(check_pk: int, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"ehr-code:{check_pk}:{code}".encode(), hashlib.sha256).hexdigest()


def send_code(viewer, conversation_id: int, *, candidate_id: str, via: str = "console",
              ip: str | None = None) -> dict:
    """Text a one-time code to this conversation's phone, which is on the
    chosen candidate's EHR record; the person reads it back to the agent.
    Agents never see the code: the timeline shows it masked."""
    conversation = _conversation(viewer, conversation_id)
    check = _open_check(conversation)
    practice_id = conversation.practice_id
    phone = _phone_of(conversation)
    if not phone:
        raise InvalidInput("This patient has no phone number to text a code to. Verify by name and date of birth.",
                           code="no_phone")
    adapter = _adapter(practice_id)
    try:
        candidates = _candidates(practice_id, adapter, phone)
    except EhrError as exc:
        raise EhrActionError(exc) from None
    chosen = next((p for p in candidates
                   if hmac.compare_digest(_candidate_token(conversation.pk, p.id), candidate_id)), None)
    if chosen is None:
        raise InvalidInput("That EHR patient does not have this phone number.", code="not_candidate")
    now = clock.now()
    if check.code_sent_at and now - check.code_sent_at < timedelta(seconds=60):
        raise Conflict("A code was sent less than a minute ago. Ask the patient to check their texts.",
                       code="too_soon")
    code = f"{secrets.randbelow(10 ** 6):06d}"
    practice_name = Practice.objects.values_list("name", flat=True).get(pk=practice_id)
    body = (f"{practice_name}: your verification code is {code}. Read it to the person helping you only if you "
            f"contacted us. It expires in {settings.EHR_CODE_MINUTES} minutes.")
    with transaction.atomic():
        locked = IdentityCheck.objects.select_for_update(no_key=True).get(pk=check.pk)
        locked.code_hash = _code_hash(locked.pk, code)
        locked.code_for = chosen.id
        locked.code_sent_at = now
        locked.code_expires_at = now + timedelta(minutes=settings.EHR_CODE_MINUTES)
        locked.save(update_fields=["code_hash", "code_for", "code_sent_at", "code_expires_at"])
        try:
            event = outbound.send_automatic(conversation.pk, body, channel="sms", reason=VERIFICATION_CODE)
        except (UnknownChannel, NotDeliverable):
            event = None
        if event is None:  # the raise rolls the code back too
            raise InvalidInput("A text cannot reach this patient (no SMS number, or they opted out). "
                               "Verify by name and date of birth.", code="not_deliverable")
        _audit(viewer, "ehr.code_sent", conversation, via, ip, ehr_patient=chosen.id)
    return context(viewer, conversation_id, via=via, ip=ip)


VERIFICATION_CODE = "verification_code"


def verify_code(viewer, conversation_id: int, *, code: str, via: str = "console", ip: str | None = None) -> dict:
    conversation = _conversation(viewer, conversation_id)
    check = _open_check(conversation)
    code = "".join((code or "").split())
    if not check.code_hash:
        raise InvalidInput("Send a code first.", code="no_code")
    if check.code_expires_at is None or check.code_expires_at <= clock.now():
        raise InvalidInput("The code has expired. Send a new one.", code="code_expired")
    if not hmac.compare_digest(check.code_hash, _code_hash(check.pk, code)):
        raise _failed(viewer, conversation, check.pk, via, ip, IdentityCheck.Method.SMS_CODE,
                      "That is not the code that was sent.")
    adapter = _adapter(conversation.practice_id)
    try:
        patient = _call(conversation.practice_id, adapter, lambda: adapter.patient(check.code_for))
    except EhrError as exc:
        raise EhrActionError(exc) from None
    _mark_verified(viewer, conversation.pk, patient, IdentityCheck.Method.SMS_CODE, via, ip)
    return context(viewer, conversation_id, via=via, ip=ip)


def _mark_verified(viewer, conversation_id: int, patient: EhrPatient, method: str, via: str, ip: str | None) -> None:
    now = clock.now()
    with transaction.atomic():
        conversation = access.get_conversation(viewer, conversation_id, for_update=True)
        check = IdentityCheck.objects.select_for_update(no_key=True).get(conversation_id=conversation.pk)
        if check.verified:
            return  # a colleague verified meanwhile
        check.ehr_patient_id, check.method, check.verified_by, check.verified_at = patient.id, method, viewer.user, now
        check.code_hash = ""
        check.save()
        link = EhrLink.objects.select_for_update(no_key=True).filter(patient_id=conversation.patient_id).first()
        if link is None or link.ehr_patient_id != patient.id:
            previous = link.ehr_patient_id if link else None
            EhrLink.objects.update_or_create(
                patient_id=conversation.patient_id,
                defaults={"practice_id": conversation.practice_id, "ehr_patient_id": patient.id,
                          "linked_by": viewer.user, "linked_at": now})
            _audit(viewer, "ehr.patient_linked", conversation.patient, via, ip, ehr_patient=patient.id,
                   previous=previous)
        hub_patient = conversation.patient
        named = False
        if not (hub_patient.first_name or hub_patient.last_name):
            hub_patient.first_name, hub_patient.last_name = patient.given[:100], patient.family[:100]
            named = True
        if hub_patient.date_of_birth is None and patient.birth_date:
            hub_patient.date_of_birth = patient.birth_date
        hub_patient.save(update_fields=["first_name", "last_name", "date_of_birth", "updated_at"])
        label = IdentityCheck.Method(method).label.lower()
        event = timeline.system_notice(
            conversation, Event.Kind.SYSTEM, f"Identity verified ({label}) by {viewer.display_name}",
            author=viewer.user, at=now, data={"ehr": "identity_verified", "method": method})
        conversation.save(update_fields=["last_event_seq"])
        # A newly named patient changes the queue row: publish the snapshot too.
        timeline.publish_changes(conversation, [event], before=None if named else timeline.queue_state(conversation))
        _audit(viewer, "ehr.identity_verified", conversation, via, ip, ehr_patient=patient.id, method=method)


# --- insurance --------------------------------------------------------------

def check_eligibility(viewer, conversation_id: int, *, coverage_id: str, via: str = "console",
                      ip: str | None = None) -> dict:
    conversation, ehr_id, adapter = _verified(viewer, conversation_id)
    try:
        result = _call(conversation.practice_id, adapter, lambda: adapter.check_eligibility(ehr_id, coverage_id))
    except EhrError as exc:
        raise EhrActionError(exc) from None
    verdict = "in force" if result.in_force else "NOT in force"
    with transaction.atomic():
        locked = access.get_conversation(viewer, conversation.pk, for_update=True)
        before = timeline.queue_state(locked)
        event = timeline.system_notice(locked, Event.Kind.SYSTEM, f"Eligibility checked: coverage {verdict}",
                                       author=viewer.user, data={"ehr": "eligibility_checked",
                                                                 "in_force": result.in_force})
        locked.save(update_fields=["last_event_seq"])
        timeline.publish_changes(locked, [event], before=before)
        _audit(viewer, "ehr.eligibility_checked", conversation, via, ip, ehr_patient=ehr_id, coverage=coverage_id,
               in_force=result.in_force)
    return asdict(result)


# --- scheduling -------------------------------------------------------------

def schedules(viewer) -> list[Schedule]:
    adapter = _adapter(viewer.practice_id)
    try:
        return _call(viewer.practice_id, adapter, adapter.schedules, cache_key="schedules", seconds=300)
    except EhrError as exc:
        raise EhrActionError(exc) from None


def free_slots(viewer, *, day: date, days: int = 1, schedule_id: str = "", service_type: str = "") -> list[dict]:
    """Free slots on `day` (and the days after, up to a week) in the practice's
    time zone, for one schedule or all that offer `service_type`."""
    if not 1 <= days <= 7:
        raise InvalidInput("Search 1 to 7 days at a time.")
    found = schedules(viewer)
    chosen = [s for s in found if (not schedule_id or s.id == schedule_id)
              and (not service_type or service_type in s.service_types)]
    if schedule_id and not chosen:
        raise NotFound("No such practitioner schedule.")
    if not chosen:
        return []
    zone = _zone(viewer.practice_id)
    start = max(datetime.combine(day, time.min, zone), clock.now())
    end = datetime.combine(day + timedelta(days=days), time.min, zone)
    if start >= end:
        return []
    adapter = _adapter(viewer.practice_id)
    ids = [s.id for s in chosen]
    try:
        slots = _call(viewer.practice_id, adapter, lambda: adapter.free_slots(ids, start, end, service_type),
                      cache_key=f"slots:{','.join(ids)}:{start.isoformat()}:{days}:{service_type}", seconds=15)
    except EhrError as exc:
        raise EhrActionError(exc) from None
    by_id = {s.id: s for s in chosen}
    return [{"id": s.id, "start": s.start, "end": s.end, "schedule_id": s.schedule_id,
             "practitioner": by_id[s.schedule_id].practitioner if s.schedule_id in by_id else "",
             "service_types": list(s.service_types or by_id.get(s.schedule_id, chosen[0]).service_types)}
            for s in slots]


def _schedule_of(viewer, slot: Slot) -> Schedule:
    for schedule in schedules(viewer):
        if schedule.id == slot.schedule_id:
            return schedule
    raise NotFound("That slot belongs to no active schedule.")


def _fresh_free_slot(practice_id: int, adapter, slot_id: str) -> Slot:
    try:
        slot = adapter.slot(slot_id)
    except EhrNotFound:
        raise NotFound("No such slot.") from None
    except EhrError as exc:
        raise EhrActionError(exc) from None
    if slot.status != "free":
        raise Conflict("That time was just taken. Pick another.", code="slot_taken")
    if slot.start <= clock.now():
        raise Conflict("That time has passed. Pick another.", code="slot_past")
    return slot


def _owned_appointment(adapter, appointment_id: str, ehr_id: str) -> Appointment:
    try:
        appointment = adapter.appointment(appointment_id)
    except EhrError as exc:
        raise EhrActionError(exc) from None
    if appointment.patient_id != ehr_id:
        raise NotFound("This patient has no such appointment.")
    return appointment


CONFIRMATION_CHANNELS = {"voice": "sms"}  # a caller is confirmed by text


def _record(viewer, conversation_id: int, ehr_id: str, verb: str, appointment: Appointment, notice: str,
            message: str, via: str, ip: str | None) -> Event | None:
    """Show a booking change on the timeline and confirm it to the patient on
    their channel, as the agent's reply. Returns the confirmation, or None
    when it could not be sent (said on the timeline)."""
    _cache_delete(_key(viewer.practice_id, _adapter(viewer.practice_id), f"appointments:{ehr_id}"))
    with transaction.atomic():
        conversation = access.get_conversation(viewer, conversation_id, for_update=True)
        before = timeline.queue_state(conversation)
        event = timeline.system_notice(conversation, Event.Kind.SYSTEM, notice, author=viewer.user, data={
            "ehr": f"appointment_{verb}", "appointment_id": appointment.id,
            "start": appointment.start.isoformat() if appointment.start else None})
        conversation.save(update_fields=["last_event_seq"])
        timeline.publish_changes(conversation, [event], before=before)
        channel = CONFIRMATION_CHANNELS.get(conversation.channel, conversation.channel)
        sent = None
        try:
            # The agent's own reply: it answers (and takes) a waiting
            # conversation like any reply would.
            with transaction.atomic():
                sent = outbound.send_message(viewer, conversation.pk, message, channel=channel, via=via, ip=ip)
        except ActionError:  # opted out, no address, a newer open conversation...
            pass
        if sent is None:
            conversation.refresh_from_db(fields=["last_event_seq"])
            missing = timeline.system_notice(conversation, Event.Kind.SYSTEM,
                                             "The patient could not be sent a confirmation on this channel.",
                                             data={"ehr": "confirmation_not_sent"})
            conversation.save(update_fields=["last_event_seq"])
            timeline.publish_changes(conversation, [missing], before=before)
        _audit(viewer, f"ehr.appointment_{verb}", conversation, via, ip, ehr_patient=ehr_id,
               appointment=appointment.id)
    return sent


def book(viewer, conversation_id: int, *, slot_id: str, service_type: str = "", reason: str = "",
         via: str = "console", ip: str | None = None) -> dict:
    conversation, ehr_id, adapter = _verified(viewer, conversation_id)
    practice_id = conversation.practice_id
    slot = _fresh_free_slot(practice_id, adapter, slot_id)
    schedule = _schedule_of(viewer, slot)
    if service_type and slot.service_types and service_type not in slot.service_types:
        raise InvalidInput(f"That slot is not for a {service_type}.")
    service_type = service_type or (slot.service_types[:1] or schedule.service_types[:1] or ("",))[0]
    try:
        patient = _call(practice_id, adapter, lambda: adapter.patient(ehr_id), cache_key=f"patient:{ehr_id}")
        appointment = adapter.book(patient, slot, schedule, service_type, reason.strip())
    except EhrConflict:
        raise Conflict("That time was just taken. Pick another.", code="slot_taken") from None
    except EhrError as exc:
        raise EhrActionError(exc) from None
    zone = _zone(practice_id)
    what = f"{_when(appointment.start, zone)} with {schedule.practitioner}" + (
        f" ({service_type})" if service_type else "")
    practice_name = Practice.objects.values_list("name", flat=True).get(pk=practice_id)
    _record(viewer, conversation.pk, ehr_id, "booked", appointment, f"Appointment booked: {what}",
            f"Your appointment at {practice_name} is booked for {what}. Reply here if you need to change it.",
            via, ip)
    return asdict(appointment)


def reschedule(viewer, conversation_id: int, appointment_id: str, *, slot_id: str, via: str = "console",
               ip: str | None = None) -> dict:
    conversation, ehr_id, adapter = _verified(viewer, conversation_id)
    practice_id = conversation.practice_id
    current = _owned_appointment(adapter, appointment_id, ehr_id)
    if current.status in ("cancelled", "fulfilled", "noshow", "entered-in-error"):
        raise Conflict(f"That appointment is {current.status} and cannot be moved.", code="not_movable")
    slot = _fresh_free_slot(practice_id, adapter, slot_id)
    schedule = _schedule_of(viewer, slot)
    try:
        appointment = adapter.reschedule(appointment_id, slot, schedule)
    except EhrConflict:
        raise Conflict("That time was just taken. Pick another.", code="slot_taken") from None
    except EhrError as exc:
        raise EhrActionError(exc) from None
    zone = _zone(practice_id)
    what = f"{_when(appointment.start, zone)} with {schedule.practitioner}"
    practice_name = Practice.objects.values_list("name", flat=True).get(pk=practice_id)
    _record(viewer, conversation.pk, ehr_id, "rescheduled", appointment,
            f"Appointment moved from {_when(current.start, zone)} to {what}",
            f"Your appointment at {practice_name} has moved to {what}. Reply here if you need to change it.",
            via, ip)
    return asdict(appointment)


def cancel(viewer, conversation_id: int, appointment_id: str, *, reason: str = "", via: str = "console",
           ip: str | None = None) -> dict:
    conversation, ehr_id, adapter = _verified(viewer, conversation_id)
    practice_id = conversation.practice_id
    current = _owned_appointment(adapter, appointment_id, ehr_id)
    if current.status == "cancelled":
        raise Conflict("That appointment is already cancelled.", code="already_cancelled")
    if current.status in ("fulfilled", "noshow", "entered-in-error"):
        raise Conflict(f"That appointment is {current.status} and cannot be cancelled.", code="not_cancellable")
    try:
        appointment = adapter.cancel(appointment_id, reason.strip())
    except EhrError as exc:
        raise EhrActionError(exc) from None
    zone = _zone(practice_id)
    what = _when(current.start, zone) + (f" with {current.practitioner}" if current.practitioner else "")
    practice_name = Practice.objects.values_list("name", flat=True).get(pk=practice_id)
    _record(viewer, conversation.pk, ehr_id, "cancelled", appointment, f"Appointment cancelled: {what}",
            f"Your appointment at {practice_name} on {what} is cancelled. Reply here to book another time.",
            via, ip)
    return asdict(appointment)
