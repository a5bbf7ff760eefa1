"""The FHIR R4 adapter: the hub's EHR needs as FHIR REST calls over httpx.

Every resource received is parsed with fhir.resources' R4B models (R4B is
wire-compatible with R4 4.0.1 for every resource used here) and every
resource sent is built with them, so the hub never reads or writes a
resource that is not valid FHIR. Errors become the adapter errors of
`hub.ehr.adapter`; their messages never carry patient data (pydantic's
messages quote the input, so only field paths are kept).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.coverageeligibilityrequest import CoverageEligibilityRequest
from pydantic import ValidationError

from hub.ehr.adapter import (
    Appointment, Coverage, EhrBadResponse, EhrConflict, EhrNotFound, EhrNotSupported, EhrPatient, EhrRejected,
    EhrUnavailable, Eligibility, Schedule, Slot,
)

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


# --- authentication ---------------------------------------------------------

class NoAuth:
    def header(self, client: httpx.Client) -> dict[str, str]:
        return {}


class BearerToken:
    """A long-lived token issued by the EHR's administrators."""

    def __init__(self, token: str):
        self.token = token

    def header(self, client: httpx.Client) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class ClientCredentials:
    """OAuth2 client credentials: SMART Backend Services (a JWT assertion
    signed with the hub's private key, RS384 or ES384) when a key is given,
    else a client secret (HTTP Basic). The access token is reused until a
    minute before it expires. The token endpoint is discovered from
    .well-known/smart-configuration unless configured."""

    def __init__(self, *, base_url: str, client_id: str, scope: str, token_url: str = "",
                 secret: str = "", private_key_pem: str = "", key_id: str = ""):
        self.base_url = base_url
        self.client_id = client_id
        self.scope = scope
        self.token_url = token_url
        self.secret = secret
        self.private_key_pem = private_key_pem
        self.key_id = key_id
        self._token = ""
        self._expires = 0.0
        self._lock = threading.Lock()

    def header(self, client: httpx.Client) -> dict[str, str]:
        with self._lock:
            if not self._token or time.monotonic() > self._expires - 60:
                self._token, lifetime = self._fetch(client)
                self._expires = time.monotonic() + lifetime
            return {"Authorization": f"Bearer {self._token}"}

    def forget(self) -> None:
        with self._lock:
            self._token = ""

    def _discover(self, client: httpx.Client) -> str:
        response = client.get(f"{self.base_url}/.well-known/smart-configuration",
                              headers={"Accept": "application/json"})
        if response.status_code != 200:
            raise EhrUnavailable("The EHR does not publish its token endpoint (.well-known/smart-configuration).")
        try:
            return str(response.json()["token_endpoint"])
        except (ValueError, KeyError, TypeError):
            raise EhrBadResponse("The EHR's SMART configuration has no token endpoint.") from None

    def _fetch(self, client: httpx.Client) -> tuple[str, float]:
        token_url = self.token_url or self._discover(client)
        form = {"grant_type": "client_credentials", "scope": self.scope}
        auth = None
        if self.private_key_pem:
            now = int(time.time())
            claims = {"iss": self.client_id, "sub": self.client_id, "aud": token_url, "exp": now + 240,
                      "iat": now, "jti": uuid.uuid4().hex}
            key, algorithm = self._signing_key()
            headers = {"kid": self.key_id} if self.key_id else None
            form["client_assertion_type"] = JWT_BEARER
            form["client_assertion"] = jwt.encode(claims, key, algorithm=algorithm, headers=headers)
        else:
            auth = (self.client_id, self.secret)
        response = client.post(token_url, data=form, auth=auth, headers={"Accept": "application/json"})
        if response.status_code != 200:
            raise EhrUnavailable(f"The EHR refused the hub's credentials (token endpoint answered "
                                 f"{response.status_code}). An administrator should check the EHR connection.")
        try:
            body = response.json()
            return str(body["access_token"]), float(body.get("expires_in") or 300)
        except (ValueError, KeyError, TypeError):
            raise EhrBadResponse("The EHR's token endpoint answered without an access token.") from None

    def _signing_key(self):
        """The private key and its SMART algorithm: ES384 for EC keys, else RS384."""
        try:
            key = load_pem_private_key(self.private_key_pem.encode(), password=None)
        except (ValueError, TypeError):
            raise EhrUnavailable("The hub's private key for the EHR cannot be read. An administrator should "
                                 "check the EHR connection.") from None
        return key, "ES384" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS384"


