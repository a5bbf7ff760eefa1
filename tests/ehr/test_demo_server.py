"""The demo EHR over real HTTP: discovery, search, reads, booking and its
conflicts, the simulated payer, SMART backend-services tokens, injected
faults, and its seed."""

from __future__ import annotations

import base64
import logging
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fhir.resources.R4B import get_fhir_model_class

from hub.ehr.demo import Store, add_patient, seed, validate_resource
from hub.ehr.demo.app import JWT_BEARER

ROOT = Path(__file__).resolve().parents[2]
SEEDED_TYPES = ("Practitioner", "Schedule", "Slot", "Patient", "Coverage", "Appointment")


def valid(resource: dict) -> dict:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def client(server, token: str | None = None, timeout: float = 5.0) -> httpx.Client:
    headers = {"Accept": "application/fhir+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=timeout)


def ids(bundle: dict) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", ())]


def outcome_code(response: httpx.Response) -> str:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]["code"]


def free_slots(fhir: httpx.Client, schedule: str = "sch-lee", count: int = 2) -> list[dict]:
    bundle = fhir.get("/Slot", params={"schedule": f"Schedule/{schedule}", "status": "free", "_sort": "start",
                                       "_count": count}).json()
    return [e["resource"] for e in bundle["entry"]]


def appointment(slot_id: str, patient: str = "pat-jones", **fields) -> dict:
    return {
        "resourceType": "Appointment", "status": "booked", "slot": [{"reference": f"Slot/{slot_id}"}],
        "participant": [
            {"actor": {"reference": f"Patient/{patient}", "display": "Pat Jones"}, "status": "accepted"},
            {"actor": {"reference": "Practitioner/dr-lee", "display": "Dr. Ana Lee"}, "status": "accepted"},
        ],
        **fields,
    }


def slot_status(fhir: httpx.Client, slot_id: str) -> str:
    return fhir.get(f"/Slot/{slot_id}").json()["status"]


def book(fhir: httpx.Client, slot_id: str) -> httpx.Response:
    response = fhir.post("/Appointment", json=appointment(slot_id))
    assert response.status_code == 201, response.text
    return response


# --- discovery ---------------------------------------------------------------

