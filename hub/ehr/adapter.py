"""What the hub needs from an EHR, in the hub's own terms.

The console and the actions speak to an `EhrAdapter`; `hub.ehr.fhir` is the
FHIR R4 implementation. Everything an adapter returns is one of the plain
records below, and everything that goes wrong is one of the errors below, so
nothing above this module knows about FHIR, HTTP or a particular vendor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol


class EhrError(Exception):
    """Something the EHR could not do; `message` is fit to show an agent."""

    code = "ehr_error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class EhrUnavailable(EhrError):
    """No usable answer: a timeout, a refused connection, a 5xx, a refused token."""

    code = "ehr_unavailable"


class EhrBadResponse(EhrError):
    """The EHR answered with something that is not valid FHIR R4."""

    code = "ehr_bad_response"


class EhrNotSupported(EhrError):
    code = "ehr_not_supported"


class EhrNotFound(EhrError):
    code = "ehr_not_found"


class EhrConflict(EhrError):
    """The EHR refused a change because the world moved (a slot was taken)."""

    code = "ehr_conflict"


class EhrRejected(EhrError):
    """The EHR refused a request as invalid (a 4xx other than 404/409)."""

    code = "ehr_rejected"


@dataclass(frozen=True)
class EhrPatient:
    id: str
    given: str
    family: str
    birth_date: date | None
    gender: str
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    address: str = ""
    mrn: str = ""

    @property
    def name(self) -> str:
        return f"{self.given} {self.family}".strip()


@dataclass(frozen=True)
class Appointment:
    id: str
    status: str
    start: datetime | None
    end: datetime | None
    practitioner: str
    practitioner_id: str
    service_type: str
    description: str
    slot_id: str
    patient_id: str = ""
    version: str = ""


@dataclass(frozen=True)
class Coverage:
    id: str
    status: str
    payer: str
    plan: str
    member_id: str
    relationship: str
    period_start: date | None
    period_end: date | None


@dataclass(frozen=True)
class Eligibility:
    coverage_id: str
    in_force: bool
    outcome: str
    disposition: str
    checked_at: datetime


@dataclass(frozen=True)
class Schedule:
    id: str
    practitioner: str
    practitioner_id: str
    service_types: tuple[str, ...]


@dataclass(frozen=True)
class Slot:
    id: str
    schedule_id: str
    start: datetime
    end: datetime
    status: str
    service_types: tuple[str, ...] = field(default=())


class EhrAdapter(Protocol):
    label: str

    def supports_eligibility(self) -> bool: ...

    def patients_by_phone(self, phone: str) -> list[EhrPatient]: ...

    def patients_by_details(self, family: str, birth_date: date) -> list[EhrPatient]: ...

    def patient(self, patient_id: str) -> EhrPatient: ...

    def appointments(self, patient_id: str, since: datetime) -> list[Appointment]: ...

    def appointment(self, appointment_id: str) -> Appointment: ...

    def coverages(self, patient_id: str) -> list[Coverage]: ...

    def check_eligibility(self, patient_id: str, coverage_id: str) -> Eligibility: ...

    def schedules(self) -> list[Schedule]: ...

    def free_slots(self, schedule_ids: list[str], start: datetime, end: datetime,
                   service_type: str = "") -> list[Slot]: ...

    def slot(self, slot_id: str) -> Slot: ...

    def book(self, patient: EhrPatient, slot: Slot, schedule: Schedule, service_type: str,
             reason: str) -> Appointment: ...

    def reschedule(self, appointment_id: str, slot: Slot, schedule: Schedule) -> Appointment: ...

    def cancel(self, appointment_id: str, reason: str) -> Appointment: ...