# --- parsing ----------------------------------------------------------------

def _validated(resource_type: str, data: Any):
    """The R4B model of `data`, which must be a `resource_type`."""
    if not isinstance(data, dict) or data.get("resourceType") != resource_type:
        found = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
        raise EhrBadResponse(f"The EHR sent {found!s} where a {resource_type} was expected.")
    try:
        return get_fhir_model_class(resource_type).model_validate(data)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})[:3]
        raise EhrBadResponse(f"The EHR sent a {resource_type} that is not valid FHIR R4 "
                             f"({', '.join(fields) or 'structure'}).") from None


def _ref_id(reference: str | None, resource_type: str) -> str:
    if not reference:
        return ""
    parts = reference.rstrip("/").split("/")
    # Absolute or relative, possibly versioned: .../Type/id[/_history/n]
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    return parts[-1] if len(parts) >= 2 and parts[-2] == resource_type else ""


def _text(concept) -> str:
    if concept is None:
        return ""
    if concept.text:
        return concept.text
    for coding in concept.coding or ():
        if coding.display or coding.code:
            return coding.display or coding.code
    return ""


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _day(value: date | datetime | None) -> date | None:
    """A FHIR dateTime may be a date, a datetime, or (R4B) a partial date."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def _digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())[-10:]


def _patient(resource) -> EhrPatient:
    name = next((n for n in resource.name or () if n.use in (None, "official", "usual")), None)
    if name is None and resource.name:
        name = resource.name[0]
    given = " ".join(name.given or ()) if name else ""
    family = (name.family or "") if name else ""
    telecom = resource.telecom or ()
    address = ""
    if resource.address:
        a = resource.address[0]
        address = a.text or ", ".join(p for p in [*(a.line or ()), a.city, a.state, a.postalCode] if p)
    mrn = ""
    for identifier in resource.identifier or ():
        if identifier.type and any(c.code == "MR" for c in identifier.type.coding or ()) or \
                (identifier.system or "").lower().endswith("mrn"):
            mrn = identifier.value or ""
            break
    return EhrPatient(
        id=resource.id or "", given=given, family=family, birth_date=resource.birthDate,
        gender=resource.gender or "",
        phones=tuple(t.value for t in telecom if t.system == "phone" and t.value),
        emails=tuple(t.value for t in telecom if t.system == "email" and t.value),
        address=address, mrn=mrn,
    )


def _appointment(resource) -> Appointment:
    practitioner, practitioner_id, patient_id = "", "", ""
    for participant in resource.participant or ():
        actor = participant.actor
        if actor and not practitioner_id and _ref_id(actor.reference, "Practitioner"):
            practitioner, practitioner_id = actor.display or "", _ref_id(actor.reference, "Practitioner")
        if actor and not patient_id:
            patient_id = _ref_id(actor.reference, "Patient")
    slot_id = _ref_id(resource.slot[0].reference, "Slot") if resource.slot else ""
    return Appointment(
        id=resource.id or "", status=resource.status or "", start=_aware(resource.start), end=_aware(resource.end),
        practitioner=practitioner, practitioner_id=practitioner_id,
        service_type=_text(resource.serviceType[0]) if resource.serviceType else "",
        description=resource.description or "", slot_id=slot_id, patient_id=patient_id,
        version=(resource.meta.versionId if resource.meta and resource.meta.versionId else ""),
    )


def _coverage(resource) -> Coverage:
    plan = ""
    for c in resource.class_fhir or ():
        if any(coding.code == "plan" for coding in c.type.coding or ()):
            plan = c.name or c.value or ""
            break
    payer = next((p.display for p in resource.payor or () if p.display), "")
    period = resource.period
    return Coverage(
        id=resource.id or "", status=resource.status or "", payer=payer, plan=plan,
        member_id=resource.subscriberId or "", relationship=_text(resource.relationship),
        period_start=_day(period.start) if period else None,
        period_end=_day(period.end) if period else None,
    )


def _slot(resource) -> Slot:
    return Slot(
        id=resource.id or "", schedule_id=_ref_id(resource.schedule.reference, "Schedule"),
        start=_aware(resource.start), end=_aware(resource.end), status=resource.status or "",
        service_types=tuple(t for t in (_text(s) for s in resource.serviceType or ()) if t),
    )


# --- the adapter ------------------------------------------------------------

class FhirR4Adapter:
    """An EHR reached over FHIR R4 REST at `base_url`."""

    def __init__(self, base_url: str, *, auth=None, timeout: float = 5.0, label: str = "EHR",
                 transport: httpx.BaseTransport | None = None, on_request: Callable[[str, dict], None] | None = None):
        self.base_url = base_url.rstrip("/")
        self.auth = auth or NoAuth()
        self.label = label
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)), transport=transport,
            headers={"Accept": FHIR_JSON, "User-Agent": "patient-messaging-hub"}, follow_redirects=False,
        )
        self._capabilities: dict | None = None
        self._on_request = on_request  # tests: sees every resource sent

    def close(self) -> None:
        self.client.close()

    # transport

    def _request(self, method: str, path: str, *, params=None, resource: dict | None = None,
                 headers: dict | None = None) -> httpx.Response:
        url = f"{self.base_url}/{path}"
        try:
            send_headers = {**self.auth.header(self.client), **(headers or {})}
            if resource is not None:
                send_headers["Content-Type"] = FHIR_JSON
                if self._on_request:
                    self._on_request(method, resource)
            response = self.client.request(method, url, params=params, json=resource, headers=send_headers)
            if response.status_code == 401 and isinstance(self.auth, ClientCredentials):
                self.auth.forget()  # an expired or revoked token: one fresh try
                send_headers.update(self.auth.header(self.client))
                response = self.client.request(method, url, params=params, json=resource, headers=send_headers)
        except httpx.TimeoutException:
            raise EhrUnavailable(f"The {self.label} did not answer in time.") from None
        except httpx.HTTPError as exc:
            log.warning("EHR request failed: %s", type(exc).__name__)
            raise EhrUnavailable(f"The {self.label} cannot be reached.") from None
        status = response.status_code
        if status >= 500 or status in (401, 403, 429):
            log.warning("EHR answered %s to %s %s", status, method, path.split("/")[0].split("?")[0])
            raise EhrUnavailable(f"The {self.label} answered with an error ({status}).")
        if status == 404:
            raise EhrNotFound(f"The {self.label} has no such record.")
        if status in (409, 412):
            raise EhrConflict(f"The {self.label} refused the change because the record changed meanwhile.")
        if status >= 400:
            raise EhrRejected(f"The {self.label} refused the request ({status}).")
        return response

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise EhrBadResponse(f"The {self.label} answered with something that is not JSON.") from None

    def _read(self, resource_type: str, resource_id: str):
        if not resource_id or "/" in resource_id:
            raise EhrNotFound(f"The {self.label} has no such record.")
        return _validated(resource_type, self._json(self._request("GET", f"{resource_type}/{resource_id}")))

    def _search(self, resource_type: str, params: dict) -> list:
        bundle = _validated("Bundle", self._json(self._request("GET", resource_type, params=params)))
        if bundle.type != "searchset":
            raise EhrBadResponse(f"The {self.label} answered a search with a {bundle.type} bundle.")
        found = []
        for entry in bundle.entry or ():
            resource = entry.resource  # already parsed into its own R4B model
            if resource is None or resource.get_resource_type() != resource_type:
                continue  # an OperationOutcome or an _include: not what was searched
            if entry.search and entry.search.mode == "include":
                continue
            found.append(resource)
        return found

    def _send(self, method: str, path: str, model, headers: dict | None = None):
        resource = model.model_dump(mode="json", exclude_none=True)
        response = self._request(method, path, resource=resource,
                                 headers={"Prefer": "return=representation", **(headers or {})})
        if response.content:
            return self._json(response)
        # A server that answers 201 with only a Location: read it back.
        location = response.headers.get("Location", "")
        kind = resource["resourceType"]
        new_id = _ref_id(location, kind) or resource.get("id", "")
        return self._json(self._request("GET", f"{kind}/{new_id}"))

    # capabilities

    def capabilities(self) -> dict:
        if self._capabilities is None:
            statement = self._json(self._request("GET", "metadata"))
            if not isinstance(statement, dict) or statement.get("resourceType") != "CapabilityStatement":
                raise EhrBadResponse(f"The {self.label} did not describe its capabilities.")
            _validated("CapabilityStatement", statement)
            supported: dict[str, set[str]] = {}
            for rest in statement.get("rest") or ():
                if rest.get("mode") != "server":
                    continue
                for resource in rest.get("resource") or ():
                    supported[resource.get("type", "")] = {i.get("code") for i in resource.get("interaction") or ()}
            self._capabilities = supported
        return self._capabilities

    def supports_eligibility(self) -> bool:
        return "create" in self.capabilities().get("CoverageEligibilityRequest", set())

    # patients

    def patients_by_phone(self, phone: str) -> list[EhrPatient]:
        found = [_patient(p) for p in self._search("Patient", {"phone": phone, "_count": 20})]
        # Servers match phone numbers loosely; keep only those that are this one.
        wanted = _digits(phone)
        return [p for p in found if any(_digits(n) == wanted for n in p.phones)]

    def patients_by_details(self, family: str, birth_date: date) -> list[EhrPatient]:
        return [_patient(p) for p in self._search(
            "Patient", {"family": family, "birthdate": birth_date.isoformat(), "_count": 20})]

    def patient(self, patient_id: str) -> EhrPatient:
        return _patient(self._read("Patient", patient_id))

    # appointments

    def appointments(self, patient_id: str, since: datetime) -> list[Appointment]:
        found = self._search("Appointment", {"patient": f"Patient/{patient_id}", "date": f"ge{since.isoformat()}",
                                             "_sort": "date", "_count": 50})
        return sorted((_appointment(a) for a in found),
                      key=lambda a: a.start or datetime.max.replace(tzinfo=timezone.utc))

    def appointment(self, appointment_id: str) -> Appointment:
        return _appointment(self._read("Appointment", appointment_id))

    # insurance

    def coverages(self, patient_id: str) -> list[Coverage]:
        return [_coverage(c) for c in self._search("Coverage", {"beneficiary": f"Patient/{patient_id}",
                                                                "_count": 20})]

    def check_eligibility(self, patient_id: str, coverage_id: str) -> Eligibility:
        if not self.supports_eligibility():
            raise EhrNotSupported(f"Eligibility checks are not supported by this {self.label}.")
        coverage = self._read("Coverage", coverage_id)
        if _ref_id(coverage.beneficiary.reference, "Patient") != patient_id:
            raise EhrNotFound(f"The {self.label} has no such coverage for this patient.")
        now = datetime.now(timezone.utc)
        request = CoverageEligibilityRequest.model_validate({
            "resourceType": "CoverageEligibilityRequest",
            "status": "active",
            "purpose": ["validation"],
            "patient": {"reference": f"Patient/{patient_id}"},
            "created": now.isoformat(),
            "insurer": coverage.payor[0].model_dump(mode="json", exclude_none=True),
            "insurance": [{"focal": True, "coverage": {"reference": f"Coverage/{coverage_id}"}}],
        })
        answer = self._send("POST", "CoverageEligibilityRequest", request)
        response = _validated("CoverageEligibilityResponse", answer)
        in_force = any(i.inforce for i in response.insurance or ())
        return Eligibility(coverage_id=coverage_id, in_force=bool(in_force), outcome=response.outcome or "",
                           disposition=response.disposition or "", checked_at=now)

    # scheduling

    def schedules(self) -> list[Schedule]:
        found = []
        for s in self._search("Schedule", {"active": "true", "_count": 100}):
            practitioner, practitioner_id = "", ""
            for actor in s.actor or ():
                if _ref_id(actor.reference, "Practitioner"):
                    practitioner, practitioner_id = actor.display or "", _ref_id(actor.reference, "Practitioner")
                    break
            found.append(Schedule(id=s.id or "", practitioner=practitioner, practitioner_id=practitioner_id,
                                  service_types=tuple(t for t in (_text(c) for c in s.serviceType or ()) if t)))
        return found

    def free_slots(self, schedule_ids: list[str], start: datetime, end: datetime,
                   service_type: str = "") -> list[Slot]:
        params: dict[str, Any] = {
            "schedule": ",".join(f"Schedule/{s}" for s in schedule_ids), "status": "free",
            "start": [f"ge{start.isoformat()}", f"lt{end.isoformat()}"], "_sort": "start", "_count": 200,
        }
        slots = [_slot(s) for s in self._search("Slot", params)]
        if service_type:
            slots = [s for s in slots if not s.service_types or service_type in s.service_types]
        return sorted((s for s in slots if s.status == "free" and start <= s.start < end), key=lambda s: s.start)

    def slot(self, slot_id: str) -> Slot:
        return _slot(self._read("Slot", slot_id))

    def book(self, patient: EhrPatient, slot: Slot, schedule: Schedule, service_type: str,
             reason: str) -> Appointment:
        resource = {
            "resourceType": "Appointment",
            "status": "booked",
            "slot": [{"reference": f"Slot/{slot.id}"}],
            "start": slot.start.isoformat(),
            "end": slot.end.isoformat(),
            "created": datetime.now(timezone.utc).date().isoformat(),
            "participant": [
                {"actor": {"reference": f"Patient/{patient.id}", "display": patient.name},
                 "required": "required", "status": "accepted"},
                {"actor": {"reference": f"Practitioner/{schedule.practitioner_id}",
                           "display": schedule.practitioner}, "required": "required", "status": "accepted"},
            ],
        }
        if service_type:
            resource["serviceType"] = [{"text": service_type}]
        if reason:
            resource["description"] = reason[:500]
        model = FhirAppointment.model_validate(resource)
        return _appointment(_validated("Appointment", self._send("POST", "Appointment", model)))

    def _update(self, appointment_id: str, change: Callable[[dict], None]) -> Appointment:
        response = self._request("GET", f"Appointment/{appointment_id}")
        current = self._json(response)
        _validated("Appointment", current)
        change(current)
        model = FhirAppointment.model_validate(current)
        headers = {"If-Match": response.headers["ETag"]} if response.headers.get("ETag") else {}
        return _appointment(_validated("Appointment", self._send("PUT", f"Appointment/{appointment_id}", model,
                                                                 headers)))

    def reschedule(self, appointment_id: str, slot: Slot, schedule: Schedule) -> Appointment:
        def change(resource: dict) -> None:
            resource["slot"] = [{"reference": f"Slot/{slot.id}"}]
            resource["start"], resource["end"] = slot.start.isoformat(), slot.end.isoformat()
            resource["participant"] = [
                p for p in resource.get("participant", ())
                if not _ref_id((p.get("actor") or {}).get("reference"), "Practitioner")
            ] + [{"actor": {"reference": f"Practitioner/{schedule.practitioner_id}",
                            "display": schedule.practitioner}, "required": "required", "status": "accepted"}]
        return self._update(appointment_id, change)

    def cancel(self, appointment_id: str, reason: str) -> Appointment:
        def change(resource: dict) -> None:
            resource["status"] = "cancelled"
            if reason:
                resource["cancelationReason"] = {"text": reason[:200]}
        return self._update(appointment_id, change)
