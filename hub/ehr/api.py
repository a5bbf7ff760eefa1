"""/api/v1/ EHR endpoints: the console's EHR panel and integrations. Views
decode, call one action in hub.ehr.actions, and answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from ninja import Query, Router, Schema, Status
from pydantic import Field, StringConstraints

from hub.api.requests import viewer as _viewer, who as _who
from hub.api.schemas import ErrorOut
from hub.ehr import actions
# The adapter's records are the answers' shapes too.
from hub.ehr.adapter import Appointment, Coverage, Eligibility, Schedule

router = Router(tags=["ehr"])

EHR_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut,
              502: ErrorOut, 503: ErrorOut}

EhrId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9\-.]{1,64}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00]*$")]
Reason = Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00]*$")]


class CandidateOut(Schema):
    id: str
    label: str
    linked: bool


class VerificationOut(Schema):
    method: str
    by: str
    at: datetime


class EhrPatientOut(Schema):
    id: str
    name: str
    given: str
    family: str
    birth_date: date | None
    gender: str
    phones: list[str]
    emails: list[str]
    address: str
    mrn: str


class EhrContextOut(Schema):
    status: str = Field(description="ok, degraded (the EHR failed; see detail), or not_configured")
    label: str
    detail: str
    verified: bool
    verification: VerificationOut | None
    linked: bool
    candidates: list[CandidateOut]
    phone_searched: bool
    patient: EhrPatientOut | None
    appointments: list[Appointment] | None
    appointments_error: str
    coverages: list[Coverage] | None
    coverages_error: str
    eligibility_supported: bool | None
    attempts_left: int
    code_pending: bool


class VerifyDetailsIn(Schema):
    given: Name
    family: Name
    birth_date: date


class SendCodeIn(Schema):
    candidate_id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")]


class VerifyCodeIn(Schema):
    code: Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=r"^[0-9 ]+$")]


class EligibilityIn(Schema):
    coverage_id: EhrId


class SlotQuery(Schema):
    day: date
    days: int = Field(1, ge=1, le=7)
    schedule_id: EhrId | None = None
    service_type: Annotated[str, StringConstraints(max_length=100, pattern=r"^[^\x00]*$")] = ""


class SlotOut(Schema):
    id: str
    start: datetime
    end: datetime
    schedule_id: str
    practitioner: str
    service_types: list[str]


class BookIn(Schema):
    slot_id: EhrId
    service_type: Annotated[str, StringConstraints(max_length=100, pattern=r"^[^\x00]*$")] = ""
    reason: Reason = ""


class RescheduleIn(Schema):
    slot_id: EhrId


class CancelIn(Schema):
    reason: Reason = ""




@router.get("/conversations/{conversation_id}/ehr", response={200: EhrContextOut, **EHR_ERRORS})
def ehr_context(request, conversation_id: int):
    """The EHR panel: candidates (masked) until the patient is verified, then
    demographics, appointments and coverage. EHR failures answer 200 with
    status "degraded" and the reason, so messaging carries on."""
    return actions.context(_viewer(request), conversation_id, **_who(request))


@router.post("/conversations/{conversation_id}/ehr/verify", response={200: EhrContextOut, **EHR_ERRORS})
def verify_details(request, conversation_id: int, body: VerifyDetailsIn):
    return actions.verify_details(_viewer(request), conversation_id, given=body.given, family=body.family,
                                  birth_date=body.birth_date, **_who(request))


@router.post("/conversations/{conversation_id}/ehr/verify/reset", response={200: EhrContextOut, **EHR_ERRORS})
def reset_attempts(request, conversation_id: int):
    """Supervisors: allow new verification attempts after too many failed."""
    return actions.reset_attempts(_viewer(request), conversation_id, **_who(request))


@router.post("/conversations/{conversation_id}/ehr/code", response={200: EhrContextOut, **EHR_ERRORS})
def send_code(request, conversation_id: int, body: SendCodeIn):
    return actions.send_code(_viewer(request), conversation_id, candidate_id=body.candidate_id, **_who(request))


@router.post("/conversations/{conversation_id}/ehr/code/verify", response={200: EhrContextOut, **EHR_ERRORS})
def verify_code(request, conversation_id: int, body: VerifyCodeIn):
    return actions.verify_code(_viewer(request), conversation_id, code=body.code, **_who(request))


@router.post("/conversations/{conversation_id}/ehr/eligibility", response={200: Eligibility, **EHR_ERRORS})
def check_eligibility(request, conversation_id: int, body: EligibilityIn):
    return actions.check_eligibility(_viewer(request), conversation_id, coverage_id=body.coverage_id,
                                     **_who(request))


@router.get("/ehr/schedules", response={200: list[Schedule], **EHR_ERRORS})
def schedules(request):
    """Practitioners' schedules and the visit types each offers."""
    return actions.schedules(_viewer(request))


@router.get("/ehr/slots", response={200: list[SlotOut], **EHR_ERRORS})
def free_slots(request, query: Query[SlotQuery]):
    """Free slots from `day` for `days` days (practice time zone), for one
    schedule or every schedule offering `service_type`."""
    return actions.free_slots(_viewer(request), day=query.day, days=query.days, schedule_id=query.schedule_id or "",
                              service_type=query.service_type)


@router.post("/conversations/{conversation_id}/ehr/appointments", response={201: Appointment, **EHR_ERRORS})
def book(request, conversation_id: int, body: BookIn):
    """Book a slot for the verified patient; the patient is sent a
    confirmation on the conversation's channel."""
    return Status(201, actions.book(_viewer(request), conversation_id, slot_id=body.slot_id,
                             service_type=body.service_type, reason=body.reason, **_who(request)))


@router.post("/conversations/{conversation_id}/ehr/appointments/{appointment_id}/reschedule",
             response={200: Appointment, **EHR_ERRORS})
def reschedule(request, conversation_id: int, appointment_id: EhrId, body: RescheduleIn):
    return actions.reschedule(_viewer(request), conversation_id, appointment_id, slot_id=body.slot_id,
                              **_who(request))


@router.post("/conversations/{conversation_id}/ehr/appointments/{appointment_id}/cancel",
             response={200: Appointment, **EHR_ERRORS})
def cancel(request, conversation_id: int, appointment_id: EhrId, body: CancelIn):
    return actions.cancel(_viewer(request), conversation_id, appointment_id, reason=body.reason, **_who(request))