def test_metadata_describes_the_server(demo_ehr):
    with client(demo_ehr) as fhir:
        response = fhir.get("/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    statement = valid(response.json())
    assert (statement["fhirVersion"], statement["status"], statement["kind"], statement["format"]) == \
        ("4.0.1", "active", "instance", ["json"])
    rest = statement["rest"][0]
    assert "security" not in rest
    resources = {r["type"]: r for r in rest["resource"]}
    interactions = {t: {i["code"] for i in r["interaction"]} for t, r in resources.items()}
    assert {"create", "update", "read", "search-type"} <= interactions["Appointment"]
    assert interactions["CoverageEligibilityRequest"] == {"create"}
    assert {"schedule", "status", "start", "service-type"} <= {p["name"] for p in resources["Slot"]["searchParam"]}
    assert {"phone", "telecom", "family", "given", "birthdate"} <= \
        {p["name"] for p in resources["Patient"]["searchParam"]}


def test_without_eligibility_it_is_neither_listed_nor_served(demo_ehr_factory):
    server = demo_ehr_factory(eligibility=False)
    with client(server) as fhir:
        types = {r["type"] for r in fhir.get("/metadata").json()["rest"][0]["resource"]}
        response = fhir.post("/CoverageEligibilityRequest", json={"resourceType": "CoverageEligibilityRequest"})
    assert "CoverageEligibilityRequest" not in types and "Appointment" in types
    assert response.status_code == 404
    assert outcome_code(response) == "not-supported"


# --- search and read -----------------------------------------------------------

@pytest.mark.parametrize("param, value", [
    ("phone", "+15555550101"), ("phone", "(555) 555-0101"), ("phone", "phone|+15555550101"),
    ("telecom", "555.555.0101"),
])
def test_patients_are_found_by_phone_in_any_format(demo_ehr, param, value):
    with client(demo_ehr) as fhir:
        bundle = valid(fhir.get("/Patient", params={param: value}).json())
    assert (bundle["type"], bundle["total"], ids(bundle)) == ("searchset", 1, ["pat-jones"])
    assert bundle["entry"][0]["fullUrl"] == f"{demo_ehr.base_url}/Patient/pat-jones"


def test_a_shared_phone_finds_the_family_and_a_new_number_finds_nobody(demo_ehr):
    with client(demo_ehr) as fhir:
        family = fhir.get("/Patient", params={"phone": "+15555550142"}).json()
        nobody = valid(fhir.get("/Patient", params={"phone": "+15555550123"}).json())
    assert sorted(ids(family)) == ["pat-chen-e", "pat-chen-l"]
    assert nobody["total"] == 0 and "entry" not in nobody


def test_patient_search_by_name_and_birthdate_ignoring_unknown_params(demo_ehr):
    with client(demo_ehr) as fhir:
        found = fhir.get("/Patient", params={"family": "chen", "given": "Lin", "birthdate": "1979-05-21",
                                             "_elements": "name", "shoe-size": "9"}).json()
        born_before = fhir.get("/Patient", params={"birthdate": "lt1960-01-01"}).json()
        by_id = fhir.get("/Patient", params={"_id": "pat-brown,pat-miller"}).json()
    assert ids(found) == ["pat-chen-l"]
    assert sorted(ids(born_before)) == ["pat-brown", "pat-miller"]
    assert sorted(ids(by_id)) == ["pat-brown", "pat-miller"]


def test_reads_carry_the_version_as_etag(demo_ehr):
    with client(demo_ehr) as fhir:
        patient = fhir.get("/Patient/pat-jones")
        version = fhir.get("/Patient/pat-jones/_history/1")
        missing = fhir.get("/Patient/pat-nobody")
        unknown_type = fhir.get("/Observation/obs-1")
        not_allowed = fhir.delete("/Patient/pat-jones")
    assert patient.status_code == 200 and patient.headers["etag"] == 'W/"1"'
    assert valid(patient.json())["name"][0]["family"] == "Jones"
    assert version.json() == patient.json()
    assert (missing.status_code, outcome_code(missing)) == (404, "not-found")
    assert (unknown_type.status_code, outcome_code(unknown_type)) == (404, "not-supported")
    assert not_allowed.status_code == 405


def test_schedule_search(demo_ehr):
    with client(demo_ehr) as fhir:
        lee = fhir.get("/Schedule", params={"actor": "Practitioner/dr-lee", "active": "true"}).json()
        physicals = fhir.get("/Schedule", params={"service-type": "Annual physical"}).json()
        nurse = fhir.get("/Schedule", params={"service-type": "http://example.org/demo-ehr/service-type|nurse-visit"})
    assert ids(lee) == ["sch-lee"]
    assert lee["entry"][0]["resource"]["actor"][0]["display"] == "Dr. Ana Lee"
    assert ids(physicals) == ["sch-patel"]
    assert ids(nurse.json()) == ["sch-park"]


def test_slot_search_by_schedules_range_and_status(demo_ehr):
    zone = ZoneInfo("America/New_York")
    start = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    end = start + timedelta(days=7)
    with client(demo_ehr) as fhir:
        bundle = valid(fhir.get("/Slot", params={
            "schedule": "Schedule/sch-lee,Schedule/sch-park", "status": "free",
            "start": [f"ge{start.isoformat()}", f"lt{end.isoformat()}"], "_sort": "start", "_count": 200,
        }).json())
        everything = fhir.get("/Slot", params={"start": [f"ge{start.isoformat()}", f"lt{end.isoformat()}"],
                                               "_count": 200}).json()
        page = fhir.get("/Slot", params={"_count": 5}).json()
    slots = [e["resource"] for e in bundle["entry"]]
    assert bundle["total"] == len(slots) > 10
    assert {s["schedule"]["reference"] for s in slots} == {"Schedule/sch-lee", "Schedule/sch-park"}
    assert all(s["status"] == "free" and start <= datetime.fromisoformat(s["start"]) < end for s in slots)
    starts = [datetime.fromisoformat(s["start"]) for s in slots]
    assert starts == sorted(starts)
    statuses = {e["resource"]["status"] for e in everything["entry"]}
    assert statuses == {"free", "busy"}
    assert len(page["entry"]) == 5 and page["total"] > 5
    assert any(link["relation"] == "next" for link in page["link"])


def test_bad_search_values_are_400_not_500(demo_ehr):
    with client(demo_ehr) as fhir:
        for params in ({"start": "geyesterday"}, {"_count": "lots"}, {"date": "2026-13-45"}):
            path = "/Appointment" if "date" in params else "/Slot"
            response = fhir.get(path, params=params)
            assert (response.status_code, outcome_code(response)) == (400, "invalid")


# --- booking -------------------------------------------------------------------

def test_booking_takes_the_slot_and_a_second_booking_conflicts(demo_ehr):
    with client(demo_ehr) as fhir:
        slot = free_slots(fhir)[0]
        response = book(fhir, slot["id"])
        booked = valid(response.json())
        assert response.headers["location"] == f"{demo_ehr.base_url}/Appointment/{booked['id']}/_history/1"
        assert response.headers["etag"] == 'W/"1"'
        assert (booked["start"], booked["end"], booked["status"]) == (slot["start"], slot["end"], "booked")
        assert slot_status(fhir, slot["id"]) == "busy"
        mine = fhir.get("/Appointment", params={"patient": "Patient/pat-jones"}).json()

        again = fhir.post("/Appointment", json=appointment(slot["id"]))
        assert again.status_code == 409
        assert again.json()["issue"][0] == {"severity": "error", "code": "conflict",
                                            "diagnostics": "That time is no longer free"}
        assert fhir.get("/Appointment", params={"patient": "pat-jones"}).json()["total"] == mine["total"]
        assert booked["id"] in ids(mine)


def test_simultaneous_bookings_of_a_slot_exactly_one_wins(demo_ehr):
    with client(demo_ehr) as fhir:
        slot = free_slots(fhir)[0]

    def attempt(_: int) -> int:
        with client(demo_ehr) as fhir:
            return fhir.post("/Appointment", json=appointment(slot["id"])).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert sorted(pool.map(attempt, range(6))) == [201] + [409] * 5


def test_reschedule_moves_the_booking(demo_ehr):
    with client(demo_ehr) as fhir:
        first, second = free_slots(fhir)
        booked = book(fhir, first["id"]).json()
        moved = fhir.put(f"/Appointment/{booked['id']}", headers={"If-Match": 'W/"1"'},
                         json={**booked, "slot": [{"reference": f"Slot/{second['id']}"}]})
        assert moved.status_code == 200, moved.text
        assert moved.headers["etag"] == 'W/"2"'
        assert (moved.json()["start"], moved.json()["end"]) == (second["start"], second["end"])
        assert (slot_status(fhir, first["id"]), slot_status(fhir, second["id"])) == ("free", "busy")


def test_reschedule_onto_a_busy_slot_conflicts_and_changes_nothing(demo_ehr):
    with client(demo_ehr) as fhir:
        first, second = free_slots(fhir)
        booked = book(fhir, first["id"]).json()
        book(fhir, second["id"])
        onto_busy = {**booked, "slot": [{"reference": f"Slot/{second['id']}"}]}
        moved = fhir.put(f"/Appointment/{booked['id']}", json=onto_busy)
        assert (moved.status_code, outcome_code(moved)) == (409, "conflict")
        assert fhir.get(f"/Appointment/{booked['id']}").json() == booked
        assert (slot_status(fhir, first["id"]), slot_status(fhir, second["id"])) == ("busy", "busy")


def test_cancelling_frees_the_slot(demo_ehr):
    with client(demo_ehr) as fhir:
        slot = free_slots(fhir)[0]
        booked = book(fhir, slot["id"]).json()
        cancelled = fhir.put(f"/Appointment/{booked['id']}", json={**booked, "status": "cancelled"})
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        assert slot_status(fhir, slot["id"]) == "free"


def test_an_update_from_a_stale_read_is_412(demo_ehr):
    with client(demo_ehr) as fhir:
        booked = book(fhir, free_slots(fhir)[0]["id"]).json()
        stale = fhir.put(f"/Appointment/{booked['id']}", headers={"If-Match": 'W/"7"'},
                         json={**booked, "status": "cancelled"})
        assert (stale.status_code, outcome_code(stale)) == (412, "conflict")
        assert fhir.get(f"/Appointment/{booked['id']}").json()["status"] == "booked"


@pytest.mark.parametrize("change", [
    lambda a: "not json at all",
    lambda a: {**a, "resourceType": "Patient"},
    lambda a: {k: v for k, v in a.items() if k != "participant"},
    lambda a: {**a, "start": "next tuesday"},
    lambda a: {**a, "status": "pending"},
    lambda a: {**a, "status": "sort-of"},
    lambda a: {**a, "slot": [a["slot"][0], a["slot"][0]]},
    lambda a: appointment(a["slot"][0]["reference"].split("/")[1], patient="pat-nobody"),
], ids=["not-json", "not-appointment", "no-participant", "bad-start", "not-booked", "unknown-status", "two-slots",
        "unknown-patient"])
def test_invalid_appointments_are_400(demo_ehr, change):
    with client(demo_ehr) as fhir:
        slot = free_slots(fhir)[0]
        body = change(appointment(slot["id"]))
        response = fhir.post("/Appointment", content=body if isinstance(body, str) else None,
                             json=None if isinstance(body, str) else body)
        assert (response.status_code, outcome_code(response)) == (400, "invalid")
        assert slot_status(fhir, slot["id"]) == "free"


# --- the simulated payer ---------------------------------------------------------

def eligibility_request(patient: str, coverage: str) -> dict:
    return {"resourceType": "CoverageEligibilityRequest", "status": "active", "purpose": ["validation"],
            "patient": {"reference": f"Patient/{patient}"}, "created": datetime.now().astimezone().isoformat(),
            "insurer": {"display": "Some payer"},
            "insurance": [{"focal": True, "coverage": {"reference": f"Coverage/{coverage}"}}]}


@pytest.mark.parametrize("patient, coverage, in_force, payer", [
    ("pat-jones", "cov-jones", True, "Blue Cross Blue Shield"),
    ("pat-brown", "cov-brown", False, "UnitedHealthcare"),
])
def test_eligibility(demo_ehr, patient, coverage, in_force, payer):
    with client(demo_ehr) as fhir:
        response = fhir.post("/CoverageEligibilityRequest", json=eligibility_request(patient, coverage))
        assert response.status_code == 200, response.text
        answer = valid(response.json())
        assert answer["resourceType"] == "CoverageEligibilityResponse"
        assert (answer["outcome"], answer["purpose"], answer["insurer"]["display"]) == \
            ("complete", ["validation"], payer)
        assert answer["insurance"][0] == {"coverage": {"reference": f"Coverage/{coverage}"}, "inforce": in_force}
        assert answer["patient"]["reference"] == f"Patient/{patient}"
        assert fhir.get(f"/CoverageEligibilityResponse/{answer['id']}").status_code == 200
        request_id = answer["request"]["reference"].split("/")[1]
    assert demo_ehr.store.get("CoverageEligibilityRequest", request_id) is not None


def test_eligibility_for_an_unknown_coverage_is_400(demo_ehr):
    with client(demo_ehr) as fhir:
        response = fhir.post("/CoverageEligibilityRequest", json=eligibility_request("pat-jones", "cov-nobody"))
    assert (response.status_code, outcome_code(response)) == (400, "invalid")


# --- SMART backend services --------------------------------------------------------

def rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _pems(key)


def ec_pair() -> tuple[str, str]:
    return _pems(ec.generate_private_key(ec.SECP384R1()))


def _pems(key) -> tuple[str, str]:
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def assertion(private_pem: str, audience: str, *, algorithm: str = "RS384", client_id: str = "hub",
              jti: str | None = None, lifetime: int = 240) -> str:
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": audience, "exp": now + lifetime, "iat": now,
              "jti": jti or uuid.uuid4().hex}
    return jwt.encode(claims, private_pem, algorithm=algorithm)


