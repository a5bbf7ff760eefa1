"""The console's EHR endpoints against the embedded demo EHR over HTTP: the
hub's real FHIR client, the demo server's real FHIR REST surface."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fhir.resources.R4B import get_fhir_model_class

from hub.ehr import connection as connections
from hub.ehr.models import EhrConnection, EhrLink, IdentityCheck
from hub.models import AuditEntry, ContactPoint, Event
from tests.factories import inbound

pytestmark = pytest.mark.django_db

PAT = "+15555550101"     # Pat Jones in the demo EHR
CHEN = "+15555550142"    # Linda and Emma Chen share this phone
NEWCOMER = "+15555550123"  # not in the EHR


@pytest.fixture
def ehr(world, demo_ehr, settings):
    settings.EHR_BREAKER_SECONDS = 15
    EhrConnection.objects.create(practice=world.practice, label="Demo EHR", base_url=demo_ehr.base_url,
                                 timeout_seconds=1.0)
    yield demo_ehr
    connections._adapters.clear()


@pytest.fixture
def alice(client, world):
    client.force_login(world.alice)
    return client


def _conversation(world, phone=PAT, channel="sms", **extra):
    return inbound(world.practice, phone=phone, channel=channel, body="Can I book a visit?", **extra).conversation


def _get(client, conversation):
    return client.get(f"/api/v1/conversations/{conversation.pk}/ehr")


def _post(client, path, body):
    return client.post(f"/api/v1{path}", body, content_type="application/json")


def _verify(client, conversation, given="Pat", family="Jones", birth_date="1984-03-12"):
    return _post(client, f"/conversations/{conversation.pk}/ehr/verify",
                 {"given": given, "family": family, "birth_date": birth_date})


def _next_weekday(zone="America/New_York") -> date:
    day = datetime.now(ZoneInfo(zone)).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _free_slot(client, **params):
    response = client.get("/api/v1/ehr/slots", {"day": _next_weekday().isoformat(), "days": 3, **params})
    assert response.status_code == 200, response.content
    assert response.json(), "the demo EHR should have free slots on the next weekdays"
    return response.json()[0]


# --- match and verify -------------------------------------------------------

def test_candidates_are_masked_until_verified(ehr, world, alice):
    conversation = _conversation(world)
    state = _get(alice, conversation).json()
    assert state["status"] == "ok" and not state["verified"]
    assert [(c["label"], c["linked"]) for c in state["candidates"]] == [("P••• J•••", False)]
    assert "pat-jones" not in state["candidates"][0]["id"]  # EHR ids can be readable: an opaque token instead
    assert state["patient"] is None and state["appointments"] is None and state["coverages"] is None
    body = _get(alice, conversation).content.decode()
    assert "Jones" not in body and "1984" not in body and "XJP884512" not in body
    assert AuditEntry.objects.filter(action="ehr.match_searched", patient_id=conversation.patient_id).exists()


def test_shared_phone_lists_each_family_member(ehr, world, alice):
    state = _get(alice, _conversation(world, phone=CHEN)).json()
    assert sorted(c["label"] for c in state["candidates"]) == ["E••• C•••", "L••• C•••"]


def test_no_match_for_a_new_patient(ehr, world, alice):
    state = _get(alice, _conversation(world, phone=NEWCOMER)).json()
    assert state["candidates"] == [] and state["phone_searched"] is True


def test_verify_by_name_and_birth_date_links_and_shows_the_record(ehr, world, alice):
    conversation = _conversation(world)
    response = _verify(alice, conversation, given="pat", family="JONES")
    assert response.status_code == 200, response.content
    state = response.json()
    assert state["verified"] and state["verification"]["method"] == "details"
    assert state["patient"]["name"] == "Pat Jones" and state["patient"]["birth_date"] == "1984-03-12"
    assert [c["member_id"] for c in state["coverages"]] == ["XJP884512"]
    assert {a["practitioner"] for a in state["appointments"]} >= {"Dr. Ana Lee", "Dr. Raj Patel"}
    link = EhrLink.objects.get(patient_id=conversation.patient_id)
    assert link.ehr_patient_id == "pat-jones" and link.linked_by == world.alice
    notice = Event.objects.filter(conversation=conversation, kind="system").last()
    assert notice.data["ehr"] == "identity_verified" and "Alice" in notice.body
    actions = set(AuditEntry.objects.filter(patient_id=conversation.patient_id).values_list("action", flat=True))
    assert {"ehr.identity_verified", "ehr.patient_linked", "ehr.record_viewed"} <= actions
    # The hub patient, known only by number, now has the EHR's name.
    conversation.patient.refresh_from_db()
    assert conversation.patient.display_name == "Pat Jones"


def test_wrong_details_count_down_and_lock(ehr, world, alice, settings):
    settings.EHR_MAX_FAILED_CHECKS = 3
    conversation = _conversation(world)
    first = _verify(alice, conversation, birth_date="1984-03-13")
    assert first.status_code == 400 and "2 attempts left" in first.json()["detail"]
    assert _verify(alice, conversation, given="Patricia").status_code == 400
    assert _verify(alice, conversation, family="Jonas").status_code == 400
    locked = _verify(alice, conversation)  # right this time, but too late
    assert locked.status_code == 409 and locked.json()["code"] == "verification_locked"
    assert _get(alice, conversation).json()["attempts_left"] == 0
    assert not EhrLink.objects.exists()
    assert AuditEntry.objects.filter(action="ehr.verification_failed").count() == 3
    # Only a supervisor may allow new attempts.
    refused = _post(alice, f"/conversations/{conversation.pk}/ehr/verify/reset", {})
    assert refused.status_code == 403
    alice.force_login(world.sam)
    reset = _post(alice, f"/conversations/{conversation.pk}/ehr/verify/reset", {})
    assert reset.status_code == 200 and reset.json()["attempts_left"] == 3
    assert AuditEntry.objects.filter(action="ehr.verification_reset", user=world.sam).exists()
    assert _verify(alice, conversation).status_code == 200


def test_web_chat_without_phone_verifies_by_details(ehr, world, alice):
    conversation = inbound(world.practice, phone=NEWCOMER, body="hi").conversation
    ContactPoint.objects.filter(patient_id=conversation.patient_id).update(kind="web", address="visitor-abc")
    state = _get(alice, conversation).json()
    assert state["phone_searched"] is False
    assert _verify(alice, conversation, given="Linda", family="Chen", birth_date="1979-05-21").status_code == 200
    assert EhrLink.objects.get(patient_id=conversation.patient_id).ehr_patient_id == "pat-chen-l"


def test_sms_code_masked_for_staff_and_verifies(ehr, world, alice, monkeypatch):
    conversation = _conversation(world, phone=CHEN)
    sent_codes = []
    import hub.ehr.actions as ehr_actions

    real = ehr_actions.secrets.randbelow
    monkeypatch.setattr(ehr_actions.secrets, "randbelow", lambda n: sent_codes.append(real(n)) or sent_codes[-1])
    emma = next(c["id"] for c in _get(alice, conversation).json()["candidates"] if c["label"] == "E••• C•••")
    response = _post(alice, f"/conversations/{conversation.pk}/ehr/code", {"candidate_id": emma})
    assert response.status_code == 200, response.content
    assert response.json()["code_pending"] is True
    code = f"{sent_codes[-1]:06d}"
    message = Event.objects.filter(conversation=conversation, direction="out").last()
    assert code in message.body  # what the patient's phone receives
    timeline = alice.get(f"/api/v1/conversations/{conversation.pk}").json()
    shown = [e["body"] for e in timeline["events"] if e["id"] == message.pk][0]
    assert code not in shown and "••••••" in shown
    again = _post(alice, f"/conversations/{conversation.pk}/ehr/code", {"candidate_id": emma})
    assert again.status_code == 409 and again.json()["code"] == "too_soon"
    wrong_code = "000000" if code != "000000" else "111111"
    wrong = _post(alice, f"/conversations/{conversation.pk}/ehr/code/verify", {"code": wrong_code})
    assert wrong.status_code == 400
    right = _post(alice, f"/conversations/{conversation.pk}/ehr/code/verify", {"code": code})
    assert right.status_code == 200, right.content
    assert right.json()["patient"]["name"] == "Emma Chen"
    assert IdentityCheck.objects.get(conversation=conversation).method == "sms_code"


def test_code_only_for_a_candidate_of_this_phone(ehr, world, alice):
    chen = _conversation(world, phone=CHEN)
    token_elsewhere = _get(alice, chen).json()["candidates"][0]["id"]
    conversation = _conversation(world)
    response = _post(alice, f"/conversations/{conversation.pk}/ehr/code", {"candidate_id": token_elsewhere})
    assert response.status_code == 400 and response.json()["code"] == "not_candidate"


def test_nothing_without_verification(ehr, world, alice):
    conversation = _conversation(world)
    slot = _free_slot(alice)
    book = _post(alice, f"/conversations/{conversation.pk}/ehr/appointments", {"slot_id": slot["id"]})
    assert book.status_code == 403 and book.json()["code"] == "not_verified"
    eligibility = _post(alice, f"/conversations/{conversation.pk}/ehr/eligibility", {"coverage_id": "cov-jones"})
    assert eligibility.status_code == 403


def test_other_departments_conversation_is_not_found(ehr, world, client):
    conversation = _conversation(world)
    conversation.department = world.nurse
    conversation.save()
    client.force_login(world.bob)
    assert _get(client, conversation).status_code == 404


# --- insurance --------------------------------------------------------------

def test_eligibility_in_force_and_not(ehr, world, alice):
    conversation = _conversation(world)
    _verify(alice, conversation)
    response = _post(alice, f"/conversations/{conversation.pk}/ehr/eligibility", {"coverage_id": "cov-jones"})
    assert response.status_code == 200, response.content
    assert response.json()["in_force"] is True
    assert Event.objects.filter(conversation=conversation, data__ehr="eligibility_checked").exists()

    brown = _conversation(world, phone="+15555550177")
    _verify(alice, brown, given="Robert", family="Brown", birth_date="1948-02-02")
    coverage = _get(alice, brown).json()["coverages"][0]["id"]
    result = _post(alice, f"/conversations/{brown.pk}/ehr/eligibility", {"coverage_id": coverage}).json()
    assert result["in_force"] is False


def test_eligibility_of_someone_elses_coverage_is_refused(ehr, world, alice):
    conversation = _conversation(world)
    _verify(alice, conversation)
    response = _post(alice, f"/conversations/{conversation.pk}/ehr/eligibility", {"coverage_id": "cov-miller"})
    assert response.status_code == 404


def test_eligibility_not_supported(world, demo_ehr_factory, alice):
    server = demo_ehr_factory(eligibility=False)
    EhrConnection.objects.create(practice=world.practice, base_url=server.base_url)
    try:
        conversation = _conversation(world)
        state = _verify(alice, conversation).json()
        assert state["eligibility_supported"] is False
        response = _post(alice, f"/conversations/{conversation.pk}/ehr/eligibility", {"coverage_id": "cov-jones"})
        assert response.status_code == 422 and "not supported" in response.json()["detail"]
    finally:
        connections._adapters.clear()


# --- scheduling -------------------------------------------------------------

def test_schedules_and_slot_search(ehr, world, alice):
    schedules = alice.get("/api/v1/ehr/schedules").json()
    assert {s["practitioner"] for s in schedules} == {"Dr. Ana Lee", "Dr. Raj Patel", "Kim Park RN"}
    nurse = _free_slot(alice, service_type="Nurse visit")
    assert nurse["practitioner"] == "Kim Park RN"
    lee = next(s for s in schedules if s["practitioner"] == "Dr. Ana Lee")
    slots = alice.get("/api/v1/ehr/slots", {"day": _next_weekday().isoformat(), "schedule_id": lee["id"]}).json()
    assert slots and {s["practitioner"] for s in slots} == {"Dr. Ana Lee"}
    starts = [s["start"] for s in slots]
    assert starts == sorted(starts)
    assert alice.get("/api/v1/ehr/slots", {"day": "2026-01-01", "days": 9}).status_code == 422


def test_book_reschedule_cancel_with_confirmations(ehr, world, alice):
    conversation = _conversation(world)
    _verify(alice, conversation)
    slot = _free_slot(alice, service_type="Office visit")
    booked = _post(alice, f"/conversations/{conversation.pk}/ehr/appointments",
                   {"slot_id": slot["id"], "service_type": "Office visit", "reason": "Check-up"})
    assert booked.status_code == 201, booked.content
    appointment = booked.json()
    assert appointment["status"] == "booked" and appointment["slot_id"] == slot["id"]
    assert ehr.store.get("Slot", slot["id"])["status"] == "busy"
    confirmation = Event.objects.filter(conversation=conversation, direction="out").last()
    assert confirmation.channel == "sms" and "is booked for" in confirmation.body
    assert confirmation.data["to"] == PAT
    # Sent as Alice's reply: it answers and takes the waiting conversation.
    assert confirmation.author == world.alice
    conversation.refresh_from_db()
    assert conversation.assignee == world.alice and conversation.first_response_at is not None
    assert Event.objects.filter(conversation=conversation, data__ehr="appointment_booked").exists()
    upcoming = [a["id"] for a in _get(alice, conversation).json()["appointments"]]
    assert appointment["id"] in upcoming  # the cache was refreshed

    # The same slot again: taken.
    again = _post(alice, f"/conversations/{conversation.pk}/ehr/appointments", {"slot_id": slot["id"]})
    assert again.status_code == 409 and again.json()["code"] == "slot_taken"

    other = next(s for s in alice.get("/api/v1/ehr/slots", {"day": _next_weekday().isoformat(), "days": 3}).json()
                 if s["id"] != slot["id"])
    moved = _post(alice, f"/conversations/{conversation.pk}/ehr/appointments/{appointment['id']}/reschedule",
                  {"slot_id": other["id"]})
    assert moved.status_code == 200, moved.content
    assert moved.json()["slot_id"] == other["id"]
    assert ehr.store.get("Slot", slot["id"])["status"] == "free"
    assert "has moved to" in Event.objects.filter(conversation=conversation, direction="out").last().body

    cancelled = _post(alice, f"/conversations/{conversation.pk}/ehr/appointments/{appointment['id']}/cancel",
                      {"reason": "Feeling better"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert ehr.store.get("Slot", other["id"])["status"] == "free"
    assert "is cancelled" in Event.objects.filter(conversation=conversation, direction="out").last().body
    audited = set(AuditEntry.objects.filter(patient_id=conversation.patient_id).values_list("action", flat=True))
    assert {"ehr.appointment_booked", "ehr.appointment_rescheduled", "ehr.appointment_cancelled"} <= audited
    twice = _post(alice, f"/conversations/{conversation.pk}/ehr/appointments/{appointment['id']}/cancel", {})
    assert twice.status_code == 409


def test_cannot_touch_another_patients_appointment(ehr, world, alice):
    miller = _conversation(world, phone="+15555550188")
    _verify(alice, miller, given="Joe", family="Miller", birth_date="1956-11-30")
    jones_upcoming = next(a for a in ehr.store.search("Appointment")
                          if any("pat-jones" in (p.get("actor") or {}).get("reference", "") for p in a["participant"])
                          and a["status"] == "booked")
    response = _post(alice, f"/conversations/{miller.pk}/ehr/appointments/{jones_upcoming['id']}/cancel", {})
    assert response.status_code == 404


def test_voice_caller_is_confirmed_by_text(ehr, world, alice):
    conversation = _conversation(world, channel="voice")
    _verify(alice, conversation)
    slot = _free_slot(alice)
    assert _post(alice, f"/conversations/{conversation.pk}/ehr/appointments",
                 {"slot_id": slot["id"]}).status_code == 201
    assert Event.objects.filter(conversation=conversation, direction="out").last().channel == "sms"


def test_every_resource_sent_validates(ehr, world, alice, monkeypatch):
    sent = []
    adapter = connections.adapter_for(world.practice.pk)
    monkeypatch.setattr(adapter, "_on_request", lambda method, resource: sent.append(resource))
    conversation = _conversation(world)
    _verify(alice, conversation)
    slot = _free_slot(alice)
    appointment = _post(alice, f"/conversations/{conversation.pk}/ehr/appointments", {"slot_id": slot["id"]}).json()
    _post(alice, f"/conversations/{conversation.pk}/ehr/eligibility", {"coverage_id": "cov-jones"})
    _post(alice, f"/conversations/{conversation.pk}/ehr/appointments/{appointment['id']}/cancel", {"reason": "x"})
    assert [r["resourceType"] for r in sent] == ["Appointment", "CoverageEligibilityRequest", "Appointment"]
    for resource in sent:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)


# --- resilience -------------------------------------------------------------

def test_timeout_degrades_the_panel_and_trips_the_breaker(ehr, world, alice):
    conversation = _conversation(world)
    ehr.app.faults.set("Patient", "delay", seconds=2.5)
    state = _get(alice, conversation).json()
    assert state["status"] == "degraded" and "did not answer in time" in state["detail"]
    # Messaging is not affected.
    reply = _post(alice, f"/conversations/{conversation.pk}/messages", {"body": "One moment please."})
    assert reply.status_code in (200, 201), reply.content
    # The breaker answers at once now, even for other resources.
    ehr.app.faults.clear()
    assert _get(alice, conversation).json()["status"] == "degraded"


def test_server_error_and_recovery(ehr, world, alice, settings):
    settings.EHR_BREAKER_SECONDS = 0  # no breaker: the next call goes through
    conversation = _conversation(world)
    ehr.app.faults.set("*", "status", status=500)
    state = _get(alice, conversation).json()
    assert state["status"] == "degraded" and "(500)" in state["detail"]
    verify = _verify(alice, conversation)
    assert verify.status_code == 503 and verify.json()["code"] == "ehr_unavailable"
    ehr.app.faults.clear()
    assert _get(alice, conversation).json()["status"] == "ok"


def test_malformed_resources_are_refused(ehr, world, alice, settings):
    settings.EHR_BREAKER_SECONDS = 0
    settings.EHR_CACHE_SECONDS = 0  # every panel load asks the EHR
    conversation = _conversation(world)
    _verify(alice, conversation)
    ehr.app.faults.set("Coverage", "malformed")
    state = _get(alice, conversation).json()
    # The rest of the panel still shows; the section says what went wrong.
    assert state["status"] == "degraded" and state["patient"]["name"] == "Pat Jones"
    assert state["coverages"] is None and "not valid FHIR" in state["coverages_error"]
    ehr.app.faults.set("*", "garbage")
    other = _conversation(world, phone=CHEN)
    assert "not JSON" in _get(alice, other).json()["detail"]


def test_not_configured(world, alice):
    state = _get(alice, _conversation(world)).json()
    assert state["status"] == "not_configured" and "No EHR is connected" in state["detail"]


def test_bad_input_is_4xx(ehr, world, alice):
    conversation = _conversation(world)
    cases = [
        (f"/conversations/{conversation.pk}/ehr/verify", {"given": "", "family": "J", "birth_date": "1984-03-12"}),
        (f"/conversations/{conversation.pk}/ehr/verify", {"given": "P", "family": "J", "birth_date": "not a date"}),
        (f"/conversations/{conversation.pk}/ehr/verify", {"given": "P", "family": "J", "birth_date": "2999-01-01"}),
        (f"/conversations/{conversation.pk}/ehr/code", {"candidate_id": "../Patient/x"}),
        (f"/conversations/{conversation.pk}/ehr/code", {"candidate_id": "abc123"}),
        (f"/conversations/{conversation.pk}/ehr/code/verify", {"code": "abc"}),
        (f"/conversations/{conversation.pk}/ehr/appointments", {"slot_id": "no-such-slot"}),
        ("/conversations/999999/ehr/verify", {"given": "P", "family": "J", "birth_date": "1984-03-12"}),
    ]
    for path, body in cases:
        response = _post(alice, path, body)
        assert 400 <= response.status_code < 500, (path, body, response.status_code, response.content)
