"""The demo EHR's practice: three clinicians with schedules and bookable
slots, and a few patients with coverage and appointments.

`seed(store)` is idempotent: every id is deterministic and a resource that
exists is never rewritten, so running it again only tops up future slots
(and never touches a booked one). The patients match the hub's own demo and
test data: Pat Jones texts from +15555550101, the Chens share a phone, and
nobody here has +15555550123 (that caller is a new patient).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hub.ehr.demo.store import Store

SERVICE_TYPE_SYSTEM = "http://example.org/demo-ehr/service-type"
MRN_SYSTEM = "http://example.org/demo-ehr/mrn"
SERVICE_TYPES = {
    "office-visit": "Office visit",
    "new-patient": "New patient visit",
    "annual-physical": "Annual physical",
    "nurse-visit": "Nurse visit",
}
SESSIONS = ((time(9, 0), time(12, 0)), (time(13, 0), time(16, 30)))
SLOT_LENGTH = timedelta(minutes=30)


@dataclass(frozen=True)
class Clinician:
    key: str  # in schedule and slot ids: sch-lee, slot-lee-202612011330
    practitioner_id: str
    display: str
    given: str
    family: str
    prefix: str | None
    suffix: str
    gender: str
    qualification: str
    specialty: str
    services: tuple[str, ...]

    @property
    def schedule_id(self) -> str:
        return f"sch-{self.key}"


CLINICIANS = {
    "lee": Clinician("lee", "dr-lee", "Dr. Ana Lee", "Ana", "Lee", "Dr.", "MD", "female", "Doctor of Medicine",
                     "Family medicine", ("office-visit", "new-patient")),
    "patel": Clinician("patel", "dr-patel", "Dr. Raj Patel", "Raj", "Patel", "Dr.", "MD", "male",
                       "Doctor of Medicine", "Internal medicine", ("office-visit", "annual-physical")),
    "park": Clinician("park", "rn-park", "Kim Park RN", "Kim", "Park", None, "RN", "female", "Registered Nurse",
                      "Nursing", ("nurse-visit",)),
}


def _concept(code: str) -> dict:
    return {"coding": [{"system": SERVICE_TYPE_SYSTEM, "code": code, "display": SERVICE_TYPES[code]}],
            "text": SERVICE_TYPES[code]}


def _ensure(store: Store, resource: dict) -> bool:
    """Store the resource unless one with its id exists; whether it was stored."""
    if store.get(resource["resourceType"], resource["id"]) is not None:
        return False
    store.put(resource)
    return True


# --- clinicians and their time ------------------------------------------------

def _practitioner(c: Clinician) -> dict:
    name = {"use": "official", "text": c.display, "family": c.family, "given": [c.given], "suffix": [c.suffix]}
    if c.prefix:
        name["prefix"] = [c.prefix]
    return {"resourceType": "Practitioner", "id": c.practitioner_id, "active": True, "name": [name],
            "gender": c.gender, "qualification": [{"code": {"text": c.qualification}}]}


def _schedule(c: Clinician) -> dict:
    return {"resourceType": "Schedule", "id": c.schedule_id, "active": True,
            "serviceType": [_concept(s) for s in c.services], "specialty": [{"text": c.specialty}],
            "actor": [{"reference": f"Practitioner/{c.practitioner_id}", "display": c.display}],
            "comment": f"{c.display}'s clinic hours"}


def slot_id(c: Clinician, start: datetime) -> str:
    return f"slot-{c.key}-{start:%Y%m%d%H%M}"


def _slot(c: Clinician, start: datetime, status: str | None = None) -> dict:
    """A slot of the clinician's at `start` (local time). Unless told, about
    a third are busy (other patients' bookings), chosen by the id's hash."""
    sid = slot_id(c, start)
    if status is None:
        status = "busy" if hashlib.sha256(sid.encode()).digest()[0] % 3 == 0 else "free"
    return {"resourceType": "Slot", "id": sid, "schedule": {"reference": f"Schedule/{c.schedule_id}"},
            "status": status, "start": start.isoformat(), "end": (start + SLOT_LENGTH).isoformat(),
            "serviceType": [_concept(s) for s in c.services]}


def _slot_starts(day: date, zone: ZoneInfo) -> list[datetime]:
    if day.weekday() >= 5:
        return []
    starts = []
    for first, end in SESSIONS:
        start = datetime.combine(day, first, tzinfo=zone)
        while start.time() < end:
            starts.append(start)
            start += SLOT_LENGTH
    return starts


def _top_up_slots(store: Store, now: datetime, days: int) -> None:
    for offset in range(days):
        for start in _slot_starts(now.date() + timedelta(days=offset), now.tzinfo):
            if start >= now:
                for c in CLINICIANS.values():
                    _ensure(store, _slot(c, start))


# --- patients ---------------------------------------------------------------

def _coverage(patient: dict, coverage: dict, today: date) -> dict:
    plan = coverage["plan"]
    relationship = coverage.get("relationship", "self")
    subscriber = coverage.get("subscriber", patient["id"])
    name = patient["name"][0]
    return {
        "resourceType": "Coverage", "id": "cov-" + patient["id"].removeprefix("pat-"),
        "status": coverage.get("status", "active"),
        "subscriber": {"reference": f"Patient/{subscriber}"},
        "subscriberId": coverage["member_id"],
        "beneficiary": {"reference": f"Patient/{patient['id']}", "display": f"{name['given'][0]} {name['family']}"},
        "relationship": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
                                     "code": relationship, "display": relationship.title()}]},
        "period": {"start": coverage.get("start", f"{today.year}-01-01"),
                   "end": coverage.get("end", f"{today.year + 1}-12-31")},
        "payor": [{"display": coverage["payor"]}],
        "class": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/coverage-class",
                                        "code": "plan"}]},
                   "value": coverage.get("plan_id", plan.upper().replace(" ", "-")), "name": plan}],
    }


def add_patient(store: Store, id: str, first: str, last: str, birth_date: str | date, phone: str, *,
                coverage: dict | None = None, gender: str = "unknown", mrn: str | None = None,
                today: date | None = None) -> dict:
    """Create a patient (mobile `phone` in E.164) unless one with `id`
    exists, and return it. `coverage` adds a Coverage `cov-<id without
    "pat-">`: {"payor", "plan", "member_id"} and optionally "plan_id",
    "status", "start", "end" (ISO dates; by default from January 1 of this
    year to December 31 of the next), "subscriber" (a patient id; by default
    the patient) and "relationship" ("self", "child", "spouse", ...)."""
    if mrn is None:
        mrn = str(int(hashlib.sha256(id.encode()).hexdigest()[:8], 16) % 900_000 + 100_000)
    patient = {
        "resourceType": "Patient", "id": id, "active": True,
        "identifier": [{"use": "usual",
                        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                             "code": "MR"}]},
                        "system": MRN_SYSTEM, "value": mrn}],
        "name": [{"use": "official", "family": last, "given": [first]}],
        "telecom": [{"system": "phone", "value": phone, "use": "mobile"}],
        "gender": gender, "birthDate": str(birth_date),
    }
    _ensure(store, patient)
    if coverage is not None:
        _ensure(store, _coverage(patient, coverage, today or date.today()))
    return store.get("Patient", id)


def _patients(store: Store, today: date) -> None:
    year = today.year
    add_patient(store, "pat-jones", "Pat", "Jones", "1984-03-12", "+15555550101", gender="female", mrn="100101",
                today=today, coverage={"payor": "Blue Cross Blue Shield", "plan": "BCBS PPO Gold",
                                       "plan_id": "BCBS-PPO-GOLD", "member_id": "XJP884512"})
    add_patient(store, "pat-miller", "Joe", "Miller", "1956-11-30", "+15555550188", gender="male", mrn="100102",
                today=today, coverage={"payor": "Medicare Part B", "plan": "Medicare Part B",
                                       "plan_id": "MEDICARE-B", "member_id": "1EG4-TE5-MK72"})
    aetna = {"payor": "Aetna", "plan": "Aetna Open Access HMO", "plan_id": "AETNA-OA-HMO", "member_id": "W283746501"}
    add_patient(store, "pat-chen-l", "Linda", "Chen", "1979-05-21", "+15555550142", gender="female", mrn="100103",
                today=today, coverage=aetna)
    add_patient(store, "pat-chen-e", "Emma", "Chen", "2012-09-15", "+15555550142", gender="female", mrn="100104",
                today=today, coverage={**aetna, "subscriber": "pat-chen-l", "relationship": "child"})
    add_patient(store, "pat-brown", "Robert", "Brown", "1948-02-02", "+15555550177", gender="male", mrn="100105",
                today=today, coverage={"payor": "UnitedHealthcare", "plan": "UHC Choice Plus",
                                       "plan_id": "UHC-CHOICE-PLUS", "member_id": "921457730",
                                       "start": f"{year - 1}-01-01", "end": f"{year - 1}-12-31"})


# --- appointments -------------------------------------------------------------

@dataclass(frozen=True)
class SeededAppointment:
    id: str
    patient_id: str
    patient: str
    clinician: str
    status: str
    days_from_now: int
    service: str
    description: str


APPOINTMENTS = (
    SeededAppointment("appt-jones-bp", "pat-jones", "Pat Jones", "lee", "fulfilled", -30, "office-visit",
                      "Follow-up: blood pressure"),
    SeededAppointment("appt-jones-physical", "pat-jones", "Pat Jones", "patel", "booked", 10, "annual-physical",
                      "Annual physical"),
    SeededAppointment("appt-miller-flu", "pat-miller", "Joe Miller", "park", "fulfilled", -21, "nurse-visit",
                      "Flu shot"),
)


def _appointment_slot(store: Store, c: Clinician, day: date, now: datetime) -> dict:
    """The clinician's first slot from 10:00 on `day` (or the next weekday)
    that is free (any, in the past: past slots are not bookable anyway),
    now marked busy."""
    while True:
        for start in _slot_starts(day, now.tzinfo):
            if start.time() < time(10, 0):
                continue
            slot = store.get("Slot", slot_id(c, start)) or _slot(c, start)
            if slot["status"] == "free" or start < now:
                return store.put({**slot, "status": "busy"})
        day += timedelta(days=1)


def _appointments(store: Store, now: datetime) -> None:
    for a in APPOINTMENTS:
        if store.get("Appointment", a.id) is not None:
            continue
        c = CLINICIANS[a.clinician]
        slot = _appointment_slot(store, c, now.date() + timedelta(days=a.days_from_now), now)
        created = min(now.date(), date.fromisoformat(slot["start"][:10])) - timedelta(days=14)
        store.put({
            "resourceType": "Appointment", "id": a.id, "status": a.status,
            "serviceType": [_concept(a.service)], "description": a.description,
            "start": slot["start"], "end": slot["end"], "created": created.isoformat(),
            "slot": [{"reference": f"Slot/{slot['id']}"}],
            "participant": [
                {"actor": {"reference": f"Patient/{a.patient_id}", "display": a.patient},
                 "required": "required", "status": "accepted"},
                {"actor": {"reference": f"Practitioner/{c.practitioner_id}", "display": c.display},
                 "required": "required", "status": "accepted"},
            ],
        })


def seed(store: Store, *, timezone: str = "America/New_York", now: datetime | None = None, days: int = 21) -> None:
    """Seed (or top up) the demo practice, with slots on weekdays from
    `now` for `days` days, 09:00-12:00 and 13:00-16:30 in `timezone`. A
    naive `now` is taken as local time there."""
    zone = ZoneInfo(timezone)
    now = (now.astimezone(zone) if now.tzinfo else now.replace(tzinfo=zone)) if now else datetime.now(zone)
    with store.transaction():
        for c in CLINICIANS.values():
            _ensure(store, _practitioner(c))
            _ensure(store, _schedule(c))
        _top_up_slots(store, now, days)
        _patients(store, now.date())
        _appointments(store, now)