def jwt_form(token: str) -> dict:
    return {"grant_type": "client_credentials", "scope": "system/*.read", "client_assertion_type": JWT_BEARER,
            "client_assertion": token}


def test_client_secret_basic_gets_a_token_that_opens_fhir(demo_ehr_factory):
    server = demo_ehr_factory(clients={"hub": {"secret": "s3cret", "public_key_pem": None}})
    with client(server) as anonymous:
        metadata = anonymous.get("/metadata").json()
        smart = anonymous.get("/.well-known/smart-configuration").json()
        without = anonymous.get("/Patient/pat-jones")
        bad = anonymous.get("/Patient/pat-jones", headers={"Authorization": "Bearer made-up"})
    security = metadata["rest"][0]["security"]
    assert security["extension"][0]["extension"][0] == {"url": "token", "valueUri": server.token_url}
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    assert smart["token_endpoint"] == server.token_url
    assert smart["grant_types_supported"] == ["client_credentials"]
    assert smart["token_endpoint_auth_methods_supported"] == ["private_key_jwt", "client_secret_basic"]
    assert smart["token_endpoint_auth_signing_alg_values_supported"] == ["RS384", "ES384"]
    assert (without.status_code, outcome_code(without), bad.status_code) == (401, "login", 401)

    wrong = httpx.post(server.token_url, data={"grant_type": "client_credentials"}, auth=("hub", "guess"))
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    unsupported = httpx.post(server.token_url, data={"grant_type": "password"}, auth=("hub", "s3cret"))
    assert (unsupported.status_code, unsupported.json()["error"]) == (400, "unsupported_grant_type")
    granted = httpx.post(server.token_url, data={"grant_type": "client_credentials", "scope": "system/*.read"},
                         auth=("hub", "s3cret"))
    assert granted.status_code == 200
    token = granted.json()
    assert (token["token_type"], token["expires_in"], token["scope"]) == ("bearer", 300, "system/*.read")
    with client(server, token["access_token"]) as fhir:
        assert fhir.get("/Patient/pat-jones").status_code == 200


