"""A local stand-in for api.twilio.com that checks every request against
Twilio's own OpenAPI description of REST API v2010.

Point the real `twilio` client at it::

    with TwilioContractServer(account_sid, auth_token) as server:
        client = Client(account_sid, auth_token)
        client.api.base_url = server.base_url
        client.messages.create(to="+15555550101", from_="+15550100100", body="hi")
        assert server.violations == []

Every request is validated with openapi-core (path, method, path and query
parameters, the form-encoded body and HTTP Basic auth, whose username must be
the account SID and password the auth token). A request that does not match
the spec is answered like Twilio answers (a JSON error body with `code`,
`message`, `more_info`, `status`: 400/20001 for parameters and body, 404/20404
for unknown paths, 405/20004 for unknown methods, 401/20003 for missing or
wrong credentials) and recorded in `violations`. Legitimate answers (a 404
for a message sid that does not exist, scripted faults) are not violations.
Message media registered with `add_media` and recording media
(`Recordings/{Sid}.mp3|.wav`) are outside the spec: only Basic auth is
checked there.

The server keeps messages, calls, queues, queue members and recordings in
memory, answers with bodies shaped per the spec's response schemas, and
validates each of its own JSON answers against the spec too (every listed
property present, none unlisted; a mismatch is answered 500 and recorded in
`self_errors`: the server's own bug, never the hub's).

Scripted faults (`fail_next`, `delay_next`) simulate throttling, server
errors, Twilio's per-message rejections and lost responses.

Beyond the spec, the server enforces a few rules the real API enforces but
the spec cannot say (each answered with Twilio's error code and recorded as
a violation): a message needs `From` or `MessagingServiceSid` (21603) and
`Body`, `MediaUrl` or `ContentSid` (21602), its body at most 1600 characters
(21617); callback and media URLs must be absolute http(s) URLs (21609 /
21620); `Twiml` must be a well-formed <Response> document (12100); parameter
names the operation does not declare (Twilio silently ignores them, which
hides typos) and repeated single-valued parameters are refused (20001).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import secrets
import socket
import sys
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

SPEC_PATH = Path(__file__).resolve().parent / "twilio" / "twilio_api_v2010.json"
API_VERSION = "2010-04-01"
PREFIX = f"/{API_VERSION}/Accounts/{{AccountSid}}"

__all__ = [
    "SPEC_PATH",
    "LoadedSpec",
    "RecordedRequest",
    "TwilioContractServer",
    "count_segments",
    "load_spec",
    "twilio_error",
]


# --------------------------------------------------------------------------
# The spec, loaded once per process.
# --------------------------------------------------------------------------

def _is_rfc2822(value: Any) -> bool:
    try:
        return isinstance(value, str) and parsedate_to_datetime(value) is not None
    except (TypeError, ValueError, IndexError):
        return False


def _is_twiml(value: Any) -> bool:
    try:
        return isinstance(value, str) and ET.fromstring(value).tag == "Response"
    except ET.ParseError:
        return False


# Twilio's own formats (openapi-core refuses parameters whose format it does
# not know, so each needs a validator and an identity unmarshaller).
_FORMAT_VALIDATORS: dict[str, Callable[[Any], bool]] = {
    "phone-number": lambda v: isinstance(v, str) and v != "",
    "date-time-rfc-2822": _is_rfc2822,
    "currency": lambda v: isinstance(v, str) and re.fullmatch(r"[A-Za-z]{3}", v) is not None,
    "http-method": lambda v: isinstance(v, str) and v.upper() in {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"},
    "iso-country-code": lambda v: isinstance(v, str) and re.fullmatch(r"[A-Za-z]{2}", v) is not None,
    "twiml": _is_twiml,
    "uri-map": lambda v: isinstance(v, dict),
    "endpoint": lambda v: True,
    "phone-number-capabilities": lambda v: True,
    "ice-server": lambda v: True,
}


@dataclass
class LoadedSpec:
    path: Path
    raw: dict
    openapi: Any  # openapi_core.OpenAPI
    server_url: str
    load_seconds: float
    _validators: dict = field(default_factory=dict)

    def operation(self, template: str, method: str) -> dict | None:
        return self.raw["paths"].get(template, {}).get(method.lower())

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), ref
            target: Any = self.raw
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def form_schema(self, template: str, method: str) -> dict | None:
        op = self.operation(template, method) or {}
        content = (op.get("requestBody") or {}).get("content") or {}
        media = content.get("application/x-www-form-urlencoded")
        return self.resolve(media["schema"]) if media else None

    def query_parameters(self, template: str, method: str) -> dict[str, dict]:
        op = self.operation(template, method) or {}
        params = list(self.raw["paths"][template].get("parameters", [])) + list(op.get("parameters", []))
        out = {}
        for p in params:
            p = self.resolve(p)
            if p.get("in") == "query":
                out[p["name"]] = self.resolve(p.get("schema", {}))
        return out

    def response_schema(self, template: str, method: str, status: int) -> dict | None:
        op = self.operation(template, method) or {}
        response = self.resolve((op.get("responses") or {}).get(str(status)) or {})
        media = (response.get("content") or {}).get("application/json")
        return self.resolve(media["schema"]) if media else None


    def check_response(self, template: str, method: str, status: int, payload: Any) -> list[str]:
        """Problems with answering `payload` (None: no body) to `method
        template` with `status`: undocumented status, schema errors, and any
        property the schema lists that is missing or that it does not list."""
        op = self.operation(template, method)
        if op is None or str(status) not in (op.get("responses") or {}):
            return [f"status {status} is not a documented response of {method.upper()} {template}"]
        schema = self.response_schema(template, method, status)
        if schema is None:
            return [] if payload is None else [f"response {status} has no JSON body in the spec"]
        if payload is None:
            return [f"response {status} needs a JSON body"]
        validator = self._response_validator(template, method.lower(), status)
        problems = [f"{'.'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
                    for e in validator.iter_errors(payload)]
        return problems + self.property_coverage(schema, payload, "")

    def _response_validator(self, template: str, method: str, status: int):
        key = (template, method, status)
        validator = self._validators.get(key)
        if validator is None:
            from openapi_schema_validator import OAS30ReadValidator

            op = self.operation(template, method)
            media = self.resolve(op["responses"][str(status)])["content"]["application/json"]
            # Refs are "#/components/...": give the schema the spec's components.
            schema = dict(media["schema"], components=self.raw["components"])
            validator = OAS30ReadValidator(schema, format_checker=_response_format_checker())
            self._validators[key] = validator
        return validator

    def property_coverage(self, schema: dict, value: Any, where: str) -> list[str]:
        schema = self.resolve(schema)
        problems = []
        if isinstance(value, dict) and "properties" in schema:
            listed = schema["properties"]
            problems += [f"missing property {where}{key}" for key in listed if key not in value]
            for key, item in value.items():
                if key not in listed:
                    problems.append(f"undocumented property {where}{key}")
                else:
                    problems += self.property_coverage(listed[key], item, f"{where}{key}.")
        elif isinstance(value, list) and "items" in schema:
            for index, item in enumerate(value):
                problems += self.property_coverage(schema["items"], item, f"{where}{index}.")
        return problems


def _response_format_checker():
    from jsonschema import FormatChecker
    from openapi_schema_validator import oas30_format_checker

    checker = FormatChecker(())
    checker.checkers = dict(oas30_format_checker.checkers)
    for name, check in _FORMAT_VALIDATORS.items():
        checker.checks(name)(check)
    return checker


_SPECS: dict[Path, LoadedSpec] = {}
_SPECS_LOCK = threading.Lock()


def load_spec(path: str | Path = SPEC_PATH) -> LoadedSpec:
    """Parse the spec and build its openapi-core validators, once per process
    and path."""
    path = Path(path).resolve()
    with _SPECS_LOCK:
        cached = _SPECS.get(path)
        if cached is not None:
            return cached
        started = time.perf_counter()
        from openapi_core import Config, OpenAPI

        raw = json.loads(path.read_text(encoding="utf-8"))
        config = Config(
            # The vendored file is checked once by the test suite
            # (test_vendored_spec_is_valid_openapi); re-checking it costs ~1 s.
            spec_validator_cls=None,
            extra_format_validators=dict(_FORMAT_VALIDATORS),
            extra_format_unmarshallers={name: (lambda v: v) for name in _FORMAT_VALIDATORS},
        )
        api = OpenAPI.from_dict(raw, config=config)
        # Build the request validators now rather than inside the first request.
        api.request_unmarshaller  # noqa: B018
        servers = raw.get("servers") or [{"url": "https://api.twilio.com"}]
        spec = LoadedSpec(path, raw, api, servers[0]["url"].rstrip("/"), 0.0)
        spec.load_seconds = time.perf_counter() - started
        _SPECS[path] = spec
        return spec


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def _hex_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def _rfc2822(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return format_datetime(_as_utc(moment).replace(microsecond=0))


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


_GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€\f")


def count_segments(body: str) -> int:
    """SMS segments for `body`: GSM-7 (160 chars, 153 per part when split;
    extension characters count twice) or else UCS-2 (70, 67 per part)."""
    if not body:
        return 0
    if all(c in _GSM7_BASIC or c in _GSM7_EXTENDED for c in body):
        units = sum(2 if c in _GSM7_EXTENDED else 1 for c in body)
        return 1 if units <= 160 else math.ceil(units / 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def _formatted(number: str | None) -> str | None:
    if number and re.fullmatch(r"\+1\d{10}", number):
        return f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    return number


def _multi(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            if not isinstance(out[key], list):
                out[key] = [out[key]]
            out[key].append(value)
        else:
            out[key] = value
    return out


def _header(headers: dict[str, str], name: str) -> str:
    name = name.lower()
    return next((v for k, v in headers.items() if k.lower() == name), "")


def _is_absolute_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


_ERROR_MESSAGES = {
    12100: "Document parse failure",
    20001: "Invalid parameter",
    20003: "Authenticate",
    20004: "Method not allowed",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service Unavailable",
    21211: "Invalid 'To' Phone Number",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21609: "Invalid StatusCallback url",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number is not currently reachable via SMS",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    21620: "Invalid media URL(s)",
    30003: "Unreachable destination handset",
}
_STATUS_CODES = {400: 20001, 401: 20003, 403: 20003, 404: 20404, 405: 20004, 429: 20429, 500: 20500,
                 501: 20500, 502: 20500, 503: 20503, 504: 20503}


def twilio_error(status: int, code: int | None = None, message: str | None = None) -> dict:
    """A Twilio-style error body (the legacy shape the python client parses)."""
    code = code if code is not None else _STATUS_CODES.get(status, status)
    return {
        "code": code,
        "message": message or _ERROR_MESSAGES.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _describe(error: Exception, form_pairs: list[tuple[str, str]] = ()) -> str:
    """One readable line for an openapi-core validation error."""
    from openapi_core.casting.schemas.exceptions import CastError
    from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
    from openapi_core.validation.request.exceptions import (
        ParameterValidationError,
        RequestBodyValidationError,
        SecurityValidationError,
    )
    from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

    cause = error.__cause__
    if isinstance(cause, InvalidSchemaValue):
        detail = "; ".join(e.message for e in cause.schema_errors) or str(cause)
    elif isinstance(cause, CastError):
        names = [k for k, v in form_pairs if v == cause.value]
        detail = f"{'/'.join(names) + ' ' if names else ''}{cause.value!r} is not a valid {cause.type}"
    elif cause is not None:
        detail = str(cause)
    else:
        detail = ""
    if isinstance(error, PathNotFound):
        return "no such path in Twilio REST API v2010"
    if isinstance(error, OperationNotFound):
        return f"method {error.method.upper()} is not defined for this path"
    if isinstance(error, SecurityValidationError):
        return "missing HTTP Basic credentials (security scheme accountSid_authToken)"
    if isinstance(error, ParameterValidationError):
        return f"{error.location} parameter {error.name!r}: {detail or error}"
    if isinstance(error, RequestBodyValidationError):
        return f"request body: {detail or error}"
    return f"{error}{': ' + detail if detail else ''}"


# --------------------------------------------------------------------------
# Records and scripts
# --------------------------------------------------------------------------

@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, Any]
    form: dict[str, Any]
    headers: dict[str, str]
    validated: bool = False
    status: int | None = None  # the status answered (None while in flight)
    body: bytes = b""


@dataclass
class _Script:
    kind: str  # "fail" or "delay"
    method: str
    pattern: re.Pattern
    times: int
    status: int = 200
    code: int | None = None
    delay: float = 0.0
    body: Any = None
    message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in ("*", method) and self.pattern.search(path) is not None


class _Answer(Exception):
    """Raised inside a handler to answer with a Twilio-style error."""

    def __init__(self, status: int, code: int | None = None, message: str | None = None,
                 violation: bool = False):
        super().__init__(message or "")
        self.status, self.code, self.message, self.violation = status, code, message, violation


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay_after: float = 0.0  # delay_next: sleep after the side effect, before answering


class _RequestView:
    """The openapi_core Request protocol over one received request."""

    def __init__(self, host_url, method, path, query_pairs, headers, body, content_type):
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self.host_url = host_url
        self.method = method.lower()
        self.path = path
        self.body = body
        self.content_type = content_type
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(query_pairs),
            header=Headers(list(headers.items())),
            cookie=ImmutableMultiDict(),
        )


# --------------------------------------------------------------------------
# The HTTP layer
# --------------------------------------------------------------------------

class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, contract: TwilioContractServer):
        self.contract = contract
        self.connections: set[socket.socket] = set()
        self.connections_accepted = 0
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request, client_address):
        with self.connections_lock:
            self.connections.add(request)
            self.connections_accepted += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client went away (e.g. it timed out during delay_next)
        super().handle_error(request, client_address)

    def drop_connections(self):
        with self.connections_lock:
            connections = list(self.connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "TwilioContractServer/1.0"
    sys_version = ""
    timeout = 60
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls on keep-alive connections
    wbufsize = 64 * 1024  # headers and body leave in one write (flushed per request)

    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
        pass

    def _serve(self):
        contract: TwilioContractServer = self.server.contract
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = contract._dispatch(self.command, self.path, dict(self.headers.items()), body)
        if reply.delay_after:
            time.sleep(reply.delay_after)
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if contract._stopped.is_set():
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True  # the client gave up (timed out), or stop() dropped it

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = _serve


# --------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------

_MEDIA_RECORDING = re.compile(
    rf"^/{API_VERSION}/Accounts/(?P<AccountSid>[^/]+)/Recordings/(?P<Sid>RE[0-9a-fA-F]{{32}})(?:\.(?P<ext>mp3|wav))?$"
)


class TwilioContractServer:
    """See the module docstring. Public state (read it, don't mutate it
    while requests are in flight): `requests`, `violations`, `self_errors`,
    `messages`, `calls`, `call_updates`, `queues`, `queue_members`,
    `recordings`."""

    def __init__(self, account_sid: str, auth_token: str, spec_path: str | Path = SPEC_PATH,
                 clock: Callable[[], datetime] | None = None, date_filters_by_day: bool = False):
        if not re.fullmatch(r"AC[0-9a-fA-F]{32}", account_sid):
            raise ValueError(f"account_sid must be 'AC' + 32 hex digits, got {account_sid!r}")
        self.account_sid = account_sid
        self.auth_token = auth_token
        # Twilio documents DateSent filters as whole GMT days; by default they
        # compare to the second (what the client sends). True: whole days.
        self.date_filters_by_day = date_filters_by_day
        self.spec = load_spec(spec_path)
        user_clock = clock or (lambda: datetime.now(timezone.utc))
        self.clock = lambda: _as_utc(user_clock())  # naive datetimes are taken as UTC
        self._lock = threading.RLock()
        self._local = threading.local()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._base_url: str | None = None
        self._routes = self._build_routes()
        self._init_state()

    # -- lifecycle --------------------------------------------------------

    def start(self) -> str:
        if self._httpd is not None:
            return self.base_url
        self._stopped.clear()
        self._httpd = _HTTPServer(("127.0.0.1", 0), self)
        host, port = self._httpd.server_address[:2]
        self._base_url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"twilio-contract-{port}", daemon=True)
        self._thread.start()
        return self._base_url

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopped.set()
        httpd.shutdown()
        httpd.drop_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def __enter__(self) -> TwilioContractServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("TwilioContractServer is not started")
        return self._base_url

    def client(self, **kwargs):
        """A `twilio.rest.Client` for this account pointed at this server."""
        from twilio.rest import Client

        client = Client(self.account_sid, self.auth_token, **kwargs)
        client.api.base_url = self.base_url
        return client

    # -- state ------------------------------------------------------------

    def _init_state(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.violations: list[tuple[str, str, str]] = []
        self.self_errors: list[tuple[str, str, str]] = []
        self.messages: dict[str, dict] = {}
        self.calls: dict[str, dict] = {}
        self.call_updates: dict[str, list[dict]] = {}
        self.queues: dict[str, dict] = {}
        self.queue_members: dict[str, list[dict]] = {}
        self.recordings: dict[str, dict] = {}
        self.media: dict[str, tuple[bytes, str]] = {}
        self._scripts: list[_Script] = []

    def reset(self) -> None:
        """Forget every request, violation, resource and script."""
        with self._lock:
            self._init_state()

    @property
    def connections_accepted(self) -> int:
        """TCP connections accepted since start (keep-alive reuses one)."""
        return self._httpd.connections_accepted if self._httpd is not None else 0

    def count(self, method: str, path_regex: str) -> int:
        """Requests received whose method matches (`"*"` for any) and whose
        path (without query) matches `path_regex` (re.search)."""
        pattern = re.compile(path_regex)
        method = method.upper()
        with self._lock:
            return sum(1 for r in self.requests if method in ("*", r.method) and pattern.search(r.path))

    def assert_clean(self) -> None:
        """Raise AssertionError listing any violation or self-check error."""
        with self._lock:
            problems = [f"violation {m} {p}: {e}" for m, p, e in self.violations]
            problems += [f"server bug {m} {p}: {e}" for m, p, e in self.self_errors]
        if problems:
            raise AssertionError("Twilio contract problems:\n  " + "\n  ".join(problems))

    def fail_next(self, method: str, path_regex: str, status: int = 500, code: int | None = None,
                  times: int = 1, delay: float = 0.0, body: Any = None, message: str | None = None,
                  headers: dict[str, str] | None = None) -> None:
        """Answer the next `times` matching (valid) requests with `status` and
        a Twilio-style error (`code` defaults from the status: 429 -> 20429,
        500 -> 20500, 400 -> 20001...), after sleeping `delay` seconds. No side
        effect happens. `body` (dict, str or bytes) replaces the error body.
        Requests that break the contract are answered as violations and do
        not use up a script."""
        self._script(_Script("fail", method.upper(), re.compile(path_regex), times, status, code, delay,
                             body, message, dict(headers or {})))

    def delay_next(self, method: str, path_regex: str, seconds: float, times: int = 1) -> None:
        """Handle the next `times` matching requests normally (side effects
        included, e.g. the message is stored) but sleep `seconds` before
        answering: a client with a shorter timeout never sees the answer."""
        self._script(_Script("delay", method.upper(), re.compile(path_regex), times, delay=seconds))

    def _script(self, script: _Script) -> None:
        with self._lock:
            self._scripts.append(script)

    def _take_script(self, method: str, path: str) -> _Script | None:
        with self._lock:
            for script in self._scripts:
                if script.matches(method, path):
                    script.times -= 1
                    if script.times <= 0:
                        self._scripts.remove(script)
                    return script
        return None

    def _uri(self, *parts: str) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/" + "/".join(parts)

    def add_message(self, to: str, from_: str | None, body: str = "", direction: str = "inbound",
                    status: str = "received", sid: str | None = None, messaging_service_sid: str | None = None,
                    num_media: int = 0, date_sent: datetime | None = None, **fields) -> str:
        """Store a message (e.g. an inbound one the hub will fetch). Returns its sid."""
        now = self.clock()
        sid = sid or _hex_sid("MM" if num_media else "SM")
        message = {
            "body": body, "num_segments": str(max(1, count_segments(body))), "direction": direction,
            "from": from_, "to": to, "date_updated": _rfc2822(now), "price": None, "error_message": None,
            "uri": self._uri(f"Messages/{sid}.json"), "account_sid": self.account_sid,
            "num_media": str(num_media), "status": status, "messaging_service_sid": messaging_service_sid,
            "sid": sid, "date_sent": _rfc2822(date_sent or now), "date_created": _rfc2822(now),
            "error_code": None, "price_unit": "USD", "api_version": API_VERSION,
            "subresource_uris": {"media": self._uri(f"Messages/{sid}/Media.json"),
                                 "feedback": self._uri(f"Messages/{sid}/Feedback.json")},
        }
        message.update(fields)
        with self._lock:
            self.messages[sid] = message
        return sid

    def update_message(self, sid: str, **fields) -> dict:
        """Change a stored message (e.g. status="delivered", error_code=30003)."""
        with self._lock:
            message = self.messages[sid]
            message.update(fields)
            message["date_updated"] = _rfc2822(self.clock())
            return dict(message)

    def add_call(self, sid: str, from_: str | None = None, to: str | None = None, status: str = "in-progress",
                 direction: str = "inbound", **fields) -> str:
        now = self.clock()
        call = {
            "sid": sid, "date_created": _rfc2822(now), "date_updated": _rfc2822(now), "parent_call_sid": None,
            "account_sid": self.account_sid, "to": to, "to_formatted": _formatted(to), "from": from_,
            "from_formatted": _formatted(from_), "phone_number_sid": None, "status": status,
            "start_time": _rfc2822(now), "end_time": None, "duration": None, "price": None,
            "price_unit": "USD", "direction": direction, "answered_by": None, "api_version": API_VERSION,
            "forwarded_from": None, "group_sid": None, "caller_name": None, "queue_time": "0",
            "trunk_sid": None, "uri": self._uri(f"Calls/{sid}.json"),
            "subresource_uris": {
                name: self._uri(f"Calls/{sid}/{path}.json")
                for name, path in [("notifications", "Notifications"), ("recordings", "Recordings"),
                                   ("payments", "Payments"), ("events", "Events"), ("siprec", "Siprec"),
                                   ("streams", "Streams"), ("transcriptions", "Transcriptions"),
                                   ("user_defined_message_subscriptions", "UserDefinedMessageSubscriptions"),
                                   ("user_defined_messages", "UserDefinedMessages")]
            },
        }
        call.update(fields)
        with self._lock:
            self.calls[sid] = call
            self.call_updates.setdefault(sid, [])
        return sid

    def add_queue(self, friendly_name: str, max_size: int = 100, sid: str | None = None) -> str:
        now = self.clock()
        sid = sid or _hex_sid("QU")
        with self._lock:
            self.queues[sid] = {"friendly_name": friendly_name, "max_size": max_size, "sid": sid,
                                "date_created": now, "date_updated": now}
            self.queue_members[sid] = []
        return sid

    def add_queue_member(self, queue_sid: str, call_sid: str, enqueued_at: datetime | None = None) -> None:
        with self._lock:
            self.queue_members[queue_sid].append({"call_sid": call_sid,
                                                  "date_enqueued": _as_utc(enqueued_at or self.clock())})

    def add_recording(self, sid: str, call_sid: str, content: bytes = b"", content_type: str = "audio/mpeg",
                      duration: int = 0, status: str = "completed", source: str = "RecordVerb",
                      channels: int = 1, track: str = "both", **fields) -> str:
        now = self.clock()
        recording = {
            "account_sid": self.account_sid, "api_version": API_VERSION, "call_sid": call_sid,
            "conference_sid": None, "date_created": _rfc2822(now), "date_updated": _rfc2822(now),
            "start_time": _rfc2822(now - timedelta(seconds=duration)), "duration": str(duration), "sid": sid,
            "price": None, "price_unit": "USD", "status": status, "channels": channels, "source": source,
            "error_code": None, "uri": self._uri(f"Recordings/{sid}.json"), "encryption_details": None,
            "subresource_uris": {"add_on_results": self._uri(f"Recordings/{sid}/AddOnResults.json"),
                                 "transcriptions": self._uri(f"Recordings/{sid}/Transcriptions.json")},
            "media_url": None,  # filled per answer: this server's address
        }
        recording.update(fields)
        with self._lock:
            self.recordings[sid] = {"resource": recording, "content": content, "content_type": content_type,
                                    "track": track}
        return sid

    def add_media(self, url_path: str, content: bytes, content_type: str) -> str:
        """Serve `content` at `url_path` (a path, or a URL whose path is used)
        to GETs with this account's Basic auth. Returns the absolute URL when
        the server is started, else the path."""
        path = urlsplit(url_path).path if "://" in url_path else url_path
        with self._lock:
            self.media[path] = (content, content_type)
        return self.base_url + path if self._base_url else path

    # -- request handling -------------------------------------------------

    def _dispatch(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> _Reply:
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        query_pairs = parse_qsl(parts.query, keep_blank_values=True)
        content_type = _header(headers, "Content-Type")
        form_pairs: list[tuple[str, str]] = []
        if body and content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
            form_pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        record = RecordedRequest(method, path, _multi(query_pairs), _multi(form_pairs), dict(headers), body=body)
        with self._lock:
            self.requests.append(record)
        try:
            reply = self._handle(record, query_pairs, form_pairs, content_type)
        except _Answer as answer:
            if answer.violation:
                with self._lock:
                    self.violations.append((method, path, answer.message or ""))
            reply = self._error(answer.status, answer.code, answer.message)
        except Exception as exc:  # a bug in this server: answer loudly
            with self._lock:
                self.self_errors.append((method, path, f"{type(exc).__name__}: {exc}"))
            reply = self._error(500, 20500, f"TwilioContractServer crashed: {type(exc).__name__}: {exc}")
        record.status = reply.status
        return reply

    def _error(self, status, code=None, message=None, body=None, headers=None) -> _Reply:
        if body is None:
            data = json.dumps(twilio_error(status, code, message)).encode()
        elif isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
        else:
            data = body.encode() if isinstance(body, str) else body
        return _Reply(status, data, headers=dict(headers or {}))

    def _check_basic_auth(self, headers: dict[str, str]) -> None:
        value = _header(headers, "Authorization")
        scheme, _, encoded = value.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            raise _Answer(401, 20003, "Authenticate: no HTTP Basic credentials", violation=True)
        try:
            username, _, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _Answer(401, 20003, "Authenticate: malformed HTTP Basic credentials", violation=True) from None
        if username != self.account_sid or not secrets.compare_digest(password, self.auth_token):
            raise _Answer(401, 20003, f"Authenticate: wrong credentials for {username!r}", violation=True)

    def _handle(self, record: RecordedRequest, query_pairs, form_pairs, content_type) -> _Reply:
        method, path = record.method, record.path

        # Media: not in the spec; Basic auth still required.
        with self._lock:
            media = self.media.get(path)
        recording_media = _MEDIA_RECORDING.match(path)
        if media is not None or recording_media:
            if method not in ("GET", "HEAD"):
                raise _Answer(405, 20004, f"{method} is not allowed on media", violation=True)
            self._check_basic_auth(record.headers)
            record.validated = True
            script = self._take_script(method, path)
            if script and script.kind == "fail":
                return self._fault(script)
            delay = script.delay if script else 0.0
            if media is not None:
                return _Reply(200, media[0], media[1], delay_after=delay)
            if recording_media["AccountSid"] != self.account_sid:
                raise _Answer(404, 20404, f"The requested resource {path} was not found", violation=True)
            with self._lock:
                recording = self.recordings.get(recording_media["Sid"])
            if recording is None:
                raise _Answer(404, 20404, f"The requested resource {path} was not found")
            return _Reply(200, recording["content"], recording["content_type"], delay_after=delay)

        # The spec: path, method, parameters, body, security.
        request = _RequestView(self.spec.server_url, method, path, query_pairs, record.headers,
                               record.body, content_type)
        result = self.spec.openapi.unmarshal_request(request)
        if result.errors:
            from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
            from openapi_core.validation.request.exceptions import SecurityValidationError

            error = result.errors[0]
            text = "; ".join(_describe(e, form_pairs) for e in result.errors)
            if isinstance(error, PathNotFound):
                raise _Answer(404, 20404, f"The requested resource {path} was not found ({text})", violation=True)
            if isinstance(error, OperationNotFound):
                raise _Answer(405, 20004, f"Method not allowed: {text}", violation=True)
            if isinstance(error, SecurityValidationError):
                raise _Answer(401, 20003, f"Authenticate: {text}", violation=True)
            raise _Answer(400, 20001, text, violation=True)
        self._check_basic_auth(record.headers)

        route = self._route(method, path)
        if route is None:
            raise _Answer(501, 20500, f"{method} {path} is valid per the spec but not emulated by "
                                      "TwilioContractServer", violation=True)
        template, handler, params = route
        if params.get("AccountSid") != self.account_sid:
            raise _Answer(404, 20404, f"The requested resource {path} was not found "
                                      f"(account {params.get('AccountSid')} is not {self.account_sid})",
                          violation=True)
        self._check_twilio_rules(template, method, query_pairs, form_pairs)
        record.validated = True

        script = self._take_script(method, path)
        if script and script.kind == "fail":
            return self._fault(script)
        form = dict(result.body or {})
        query = dict(result.parameters.query or {})
        self._local.raw_query = dict(query_pairs)
        status, payload = handler(params, form, query)
        reply = self._json_reply(request, template, status, payload)
        if script:
            reply.delay_after = script.delay
        return reply

    def _fault(self, script: _Script) -> _Reply:
        if script.delay:
            time.sleep(script.delay)
        return self._error(script.status, script.code, script.message, script.body, script.headers)

    def _check_twilio_rules(self, template: str, method: str, query_pairs, form_pairs) -> None:
        """What the spec cannot express (see the module docstring)."""
        declared = self.spec.query_parameters(template, method)
        seen: set[str] = set()
        for key, _ in query_pairs:
            if key not in declared:
                raise _Answer(400, 20001, f"Unknown query parameter {key!r}", violation=True)
            if key in seen and declared[key].get("type") != "array":
                raise _Answer(400, 20001, f"Query parameter {key!r} is repeated", violation=True)
            seen.add(key)
        schema = self.spec.form_schema(template, method)
        if schema is None:
            if form_pairs:
                raise _Answer(400, 20001, "This operation takes no request body", violation=True)
            return
        properties = schema.get("properties", {})
        form = _multi(form_pairs)
        for key, value in form.items():
            prop = self.spec.resolve(properties.get(key))
            if prop is None:
                raise _Answer(400, 20001, f"Unknown parameter {key!r}", violation=True)
            if isinstance(value, list) and prop.get("type") != "array":
                raise _Answer(400, 20001, f"Parameter {key!r} is repeated", violation=True)
            item_format = (self.spec.resolve(prop.get("items", {})) if prop.get("type") == "array" else prop).get("format")
            if item_format == "uri":
                for url in value if isinstance(value, list) else [value]:
                    if not _is_absolute_http_url(url):
                        code = 21620 if key == "MediaUrl" else 21609
                        raise _Answer(400, code, f"{key} must be an absolute http(s) URL, got {url!r}",
                                      violation=True)
        missing = [name for name in schema.get("required", []) if name not in form]
        if missing:  # openapi-core skips an entirely empty body
            raise _Answer(400, 20001, "request body: " + "; ".join(f"{n!r} is a required property" for n in missing),
                          violation=True)
        if "Twiml" in form and not _is_twiml(form["Twiml"]):
            raise _Answer(400, 12100, "Twiml is not a well-formed <Response> document", violation=True)
        if template.endswith("/Messages.json") and method == "POST":
            if not (form.get("From") or form.get("MessagingServiceSid")):
                raise _Answer(400, 21603, _ERROR_MESSAGES[21603] + " (From or MessagingServiceSid)", violation=True)
            if not (form.get("Body") or form.get("MediaUrl") or form.get("ContentSid")):
                raise _Answer(400, 21602, _ERROR_MESSAGES[21602] + " (Body, MediaUrl or ContentSid)", violation=True)
            if len(form.get("Body") or "") > 1600:
                raise _Answer(400, 21617, violation=True, message=_ERROR_MESSAGES[21617])

    def _json_reply(self, request: _RequestView, template: str, status: int, payload: dict | None) -> _Reply:
        data = b"" if payload is None else json.dumps(payload).encode()
        problems = self.spec.check_response(template, request.method, status, payload)
        if problems:
            text = "; ".join(problems)
            with self._lock:
                self.self_errors.append((request.method.upper(), request.path, text))
            return self._error(500, 20500, f"TwilioContractServer answer does not match the spec: {text}")
        return _Reply(status, data)

    # -- routing ----------------------------------------------------------

    def _build_routes(self):
        table = [
            ("POST", "/Messages.json", self._create_message),
            ("GET", "/Messages.json", self._list_messages),
            ("GET", "/Messages/{Sid}.json", self._fetch_message),
            ("POST", "/Messages/{Sid}.json", self._update_message),
            ("DELETE", "/Messages/{Sid}.json", self._delete_message),
            ("GET", "/Calls/{Sid}.json", self._fetch_call),
            ("POST", "/Calls/{Sid}.json", self._update_call),
            ("GET", "/Queues.json", self._list_queues),
            ("POST", "/Queues.json", self._create_queue),
            ("GET", "/Queues/{Sid}.json", self._fetch_queue),
            ("GET", "/Queues/{QueueSid}/Members.json", self._list_members),
            ("GET", "/Queues/{QueueSid}/Members/{CallSid}.json", self._fetch_member),
            ("POST", "/Queues/{QueueSid}/Members/{CallSid}.json", self._dequeue_member),
            ("GET", "/Recordings/{Sid}.json", self._fetch_recording),
            ("DELETE", "/Recordings/{Sid}.json", self._delete_recording),
            ("GET", "/Calls/{CallSid}/Recordings/{Sid}.json", self._fetch_recording),
        ]
        routes = []
        for method, suffix, handler in table:
            template = PREFIX + suffix
            if self.spec.operation(template, method) is None:
                raise RuntimeError(f"{method} {template} is not in {self.spec.path}")
            regex = re.escape(template)
            regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+?)", regex)
            routes.append((method, re.compile(f"^{regex}$"), template, handler))
        return routes

    def _route(self, method: str, path: str):
        for route_method, regex, template, handler in self._routes:
            if route_method == method:
                match = regex.match(path)
                if match:
                    return template, handler, match.groupdict()
        return None

    # -- operations -------------------------------------------------------

    @staticmethod
    def _not_found(kind: str, sid: str):
        return _Answer(404, 20404, f"The requested resource /{kind}/{sid}.json was not found")

    def _page(self, key: str, items: list[dict], list_path: str, query: dict, raw_filters: dict[str, str]):
        page_size = int(query.get("PageSize") or 50)
        page = int(query.get("Page") or 0)
        start = page * page_size
        chunk = items[start:start + page_size]

        def uri(page_number: int) -> str:
            params = dict(raw_filters, PageSize=page_size, Page=page_number)
            if page_number:
                params["PageToken"] = f"PA{page_number}"
            return f"{self._uri(list_path)}?{urlencode(params)}"

        return {
            key: chunk,
            "end": start + max(len(chunk) - 1, 0),
            "first_page_uri": uri(0),
            "next_page_uri": uri(page + 1) if start + page_size < len(items) else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": uri(page - 1) if page > 0 else None,
            "start": start,
            "uri": uri(page),
        }

    # Messages

    def _create_message(self, params, form, query):
        body = form.get("Body") or ""
        media_urls = form.get("MediaUrl") or []
        service = form.get("MessagingServiceSid")
        from_ = form.get("From")
        status = "accepted" if service and not from_ else "queued"
        if form.get("SendAt") or form.get("ScheduleType"):
            status = "scheduled"
        sid = self.add_message(
            to=form["To"], from_=from_, body=body, direction="outbound-api", status=status,
            sid=_hex_sid("SM"), messaging_service_sid=service, num_media=len(media_urls),
            num_segments=str(max(1, count_segments(body))),
            date_sent=None if status == "scheduled" else self.clock(),
        )
        with self._lock:
            message = self.messages[sid]
            if status == "scheduled":
                message["date_sent"] = None
            message["_request"] = dict(form)  # what the hub asked for (not part of the answer)
            return 201, self._public(message)

    @staticmethod
    def _public(resource: dict) -> dict:
        return {k: v for k, v in resource.items() if not k.startswith("_")}

    def _message(self, sid: str) -> dict:
        message = self.messages.get(sid)
        if message is None:
            raise self._not_found("Messages", sid)
        return message

    def _fetch_message(self, params, form, query):
        with self._lock:
            return 200, self._public(self._message(params["Sid"]))

    def _update_message(self, params, form, query):
        with self._lock:
            message = self._message(params["Sid"])
            if "Body" in form:
                if form["Body"] != "":
                    raise _Answer(400, 20001, "Body can only be updated to '' (redaction)", violation=True)
                message["body"] = ""
            if form.get("Status") == "canceled":
                if message["status"] != "scheduled":
                    raise _Answer(400, 20001, "Only scheduled messages can be canceled")
                message["status"] = "canceled"
            message["date_updated"] = _rfc2822(self.clock())
            return 200, self._public(message)

    def _delete_message(self, params, form, query):
        with self._lock:
            self._message(params["Sid"])
            del self.messages[params["Sid"]]
        return 204, None

    def _delete_recording(self, params, form, query):
        """204, then 404 for that recording, as Twilio answers."""
        with self._lock:
            if self.recordings.pop(params["Sid"], None) is None:
                raise self._not_found("Recordings", params["Sid"])
        return 204, None

    def _list_messages(self, params, form, query):
        to, from_ = query.get("To"), query.get("From")
        on, before, after = query.get("DateSent"), query.get("DateSent<"), query.get("DateSent>")

        def keep(message: dict) -> bool:
            if to is not None and message["to"] != to:
                return False
            if from_ is not None and message["from"] != from_:
                return False
            if on is None and before is None and after is None:
                return True
            if not message["date_sent"]:
                return False
            sent = parsedate_to_datetime(message["date_sent"])
            if on is not None and sent.date() != _as_utc(on).date():
                return False
            if self.date_filters_by_day:
                if before is not None and sent.date() > _as_utc(before).date():
                    return False
                return not (after is not None and sent.date() < _as_utc(after).date())
            if before is not None and sent > _as_utc(before):
                return False
            return not (after is not None and sent < _as_utc(after))

        with self._lock:
            chosen = [self._public(m) for m in self.messages.values() if keep(m)]
        chosen.sort(key=lambda m: parsedate_to_datetime(m["date_sent"] or m["date_created"]), reverse=True)
        # Page URIs repeat the filters as the client sent them.
        raw = {k: v for k, v in self._local.raw_query.items() if k in ("To", "From", "DateSent", "DateSent<", "DateSent>")}
        return 200, self._page("messages", chosen, "Messages.json", query, raw)

    # Calls

    def _fetch_call(self, params, form, query):
        with self._lock:
            call = self.calls.get(params["Sid"])
            if call is None:
                raise self._not_found("Calls", params["Sid"])
            return 200, self._public(call)

    def _update_call(self, params, form, query):
        sid = params["Sid"]
        with self._lock:
            if sid not in self.calls:
                self.add_call(sid)
            call = self.calls[sid]
            now = self.clock()
            if form.get("Status") in ("completed", "canceled"):
                call["status"] = form["Status"]
                call["end_time"] = _rfc2822(now)
                started = parsedate_to_datetime(call["start_time"]) if call["start_time"] else now
                call["duration"] = str(max(0, int((now - started).total_seconds())))
            call["date_updated"] = _rfc2822(now)
            self.call_updates.setdefault(sid, []).append(dict(form))
            return 200, self._public(call)

    # Queues

    def _queue_resource(self, sid: str) -> dict:
        queue = self.queues.get(sid)
        if queue is None:
            raise self._not_found("Queues", sid)
        members = self.queue_members.get(sid, [])
        now = self.clock()
        waits = [int((now - m["date_enqueued"]).total_seconds()) for m in members]
        return {
            "date_updated": _rfc2822(queue["date_updated"]), "current_size": len(members),
            "friendly_name": queue["friendly_name"], "uri": self._uri(f"Queues/{sid}.json"),
            "account_sid": self.account_sid, "average_wait_time": sum(waits) // len(waits) if waits else 0,
            "sid": sid, "date_created": _rfc2822(queue["date_created"]), "max_size": queue["max_size"],
        }

    def _member_resource(self, queue_sid: str, index: int, member: dict) -> dict:
        now = self.clock()
        return {
            "call_sid": member["call_sid"], "date_enqueued": _rfc2822(member["date_enqueued"]),
            "position": index + 1, "uri": self._uri(f"Queues/{queue_sid}/Members/{member['call_sid']}.json"),
            "wait_time": max(0, int((now - member["date_enqueued"]).total_seconds())), "queue_sid": queue_sid,
        }

    def _list_queues(self, params, form, query):
        with self._lock:
            items = [self._queue_resource(sid) for sid in self.queues]
        return 200, self._page("queues", items, "Queues.json", query, {})

    def _create_queue(self, params, form, query):
        with self._lock:
            sid = self.add_queue(form["FriendlyName"], max_size=form.get("MaxSize") or 100)
            return 201, self._queue_resource(sid)

    def _fetch_queue(self, params, form, query):
        with self._lock:
            return 200, self._queue_resource(params["Sid"])

    def _find_member(self, queue_sid: str, call_sid: str) -> tuple[int, dict]:
        if queue_sid not in self.queues:
            raise self._not_found("Queues", queue_sid)
        members = self.queue_members[queue_sid]
        for index, member in enumerate(members):
            if call_sid == member["call_sid"] or (call_sid == "Front" and index == 0):
                return index, member
        raise self._not_found(f"Queues/{queue_sid}/Members", call_sid)

    def _list_members(self, params, form, query):
        queue_sid = params["QueueSid"]
        with self._lock:
            if queue_sid not in self.queues:
                raise self._not_found("Queues", queue_sid)
            items = [self._member_resource(queue_sid, i, m) for i, m in enumerate(self.queue_members[queue_sid])]
        return 200, self._page("queue_members", items, f"Queues/{queue_sid}/Members.json", query, {})

    def _fetch_member(self, params, form, query):
        with self._lock:
            index, member = self._find_member(params["QueueSid"], params["CallSid"])
            return 200, self._member_resource(params["QueueSid"], index, member)

    def _dequeue_member(self, params, form, query):
        queue_sid = params["QueueSid"]
        with self._lock:
            index, member = self._find_member(queue_sid, params["CallSid"])
            resource = self._member_resource(queue_sid, index, member)
            self.queue_members[queue_sid].remove(member)
            self.queues[queue_sid]["date_updated"] = self.clock()
            self.call_updates.setdefault(member["call_sid"], []).append(dict(form, _dequeued_from=queue_sid))
            return 200, resource

    # Recordings

    def _fetch_recording(self, params, form, query):
        sid = params["Sid"]
        with self._lock:
            recording = self.recordings.get(sid)
            if recording is None or ("CallSid" in params and recording["resource"]["call_sid"] != params["CallSid"]):
                raise self._not_found("Recordings", sid)
            resource = dict(recording["resource"])
            track = recording["track"]
        if "CallSid" in params:  # the call-scoped resource lists other properties
            resource = {key: resource.get(key) for key in _CALL_RECORDING_PROPERTIES}
            resource["uri"] = self._uri(f"Calls/{params['CallSid']}/Recordings/{sid}.json")
            resource["track"] = track
        elif resource["media_url"] is None:
            resource["media_url"] = f"{self.base_url}{self._uri(f'Recordings/{sid}')}"
        return 200, resource


_CALL_RECORDING_PROPERTIES = (
    "account_sid", "api_version", "call_sid", "conference_sid", "date_created", "date_updated", "start_time",
    "duration", "sid", "price", "uri", "encryption_details", "price_unit", "status", "channels", "source",
    "error_code", "track",
)
