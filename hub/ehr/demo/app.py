"""The demo EHR's HTTP surface: a small FHIR R4 REST server as a WSGI app.

`DemoEhr(store)` answers under /fhir/R4/: the CapabilityStatement, reads
and vreads, searches (Bundle searchset), Appointment create and update that
book, move and free Slots atomically, and a synchronous simulated payer for
CoverageEligibilityRequest. With `clients`, it is also a SMART Backend
Services authorization server (POST /auth/token: client_secret_basic or a
private_key_jwt assertion) and every FHIR call but discovery needs a bearer
token. `faults` lets tests make it slow, failing or wrong.

Bad input is answered with an OperationOutcome and a 4xx status, never a
500. Nothing here logs request paths, query strings or bodies: they carry
patients' phone numbers and names.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from hub.ehr.demo.store import Store, validate_resource

log = logging.getLogger(__name__)

FHIR_PREFIX = "/fhir/R4"
TOKEN_PATH = "/auth/token"
FHIR_JSON = "application/fhir+json; charset=utf-8"
MAX_BODY = 1_000_000
TOKEN_LIFETIME = 300
MAX_ASSERTION_LIFETIME = 300
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SIGNING_ALGORITHMS = ["RS384", "ES384"]
DEFAULT_SCOPE = "system/*.read system/*.write"
DEFAULT_COUNT, MAX_COUNT = 50, 200

APPOINTMENT_STATUSES = {"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow",
                        "entered-in-error", "checked-in", "waitlist"}
# An appointment in any other status holds its slot.
RELEASING_STATUSES = {"cancelled", "entered-in-error"}


# --- responses ---------------------------------------------------------------

@dataclass
class Response:
    status: int
    resource: dict | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    raw: bytes | None = None  # a body that is not a resource
    content_type: str = FHIR_JSON

    def body(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.resource, separators=(",", ":")).encode() if self.resource is not None else b""


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # an injected status outside the standard ones
        return "Error"


def operation_outcome(code: str, message: str) -> dict:
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": message}]}


class FhirError(Exception):
    """Answered as an OperationOutcome with `status`."""

    def __init__(self, status: int, code: str, message: str, headers: Iterable[tuple[str, str]] = ()):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, list(headers)

    def response(self) -> Response:
        return Response(self.status, operation_outcome(self.code, self.message), self.headers)


def _bad_request(message: str) -> FhirError:
    return FhirError(400, "invalid", message)


def _resource_response(status: int, resource: dict, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(status, resource, [("ETag", f'W/"{resource["meta"]["versionId"]}"'), *headers])


# --- references, dates -------------------------------------------------------

def parse_reference(reference: str, default_type: str | None = None) -> tuple[str | None, str]:
    """'Type/id', an absolute URL ending in Type/id[/_history/n], or a bare
    id (of `default_type`) as (type, id)."""
    parts = [p for p in reference.split("/") if p]
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) >= 2:
        return parts[-2], parts[-1]
    return default_type, parts[0] if parts else ""


PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def day_range(text: str) -> tuple[date, date]:
    """The days a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD) covers, as
    [first, after-last). ValueError if it is not one."""
    m = PARTIAL_DATE.match(text)
    if not m:
        raise ValueError("not a date")
    year, month, day = int(m[1]), int(m[2] or 1), int(m[3] or 1)
    first = date(year, month, day)
    if m[3]:
        return first, first + timedelta(days=1)
    if m[2]:
        return first, date(year + month // 12, month % 12 + 1, 1)
    return first, date(year + 1, 1, 1)


def instant(text: str) -> datetime:
    """A FHIR date or dateTime as an aware datetime (UTC when it has no offset)."""
    value = datetime.combine(day_range(text)[0], datetime.min.time()) if PARTIAL_DATE.match(text) \
        else datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class DateQuery:
    """One value of a date search parameter: a prefix and either a day range
    (a date was given) or an instant (a dateTime was given)."""

    prefix: str
    first: date
    after: date
    at: datetime | None

    @classmethod
    def parse(cls, raw: str) -> DateQuery:
        prefix, text = (raw[:2], raw[2:]) if raw[:2] in ("eq", "ge", "gt", "le", "lt") else ("eq", raw)
        text = text.replace(" ", "+")  # an offset's '+' sent unencoded arrives as a space
        if PARTIAL_DATE.match(text):
            return cls(prefix, *day_range(text), None)
        at = instant(text)
        return cls(prefix, at.date(), at.date() + timedelta(days=1), at)

    def matches(self, value: str | None) -> bool:
        if not value:
            return False
        if self.at is None or PARTIAL_DATE.match(value):
            # Day precision: a dateTime counts on its own (local) date.
            lo, hi = day_range(value[:10])
            return {"eq": self.first <= lo < self.after, "ge": hi > self.first, "gt": lo >= self.after,
                    "le": lo < self.after, "lt": lo < self.first}[self.prefix]
        v = instant(value)
        return {"eq": v == self.at, "ge": v >= self.at, "gt": v > self.at, "le": v <= self.at,
                "lt": v < self.at}[self.prefix]


def _phone_digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())[-10:]


# --- search parameters -------------------------------------------------------

@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str  # the FHIR search parameter type, for the CapabilityStatement
    parse: Callable[[str], Any]  # one comma-separated value; ValueError if bad
    match: Callable[[dict, Any], bool]


def _token(name: str, values: Callable[[dict], Iterable[str]]) -> SearchParam:
    return SearchParam(name, "token", lambda v: v.rpartition("|")[2], lambda r, v: v in values(r))


def _string(name: str, values: Callable[[dict], Iterable[str]]) -> SearchParam:
    # FHIR string search: case-insensitive, matching the start of the value.
    return SearchParam(name, "string", str.casefold,
                       lambda r, v: any(s.casefold().startswith(v) for s in values(r) if s))


def _date(name: str, value: Callable[[dict], str | None]) -> SearchParam:
    return SearchParam(name, "date", DateQuery.parse, lambda r, q: q.matches(value(r)))


def _reference(name: str, references: Callable[[dict], Iterable[dict]], target: str | None = None) -> SearchParam:
    def match(resource: dict, wanted: tuple[str | None, str]) -> bool:
        for ref in references(resource):
            kind, rid = parse_reference((ref or {}).get("reference") or "")
            if rid == wanted[1] and (wanted[0] is None or kind == wanted[0]):
                return True
        return False
    return SearchParam(name, "reference", lambda v: parse_reference(v, target), match)


def _concept(name: str, concepts: Callable[[dict], Iterable[dict]]) -> SearchParam:
    """A token over CodeableConcepts: system|code, a code, or the text."""
    def match(resource: dict, value: str) -> bool:
        system, bar, code = value.rpartition("|")
        for concept in concepts(resource):
            if not bar and (concept.get("text") or "").casefold() == code.casefold():
                return True
            if any(c.get("code") == code and (not bar or c.get("system") == system)
                   for c in concept.get("coding") or ()):
                return True
        return False
    return SearchParam(name, "token", str, match)


def _phone(name: str) -> SearchParam:
    """Phone telecoms compared by their last ten digits, so that E.164,
    national formatting and system|value all find the same patients."""
    def match(resource: dict, digits: str) -> bool:
        return bool(digits) and any(t.get("system") == "phone" and _phone_digits(t.get("value") or "") == digits
                                    for t in resource.get("telecom") or ())
    return SearchParam(name, "token", lambda v: _phone_digits(v.rpartition("|")[2]), match)


def _names(resource: dict) -> list[dict]:
    return resource.get("name") or []


def _actors(resource: dict) -> list[dict]:
    return [p.get("actor") for p in resource.get("participant") or () if p.get("actor")]


_ID = _token("_id", lambda r: [r.get("id", "")])
_STATUS = _token("status", lambda r: [r.get("status", "")])
_SERVICE_TYPE = _concept("service-type", lambda r: r.get("serviceType") or ())

SEARCH_PARAMS: dict[str, list[SearchParam]] = {
    "Patient": [
        _ID, _phone("phone"), _phone("telecom"),
        _string("family", lambda r: [n.get("family", "") for n in _names(r)]),
        _string("given", lambda r: [g for n in _names(r) for g in n.get("given") or ()]),
        _date("birthdate", lambda r: r.get("birthDate")),
    ],
    "Practitioner": [_ID],
    "Schedule": [
        _ID, _token("active", lambda r: [str(r.get("active", True)).lower()]),
        _reference("actor", lambda r: r.get("actor") or ()), _SERVICE_TYPE,
    ],
    "Slot": [
        _ID, _reference("schedule", lambda r: [r.get("schedule")], "Schedule"), _STATUS,
        _date("start", lambda r: r.get("start")), _SERVICE_TYPE,
    ],
    "Appointment": [
        _ID, _reference("patient", _actors, "Patient"), _date("date", lambda r: r.get("start")), _STATUS,
    ],
    "Coverage": [
        _ID, _reference("beneficiary", lambda r: [r.get("beneficiary")], "Patient"),
        _reference("patient", lambda r: [r.get("beneficiary")], "Patient"), _STATUS,
    ],
}

INTERACTIONS: dict[str, tuple[str, ...]] = {
    "Patient": ("read", "vread", "search-type"),
    "Practitioner": ("read", "vread", "search-type"),
    "Schedule": ("read", "vread", "search-type"),
    "Slot": ("read", "vread", "search-type"),
    "Appointment": ("read", "vread", "search-type", "create", "update"),
    "Coverage": ("read", "vread", "search-type"),
}
ELIGIBILITY_INTERACTIONS: dict[str, tuple[str, ...]] = {
    "CoverageEligibilityRequest": ("create",),
    "CoverageEligibilityResponse": ("read", "vread"),
}

SORT_FIELDS = {"start": "start", "date": "start"}


def _sorted(resources: list[dict], sort: str) -> list[dict]:
    # Applied last key first; Python's sort is stable, so earlier keys win.
    for key in reversed([k for k in sort.split(",") if k]):
        field_name = SORT_FIELDS.get(key.lstrip("-"))
        if field_name is None:
            continue
        present = [r for r in resources if r.get(field_name)]
        present.sort(key=lambda r: instant(r[field_name]), reverse=key.startswith("-"))
        resources = present + [r for r in resources if not r.get(field_name)]
    return resources


# --- faults ------------------------------------------------------------------

FAULT_KINDS = ("delay", "status", "malformed", "garbage")


@dataclass
class Fault:
    kind: str
    seconds: float = 1.0
    status: int = 503
    times: int | None = None  # None: until cleared


class Faults:
    """Faults the tests inject: `set("Patient", "status", status=503)`,
    `set("*", "delay", seconds=0.5)`, `set("Slot", "malformed", times=1)`.
    A fault for the request's resource type wins over one for "*";
    metadata and SMART discovery only see "*". Faults apply to FHIR requests
    that passed authentication, never to the token endpoint."""

    def __init__(self) -> None:
        self._faults: dict[str, Fault] = {}
        self._lock = threading.Lock()

    def set(self, target: str, kind: str, **opts: Any) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._faults[target] = Fault(kind, **opts)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, resource_type: str | None) -> Fault | None:
        """The fault for a request, counting it against its `times`."""
        with self._lock:
            target = resource_type if resource_type in self._faults else "*"
            fault = self._faults.get(target)
            if fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self._faults[target]
            return fault


def _corrupt(resource: dict) -> dict:
    """Still JSON, no longer valid R4."""
    bad = {**resource, "meta": {**(resource.get("meta") or {}), "lastUpdated": "not-a-date"}}
    if bad.get("resourceType") == "Patient":
        bad.update(birthDate="not-a-date", gender=42)
    return bad


# --- the token endpoint ------------------------------------------------------

class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


def _invalid_client(description: str) -> OAuthError:
    return OAuthError(401, "invalid_client", description)


class TokenIssuer:
    """OAuth2 client credentials for registered backend clients:
    `{client_id: {"secret": str | None, "public_key_pem": str | None}}`."""

    def __init__(self, clients: dict[str, dict]):
        self.secrets = {cid: c["secret"] for cid, c in clients.items() if c.get("secret")}
        self.keys = {cid: load_pem_public_key(c["public_key_pem"].encode())
                     for cid, c in clients.items() if c.get("public_key_pem")}
        self._tokens: dict[str, float] = {}  # access token -> expiry (monotonic)
        self._seen_jti: dict[tuple[str, str], float] = {}  # (client, jti) -> assertion expiry (epoch)
        self._lock = threading.Lock()

    def issue(self, form: dict[str, str], authorization: str, token_url: str) -> dict:
        grant = form.get("grant_type")
        if not grant:
            raise OAuthError(400, "invalid_request", "grant_type is required")
        if grant != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type", "only client_credentials is supported")
        assertion = form.get("client_assertion")
        basic = authorization[:6].lower() == "basic "
        if basic and assertion:
            raise OAuthError(400, "invalid_request", "use one client authentication method")
        if basic:
            self._check_basic(authorization[6:])
        elif assertion:
            if form.get("client_assertion_type") != JWT_BEARER:
                raise OAuthError(400, "invalid_request", "unsupported client_assertion_type")
            self._check_assertion(assertion, form.get("client_id"), token_url)
        else:
            raise _invalid_client("client authentication is required")
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            self._tokens = {t: e for t, e in self._tokens.items() if e > now}
            self._tokens[token] = now + TOKEN_LIFETIME
        return {"access_token": token, "token_type": "bearer", "expires_in": TOKEN_LIFETIME,
                "scope": form.get("scope") or DEFAULT_SCOPE}

    def valid(self, token: str) -> bool:
        with self._lock:
            return self._tokens.get(token, 0) > time.monotonic()

    def _check_basic(self, encoded: str) -> None:
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise _invalid_client("malformed Basic credentials") from None
        client_id, colon, secret = decoded.partition(":")
        # RFC 6749 2.3.1: both parts are form-encoded before Basic encoding.
        expected = self.secrets.get(unquote_plus(client_id))
        if not colon or expected is None or not hmac.compare_digest(unquote_plus(secret).encode(), expected.encode()):
            raise _invalid_client("unknown client or wrong secret")

    def _check_assertion(self, assertion: str, client_id: str | None, token_url: str) -> None:
        try:
            client_id = client_id or jwt.decode(assertion, options={"verify_signature": False}).get("iss")
            key = self.keys.get(client_id) if isinstance(client_id, str) else None
            if key is None:
                raise _invalid_client("unknown client or no registered key")
            claims = jwt.decode(assertion, key, algorithms=SIGNING_ALGORITHMS, audience=token_url,
                                issuer=client_id, options={"require": ["iss", "sub", "aud", "exp", "jti"]})
        except jwt.PyJWTError:
            raise _invalid_client("the client assertion is not valid") from None
        if claims["sub"] != client_id:
            raise _invalid_client("the assertion's sub must be the client id")
        now = time.time()
        if claims["exp"] > now + MAX_ASSERTION_LIFETIME:
            raise _invalid_client("the assertion expires too far ahead")
        with self._lock:
            self._seen_jti = {k: exp for k, exp in self._seen_jti.items() if exp > now}
            if (client_id, str(claims["jti"])) in self._seen_jti:
                raise _invalid_client("the assertion was already used")
            self._seen_jti[(client_id, str(claims["jti"]))] = claims["exp"]


# --- requests ----------------------------------------------------------------

@dataclass
class Request:
    environ: dict

    @property
    def method(self) -> str:
        return self.environ.get("REQUEST_METHOD", "GET").upper()

    @property
    def origin(self) -> str:
        host = self.environ.get("HTTP_HOST") or \
            f"{self.environ.get('SERVER_NAME', 'localhost')}:{self.environ.get('SERVER_PORT', '80')}"
        return f"{self.environ.get('wsgi.url_scheme', 'http')}://{host}"

    @property
    def base(self) -> str:
        return self.origin + FHIR_PREFIX

    @property
    def token_url(self) -> str:
        return self.origin + TOKEN_PATH

    def header(self, name: str) -> str:
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"), "")

    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.environ.get("QUERY_STRING", ""), keep_blank_values=True)

    def body(self) -> bytes:
        try:
            length = int(self.environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise _bad_request("bad Content-Length") from None
        if length > MAX_BODY:
            raise FhirError(413, "too-costly", "the body is too large")
        return self.environ["wsgi.input"].read(length) if length > 0 else b""

    def json_body(self) -> Any:
        try:
            return json.loads(self.body())
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            raise _bad_request("the body is not JSON") from None


# --- the application ---------------------------------------------------------

class DemoEhr:
    """The demo EHR as a WSGI application over `store`."""

    def __init__(self, store: Store, *, clients: dict[str, dict] | None = None, eligibility: bool = True):
        self.store = store
        self.tokens = TokenIssuer(clients) if clients is not None else None
        self.faults = Faults()
        self.interactions = {**INTERACTIONS, **(ELIGIBILITY_INTERACTIONS if eligibility else {})}
        self.started = datetime.now(timezone.utc).isoformat(timespec="seconds")

    def __call__(self, environ: dict, start_response: Callable) -> list[bytes]:
        response = self._respond(Request(environ))
        body = response.body()
        headers = [("Content-Type", response.content_type), ("Content-Length", str(len(body))), *response.headers]
        start_response(f"{response.status} {_phrase(response.status)}", headers)
        return [body]

    def _respond(self, request: Request) -> Response:
        path = request.environ.get("PATH_INFO", "")
        try:
            if path == TOKEN_PATH:
                return self._token(request)
            if path == FHIR_PREFIX or path.startswith(FHIR_PREFIX + "/"):
                return self._fhir(request, [s for s in path[len(FHIR_PREFIX):].split("/") if s])
            raise FhirError(404, "not-found", "not a FHIR endpoint")
        except FhirError as exc:
            return exc.response()
        except Exception as exc:  # a bug; say only what kind, never the request
            log.error("demo EHR failed (%s) on %s", type(exc).__name__, request.method)
            return FhirError(500, "exception", "internal error").response()

    # token endpoint

    def _token(self, request: Request) -> Response:
        headers = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
        try:
            if self.tokens is None:
                raise OAuthError(404, "invalid_request", "this server has no authorization")
            if request.method != "POST":
                raise OAuthError(405, "invalid_request", "use POST")
            if not request.environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
                raise OAuthError(400, "invalid_request", "the body must be form-encoded")
            pairs = parse_qsl(request.body().decode("utf-8", "replace"), keep_blank_values=True)
            form = dict(pairs)
            if len(form) != len(pairs):
                raise OAuthError(400, "invalid_request", "a parameter is repeated")
            answer = self.tokens.issue(form, request.header("Authorization"), request.token_url)
            return Response(200, answer, headers, content_type="application/json")
        except OAuthError as exc:
            if exc.status == 401:
                headers.append(("WWW-Authenticate", 'Basic realm="demo-ehr"'))
            return Response(exc.status, {"error": exc.error, "error_description": exc.description}, headers,
                            content_type="application/json")

    # FHIR

    def _fhir(self, request: Request, segments: list[str]) -> Response:
        discovery = segments in (["metadata"], [".well-known", "smart-configuration"])
        if self.tokens is not None and not discovery:
            self._require_token(request)
        resource_type = segments[0] if segments and not discovery else None
        fault = self.faults.take(resource_type)
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds)
        elif fault is not None and fault.kind == "status":
            return FhirError(fault.status, "transient" if fault.status >= 500 else "processing",
                             "injected fault").response()
        elif fault is not None and fault.kind == "garbage":
            return Response(200, raw=b"<html><body>Gateway says hello</body></html>")
        try:
            response = self._route(request, segments)
        except FhirError as exc:
            response = exc.response()
        if fault is not None and fault.kind == "malformed":
            return self._malformed(request, response, resource_type, segments)
        return response

    def _require_token(self, request: Request) -> None:
        authorization = request.header("Authorization")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not self.tokens.valid(token.strip()):
            raise FhirError(401, "login", "a valid bearer token is required",
                            [("WWW-Authenticate", 'Bearer realm="demo-ehr"')])

    def _route(self, request: Request, segments: list[str]) -> Response:
        method = request.method
        if segments == ["metadata"]:
            self._allow(method, "GET")
            return Response(200, self._capability_statement(request))
        if segments == [".well-known", "smart-configuration"] and self.tokens is not None:
            self._allow(method, "GET")
            return Response(200, self._smart_configuration(request), content_type="application/json")
        if not segments or len(segments) not in (1, 2, 4) or (len(segments) == 4 and segments[2] != "_history"):
            raise FhirError(404, "not-found", "no such FHIR endpoint")
        resource_type = segments[0]
        interactions = self.interactions.get(resource_type)
        if interactions is None:
            raise FhirError(404, "not-supported", f"{resource_type} is not supported by this server")
        if len(segments) == 1 and method == "GET" and "search-type" in interactions:
            return self._search(request, resource_type)
        if len(segments) == 1 and method == "POST" and "create" in interactions:
            return self._create(request, resource_type)
        if len(segments) == 2 and method == "GET" and "read" in interactions:
            return self._read(resource_type, segments[1])
        if len(segments) == 2 and method == "PUT" and "update" in interactions:
            return self._update_appointment(request, segments[1])
        if len(segments) == 4 and method == "GET" and "vread" in interactions:
            return self._read(resource_type, segments[1], segments[3])
        raise FhirError(405, "not-supported", f"{method} is not supported here")

    @staticmethod
    def _allow(method: str, allowed: str) -> None:
        if method != allowed:
            raise FhirError(405, "not-supported", f"{method} is not supported here")

    def _malformed(self, request: Request, response: Response, resource_type: str | None,
                   segments: list[str]) -> Response:
        resource = response.resource if response.status < 300 else None  # built for this request: ours to change
        stand_in = {"resourceType": resource_type or "Patient", "id": segments[1] if len(segments) > 1 else "malformed"}
        if resource is None:
            return Response(200, _corrupt(stand_in))
        if resource.get("resourceType") != "Bundle":
            return Response(response.status, _corrupt(resource), response.headers)
        entries = resource.setdefault("entry", [])
        if entries:
            entries[0]["resource"] = _corrupt(entries[0]["resource"])
        else:
            entries.append({"fullUrl": f"{request.base}/{stand_in['resourceType']}/{stand_in['id']}",
                            "resource": _corrupt(stand_in), "search": {"mode": "match"}})
            resource["total"] = 1
        return Response(response.status, resource, response.headers)

    # discovery

    def _capability_statement(self, request: Request) -> dict:
        resources = []
        for resource_type, interactions in self.interactions.items():
            entry: dict[str, Any] = {"type": resource_type, "interaction": [{"code": i} for i in interactions]}
            params = SEARCH_PARAMS.get(resource_type)
            if params:
                entry["searchParam"] = [{"name": p.name, "type": p.type} for p in params]
            resources.append(entry)
        rest: dict[str, Any] = {"mode": "server", "resource": resources}
        if self.tokens is not None:
            rest["security"] = {
                "extension": [{
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [{"url": "token", "valueUri": request.token_url}],
                }],
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                         "code": "SMART-on-FHIR"}]}],
            }
        return {
            "resourceType": "CapabilityStatement", "status": "active", "date": self.started,
            "publisher": "Demo EHR", "kind": "instance", "software": {"name": "Demo EHR"},
            "implementation": {"description": "The patient messaging hub's demo EHR", "url": request.base},
            "fhirVersion": "4.0.1", "format": ["json"], "rest": [rest],
        }

    @staticmethod
    def _smart_configuration(request: Request) -> dict:
        return {
            "token_endpoint": request.token_url,
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
            "token_endpoint_auth_signing_alg_values_supported": SIGNING_ALGORITHMS,
            "scopes_supported": ["system/*.read", "system/*.write"],
            "capabilities": ["client-confidential-asymmetric", "client-confidential-symmetric"],
        }

    # read, search

    def _read(self, resource_type: str, resource_id: str, version: str | None = None) -> Response:
        if version is not None and not version.isdigit():
            raise FhirError(404, "not-found", "no such version")
        resource = self.store.get(resource_type, resource_id, int(version) if version else None)
        if resource is None:
            raise FhirError(404, "not-found", f"{resource_type}/{resource_id} is not known")
        return _resource_response(200, resource)

    def _search(self, request: Request, resource_type: str) -> Response:
        query = request.query()
        params = {p.name: p for p in SEARCH_PARAMS[resource_type]}
        criteria: list[tuple[SearchParam, list[Any]]] = []
        for name, value in query:
            param = params.get(name)
            options = [v for v in value.split(",") if v]
            if param is None or not options:
                continue  # unknown parameters are ignored, as FHIR's lenient handling allows
            try:
                criteria.append((param, [param.parse(v) for v in options]))
            except ValueError:
                raise _bad_request(f"invalid value for search parameter {name}") from None
        count, offset = self._paging(query)
        matches = [r for r in self.store.search(resource_type)
                   if all(any(p.match(r, option) for option in options) for p, options in criteria)]
        matches = _sorted(matches, ",".join(v for k, v in query if k == "_sort"))
        return Response(200, self._bundle(request, resource_type, query, matches, count, offset))

    @staticmethod
    def _paging(query: list[tuple[str, str]]) -> tuple[int, int]:
        values = dict(query)
        try:
            count = min(int(values.get("_count") or DEFAULT_COUNT), MAX_COUNT)
            offset = int(values.get("_offset") or 0)
        except ValueError:
            raise _bad_request("_count and _offset must be whole numbers") from None
        if count < 0 or offset < 0:
            raise _bad_request("_count and _offset must not be negative")
        return count, offset

    @staticmethod
    def _bundle(request: Request, resource_type: str, query: list[tuple[str, str]], matches: list[dict],
                count: int, offset: int) -> dict:
        url = f"{request.base}/{resource_type}"
        links = [{"relation": "self", "url": f"{url}?{urlencode(query)}" if query else url}]
        if offset + count < len(matches) and count:
            following = [(k, v) for k, v in query if k != "_offset"] + [("_offset", str(offset + count))]
            links.append({"relation": "next", "url": f"{url}?{urlencode(following)}"})
        bundle: dict[str, Any] = {
            "resourceType": "Bundle", "id": uuid.uuid4().hex,
            "meta": {"lastUpdated": datetime.now(timezone.utc).isoformat(timespec="milliseconds")},
            "type": "searchset", "total": len(matches), "link": links,
        }
        page = matches[offset:offset + count]
        if page:
            bundle["entry"] = [{"fullUrl": f"{url}/{r['id']}", "resource": r, "search": {"mode": "match"}}
                               for r in page]
        return bundle

    # writes

    def _create(self, request: Request, resource_type: str) -> Response:
        if resource_type == "Appointment":
            return self._create_appointment(request)
        return self._check_eligibility(request)

    def _parse(self, request: Request, resource_type: str) -> dict:
        resource = request.json_body()
        if not isinstance(resource, dict) or resource.get("resourceType") != resource_type:
            raise _bad_request(f"the body must be a {resource_type}")
        try:
            validate_resource(resource)
        except ValueError as exc:
            raise _bad_request(str(exc)) from None
        return resource

    def _parse_appointment(self, request: Request) -> tuple[dict, str]:
        """A valid Appointment body for an existing patient, and its one slot's id."""
        appointment = self._parse(request, "Appointment")
        if appointment["status"] not in APPOINTMENT_STATUSES:
            raise _bad_request("unknown Appointment status")
        slots = appointment.get("slot") or []
        kind, slot_id = parse_reference(slots[0].get("reference") or "", "Slot") if len(slots) == 1 else (None, "")
        if kind != "Slot" or not slot_id:
            raise _bad_request("an Appointment needs exactly one Slot reference")
        actors = (parse_reference(a.get("reference") or "") for a in _actors(appointment))
        patients = [actor_id for actor_type, actor_id in actors if actor_type == "Patient"]
        if not patients or any(self.store.get("Patient", p) is None for p in patients):
            raise _bad_request("an Appointment needs a participant who is a known Patient")
        return appointment, slot_id

    def _book_slot(self, slot_id: str) -> dict:
        """Mark the slot busy; 409 unless it exists and is free. Call inside a transaction."""
        slot = self.store.get("Slot", slot_id)
        if slot is None or slot.get("status") != "free":
            raise FhirError(409, "conflict", "That time is no longer free")
        return self.store.put({**slot, "status": "busy"})

    def _free_slot(self, slot_id: str) -> None:
        slot = self.store.get("Slot", slot_id)
        if slot is not None and slot.get("status") == "busy":
            self.store.put({**slot, "status": "free"})

    def _create_appointment(self, request: Request) -> Response:
        appointment, slot_id = self._parse_appointment(request)
        if appointment["status"] != "booked":
            raise _bad_request("a new Appointment must be booked")
        appointment["id"] = f"appt-{uuid.uuid4().hex[:12]}"
        with self.store.transaction():
            slot = self._book_slot(slot_id)
            appointment.setdefault("start", slot["start"])
            appointment.setdefault("end", slot["end"])
            stored = self.store.put(appointment)
        location = f"{request.base}/Appointment/{stored['id']}/_history/{stored['meta']['versionId']}"
        return _resource_response(201, stored, [("Location", location)])

    def _update_appointment(self, request: Request, appointment_id: str) -> Response:
        appointment, slot_id = self._parse_appointment(request)
        if appointment.setdefault("id", appointment_id) != appointment_id:
            raise _bad_request("the body's id is not the id in the URL")
        with self.store.transaction():
            current = self.store.get("Appointment", appointment_id)
            if current is None:
                raise FhirError(404, "not-found", f"Appointment/{appointment_id} is not known")
            self._check_if_match(request.header("If-Match"), current)
            old_slot = parse_reference(((current.get("slot") or [{}])[0]).get("reference") or "")[1]
            held = current.get("status") not in RELEASING_STATUSES
            holds = appointment["status"] not in RELEASING_STATUSES
            if holds and (not held or slot_id != old_slot):
                slot = self._book_slot(slot_id)
                appointment["start"], appointment["end"] = slot["start"], slot["end"]
            if held and old_slot and (not holds or slot_id != old_slot):
                self._free_slot(old_slot)
            stored = self.store.put(appointment)
        return _resource_response(200, stored)

    @staticmethod
    def _check_if_match(if_match: str, current: dict) -> None:
        wanted = if_match.strip().removeprefix("W/").strip('"')
        if if_match and wanted != "*" and wanted != current["meta"]["versionId"]:
            raise FhirError(412, "conflict", "the Appointment has changed since it was read")

    # the simulated payer

    def _check_eligibility(self, request: Request) -> Response:
        eligibility_request = self._parse(request, "CoverageEligibilityRequest")
        insurance = eligibility_request.get("insurance") or [{}]
        kind, coverage_id = parse_reference((insurance[0].get("coverage") or {}).get("reference") or "", "Coverage")
        if kind != "Coverage" or not coverage_id:
            raise _bad_request("insurance[0].coverage must reference a Coverage")
        eligibility_request["id"] = f"cer-{uuid.uuid4().hex[:12]}"
        with self.store.transaction():
            coverage = self.store.get("Coverage", coverage_id)
            if coverage is None:
                raise _bad_request("the referenced Coverage is not known")
            stored_request = self.store.put(eligibility_request)
            in_force, disposition = _in_force(coverage, date.today())
            response = self.store.put({
                "resourceType": "CoverageEligibilityResponse", "id": f"cerr-{uuid.uuid4().hex[:12]}",
                "status": "active", "purpose": ["validation"], "patient": eligibility_request["patient"],
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "request": {"reference": f"CoverageEligibilityRequest/{stored_request['id']}"},
                "outcome": "complete", "disposition": disposition, "insurer": coverage["payor"][0],
                "insurance": [{"coverage": {"reference": f"Coverage/{coverage_id}"}, "inforce": in_force}],
            })
        return _resource_response(200, response)


def _in_force(coverage: dict, today: date) -> tuple[bool, str]:
    """Whether the coverage is in force today, and the payer's words for it."""
    if coverage.get("status") != "active":
        return False, f"Coverage is not in force: the policy is {coverage.get('status')}."
    period = coverage.get("period") or {}
    if period.get("start") and today < day_range(period["start"][:10])[0]:
        return False, f"Coverage is not in force: the policy starts {period['start'][:10]}."
    if period.get("end") and today >= day_range(period["end"][:10])[1]:
        return False, f"Coverage is not in force: the policy ended {period['end'][:10]}."
    return True, "Coverage is in force."