@pytest.mark.parametrize("algorithm, pair", [("RS384", rsa_pair), ("ES384", ec_pair)])
def test_private_key_jwt(demo_ehr_factory, algorithm, pair):
    private, public = pair()
    server = demo_ehr_factory(clients={"hub": {"secret": None, "public_key_pem": public}})
    signed = assertion(private, server.token_url, algorithm=algorithm)
    granted = httpx.post(server.token_url, data=jwt_form(signed))
    assert granted.status_code == 200, granted.text
    with client(server, granted.json()["access_token"]) as fhir:
        assert fhir.get("/Slot", params={"_count": 1}).status_code == 200

    replayed = httpx.post(server.token_url, data=jwt_form(signed))
    assert (replayed.status_code, replayed.json()["error"]) == (401, "invalid_client")


@pytest.mark.parametrize("make", [
    lambda key, url: assertion(key, "https://elsewhere.example/token"),
    lambda key, url: assertion(key, url, lifetime=3600),
    lambda key, url: assertion(key, url, lifetime=-60),
    lambda key, url: assertion(key, url, client_id="stranger"),
    lambda key, url: assertion(rsa_pair()[0], url),
], ids=["wrong-audience", "too-long-lived", "expired", "unknown-client", "wrong-key"])
def test_bad_assertions_are_refused(demo_ehr_factory, make):
    private, public = rsa_pair()
    server = demo_ehr_factory(clients={"hub": {"secret": None, "public_key_pem": public}})
    response = httpx.post(server.token_url, data=jwt_form(make(private, server.token_url)))
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


def test_basic_credentials_are_form_decoded(demo_ehr_factory):
    server = demo_ehr_factory(clients={"hub app": {"secret": "p@ss word", "public_key_pem": None}})
    encoded = base64.b64encode(b"hub+app:p%40ss+word").decode()
    response = httpx.post(server.token_url, data={"grant_type": "client_credentials"},
                          headers={"Authorization": f"Basic {encoded}"})
    assert response.status_code == 200


# --- faults ----------------------------------------------------------------------

def test_status_fault_hits_only_its_resource_type(demo_ehr):
    demo_ehr.app.faults.set("Patient", "status", status=503)
    with client(demo_ehr) as fhir:
        failed = fhir.get("/Patient", params={"phone": "+15555550101"})
        assert (failed.status_code, outcome_code(failed)) == (503, "transient")
        assert fhir.get("/Slot", params={"_count": 1}).status_code == 200
        assert fhir.get("/metadata").status_code == 200
        demo_ehr.app.faults.clear()
        assert fhir.get("/Patient/pat-jones").status_code == 200


def test_delay_fault_makes_the_client_time_out(demo_ehr):
    demo_ehr.app.faults.set("*", "delay", seconds=0.5)
    with client(demo_ehr, timeout=0.1) as fhir, pytest.raises(httpx.ReadTimeout):
        fhir.get("/metadata")


def test_malformed_fault_serves_invalid_fhir(demo_ehr):
    demo_ehr.app.faults.set("Patient", "malformed")
    with client(demo_ehr) as fhir:
        search = fhir.get("/Patient", params={"phone": "+15555550101"})
        read = fhir.get("/Patient/pat-jones")
    assert search.status_code == read.status_code == 200
    bundle = search.json()
    assert bundle["entry"][0]["resource"]["gender"] == 42
    get_fhir_model_class("Bundle").model_validate({**bundle, "entry": []})  # only the entry is wrong
    for body in (bundle, read.json()):
        with pytest.raises(ValueError):
            valid(body)


def test_garbage_fault_answers_with_something_that_is_not_json(demo_ehr):
    demo_ehr.app.faults.set("*", "garbage", times=1)
    with client(demo_ehr) as fhir:
        garbled = fhir.get("/metadata")
        assert garbled.status_code == 200
        with pytest.raises(ValueError):
            garbled.json()
        assert fhir.get("/metadata").json()["resourceType"] == "CapabilityStatement"


def test_unknown_fault_kinds_are_refused(demo_ehr):
    with pytest.raises(ValueError):
        demo_ehr.app.faults.set("*", "explode")


def test_the_server_logs_no_request_data(demo_ehr, capfd, caplog):
    caplog.set_level(logging.WARNING, logger="httpx")  # the client's own request log is not the server's
    caplog.set_level(logging.DEBUG)
    with client(demo_ehr) as fhir:
        fhir.get("/Patient", params={"phone": "+15555550142", "family": "Chen"})
        fhir.post("/Appointment", content=b"{broken")
    out, err = capfd.readouterr()
    logged = out + err + caplog.text
    assert "5555550142" not in logged and "Chen" not in logged and "Patient" not in logged


# --- the seed ----------------------------------------------------------------------

def test_every_seeded_resource_is_valid_r4(demo_ehr):
    for resource_type in SEEDED_TYPES:
        resources = list(demo_ehr.store.search(resource_type))
        assert resources, resource_type
        for resource in resources:
            valid(resource)


def test_seeded_practice(demo_ehr):
    store = demo_ehr.store
    assert store.get("Practitioner", "dr-patel")["name"][0]["prefix"] == ["Dr."]
    assert store.get("Practitioner", "rn-park")["name"][0]["suffix"] == ["RN"]
    lee = store.get("Schedule", "sch-lee")
    assert [t["text"] for t in lee["serviceType"]] == ["Office visit", "New patient visit"]
    assert {p["id"] for p in store.search("Patient")} == {"pat-jones", "pat-miller", "pat-chen-l", "pat-chen-e",
                                                          "pat-brown"}
    jones = store.get("Coverage", "cov-jones")
    assert (jones["subscriberId"], jones["class"][0]["value"], jones["class"][0]["name"]) == \
        ("XJP884512", "BCBS-PPO-GOLD", "BCBS PPO Gold")
    emma = store.get("Coverage", "cov-chen-e")
    assert emma["subscriber"]["reference"] == "Patient/pat-chen-l"
    assert emma["relationship"]["coding"][0]["code"] == "child"
    for appt in store.search("Appointment"):
        assert store.get("Slot", appt["slot"][0]["reference"].split("/")[1])["status"] == "busy"
    upcoming = store.get("Appointment", "appt-jones-physical")
    assert upcoming["status"] == "booked" and datetime.fromisoformat(upcoming["start"]) > datetime.now().astimezone()


def test_seed_is_idempotent_and_tops_up_slots(tmp_path):
    store = Store(tmp_path / "ehr.sqlite3")
    now = datetime(2026, 3, 2, 8, 0, tzinfo=ZoneInfo("America/New_York"))
    seed(store, now=now, days=14)

    def snapshot() -> dict[str, dict[str, str]]:
        return {t: {r["id"]: r["meta"]["versionId"] for r in store.search(t)} for t in SEEDED_TYPES}

    first = snapshot()
    seed(store, now=now, days=14)
    assert snapshot() == first

    booked = next(s for s in store.search("Slot") if s["status"] == "busy")
    seed(store, now=now + timedelta(days=7), days=14)
    later = snapshot()
    assert len(later["Slot"]) > len(first["Slot"])
    assert {t: v for t, v in later.items() if t != "Slot"} == {t: v for t, v in first.items() if t != "Slot"}
    assert all(later["Slot"][sid] == version for sid, version in first["Slot"].items())
    assert store.get("Slot", booked["id"]) == booked
    assert "slot-lee-202603020900" in first["Slot"] and "slot-lee-202603070900" not in first["Slot"]  # a Saturday


def test_add_patient(demo_ehr):
    patient = add_patient(demo_ehr.store, "pat-new", "Nia", "Okafor", date(1990, 1, 2), "+15555550999",
                          coverage={"payor": "Cigna", "plan": "Cigna Open Access", "member_id": "U1234"})
    validate_resource(patient)
    with client(demo_ehr) as fhir:
        assert ids(fhir.get("/Patient", params={"phone": "555-555-0999"}).json()) == ["pat-new"]
        assert ids(fhir.get("/Coverage", params={"patient": "pat-new", "status": "active"}).json()) == ["cov-new"]


# --- the command line --------------------------------------------------------------

@pytest.mark.slow
def test_the_command_line_seeds_serves_and_stops_on_sigterm(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.ehr.demo", "serve", "--port", "0", "--db", str(tmp_path / "var" / "ehr.sqlite3"),
         "--seed", "--no-eligibility"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("Demo EHR (FHIR R4) at http://127.0.0.1:") and line.endswith("/fhir/R4\n")
        base_url = line.rsplit(" ", 1)[1].strip()
        assert httpx.get(f"{base_url}/Patient", params={"phone": "+15555550101"}).json()["total"] == 1
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert process.stderr.read() == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
