"""Patient data stays out of the logs.

`RedactPHI` is a logging filter on every handler in settings.LOGGING (and,
through hub.celery, in the Celery worker and beat). For each record it

- replaces the values of known patient-data keys in dicts and QueryDicts
  passed as arguments (Twilio's Body/From/To/Caller..., first_name, dob...);
- formats the message, then removes from the text phone numbers (E.164 and
  the common US forms), e-mail addresses, dates given as a date of birth,
  `key=value` / `'key': value` pairs of patient-data keys and such query
  string parameters (`?q=...`);
- does the same to the exception text and stack text;
- drops Celery's return value from "Task ... succeeded" lines unless it is
  a number, a boolean or None.

The record is rewritten in place (message formatted, arguments dropped), so
every handler after the first writes the redacted text. Names and message
bodies cannot be recognised in free text: the hub's own log calls carry ids
only, and this filter is the second line of defence. `QuietHousekeeping`
drops the routine "received"/"succeeded" lines of the periodic sweeps.
See docs/hardening.md.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

REDACTED = "[redacted]"

# Keys whose values are patient data, compared lower-cased without "_", "-".
PHI_KEYS = frozenset({
    # Twilio's webhook parameters
    "body", "from", "to", "caller", "called", "callername", "forwardedfrom",
    "fromcity", "fromzip", "fromstate", "fromcountry", "tocity", "tozip", "tostate", "tocountry",
    "callercity", "callerzip", "callerstate", "callercountry", "calledcity", "calledzip", "calledstate",
    "calledcountry", "speechresult", "unstablespeechresult", "transcriptiontext", "digits",
    # the hub's own names for patient data
    "firstname", "lastname", "displayname", "name", "patientname", "fullname",
    "phone", "phonenumber", "mobile", "contactaddress", "address", "email",
    "dob", "dateofbirth", "birthdate", "birthday",
    "text", "message", "caption", "note", "transcript",
    # search parameters: what a user searched for is often a name
    "q", "query", "search", "term",
})
_MEDIA_KEY = re.compile(r"mediaurl\d*$")


def is_phi_key(key) -> bool:
    if not isinstance(key, str):
        return False
    normal = re.sub(r"[^a-z0-9]", "", key.lower())
    return normal in PHI_KEYS or bool(_MEDIA_KEY.match(normal))


# --- Free text ----------------------------------------------------------------

# 'Body': 'hello', "dob": "1980-04-12", 'To': ['+1555...'], 'dob': datetime.date(1980, 4, 12)
_QUOTED_PAIR = re.compile(r"""
    (?P<q>['"])(?P<key>[A-Za-z_][\w-]{0,40})(?P=q)\s*:\s*
    (?P<value>
        '(?:[^'\\]|\\.)*' | "(?:[^"\\]|\\.)*"          # a quoted string
      | \[[^\]]*\] | \([^)]*\)                        # a list or tuple of them
      | [\w.]+\([^)]*\)                                # datetime.date(1980, 4, 12)
      | [^,}\]\s]+                                     # anything else, to the next separator
    )""", re.VERBOSE)
# Body=hello, ?q=smith&..., first_name=Ann (form bodies, query strings, messages)
_EQUALS_PAIR = re.compile(r"(?<![\w.-])(?P<key>[A-Za-z_][\w-]{0,40})=(?P<value>[^&\s,;)\]}'\"<>]+)")
_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# A number with a + (E.164 or written out), or a US number of 10 digits
# (11 with a leading 1) whose area code and exchange start with 2-9. Never
# part of a longer run of letters or digits, so ids, SIDs (SM..., CA...),
# UUIDs, times, ports and IP addresses are left alone.
_PHONE = re.compile(r"""
    (?<![\w+])(?<!\d[.-])
    (?:
        (?:\+|%2[Bb])\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,5}
      | (?:1[ .-]?)?(?:\([2-9]\d{2}\)[ ]?|[2-9]\d{2}[ .-]?)[2-9]\d{2}[ .-]?\d{4}
    )
    (?![\w])(?![.-]\d)""", re.VERBOSE)
_DATE = (r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
         r"|[A-Za-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|\d{1,2}\s+[A-Za-z]{3,9}\.?,?\s+\d{4}"
         r"|datetime\.date\(\d{4},\s*\d{1,2},\s*\d{1,2}\))")
_DOB = re.compile(r"(?i)\b(?P<label>d\.?o\.?b\.?|date[ _-]?of[ _-]?birth|birth[ _-]?date|birthday|born(?:\s+on)?)"
                  r"(?P<sep>[\s\"':=,]*)" + _DATE)


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


def _phone(match: re.Match) -> str:
    found = match.group(0)
    return REDACTED if 8 <= _digits(found) <= 15 else found


def _quoted(match: re.Match) -> str:
    if not is_phi_key(match.group("key")):
        return match.group(0)
    q = match.group("q")
    return f"{q}{match.group('key')}{q}: '{REDACTED}'"


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _equals(match: re.Match) -> str:
    key = match.group("key")
    if not is_phi_key(key):
        return match.group(0)
    if key.lower() in ("from", "to") and _ISO_DATE.fullmatch(match.group("value")):
        return match.group(0)  # a date range (the KPI pages' filters), not an address
    return f"{key}={REDACTED}"


def redact_text(text: str) -> str:
    """`text` without the patient data this module can recognise."""
    if not text:
        return text
    if "'" in text or '"' in text:
        text = _QUOTED_PAIR.sub(_quoted, text)
    if "=" in text:
        text = _EQUALS_PAIR.sub(_equals, text)
    if "@" in text:
        text = _EMAIL.sub(REDACTED, text)
    if _digits(text) >= 8:
        text = _PHONE.sub(_phone, text)
    if any(c.isdigit() for c in text):
        text = _DOB.sub(lambda m: f"{m.group('label')}{m.group('sep')}{REDACTED}", text)
    return text


# --- Structured arguments -------------------------------------------------------

def redact_data(value, depth: int = 0):
    """A copy of `value` with patient-data keys' values replaced and strings
    redacted; dicts, QueryDicts, lists and tuples are walked."""
    if depth > 8:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if hasattr(value, "lists") and callable(value.lists):  # QueryDict, MultiValueDict
        return {k: (REDACTED if is_phi_key(k) else redact_data(v, depth + 1)) for k, v in value.lists()}
    if isinstance(value, Mapping):
        return {k: (REDACTED if is_phi_key(k) else redact_data(v, depth + 1)) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [redact_data(v, depth + 1) for v in value]
    return value


def _format_arguments(msg: str, args):
    """The record's arguments, ready for `msg % args`, with dict values
    redacted. A single mapping is either the format's own dict (its keys
    name fields, so only its values are walked) or one dict argument."""
    if isinstance(args, Mapping) and "%(" not in msg:
        return redact_data(args)
    if isinstance(args, Mapping):
        return {k: (v if isinstance(v, (str, int, float, bool, type(None))) else redact_data(v)) for k, v in args.items()}
    if isinstance(args, tuple):
        return tuple(a if isinstance(a, (str, int, float, bool, type(None))) else redact_data(a) for a in args)
    return args


class RedactPHI(logging.Filter):
    """Rewrites each record without the patient data it can recognise."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_phi_redacted", False):
            return True
        try:
            self._redact(record)
        except Exception:  # noqa: BLE001 - a log line must never break the caller
            record.msg, record.args = "[log message withheld: it could not be redacted]", None
            record.exc_info = record.exc_text = record.stack_info = None
        record._phi_redacted = True
        return True

    def _redact(self, record: logging.LogRecord) -> None:
        data = getattr(record, "data", None)
        if record.name == "celery.app.trace" and isinstance(record.args, Mapping) and "return_value" in record.args:
            record.args = dict(record.args, return_value=self._celery_return(record.args["return_value"]))
            if isinstance(data, Mapping):
                record.data = dict(data, return_value=record.args["return_value"], args="", kwargs="")
        elif isinstance(data, Mapping):
            record.data = redact_data(data)
        try:
            message = str(record.msg)
            if record.args:
                message = message % _format_arguments(message, record.args)
        except Exception:  # noqa: BLE001 - as logging would, but without echoing the arguments
            message = f"{record.msg!s} [arguments withheld: they do not fit the message]"
        record.msg, record.args = redact_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)

    @staticmethod
    def _celery_return(value):
        # Celery passes the repr of the return value: keep numbers, booleans
        # and None (what the hub's tasks return), hide anything else.
        text = str(value)
        if re.fullmatch(r"-?\d+(\.\d+)?|True|False|None|'[a-z_]{1,32}'", text):
            return text
        return REDACTED


class QuietHousekeeping(logging.Filter):
    """Drops the INFO lines Celery writes for every run of the named
    periodic tasks (beat's "Sending due task", the worker's "received" and
    "succeeded"). Their failures, and every other task's lines, pass."""

    def __init__(self, tasks=()):
        super().__init__()
        self.tasks = frozenset(tasks)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING or not self.tasks:
            return True
        args = record.args
        if record.name == "celery.app.trace":
            return not (isinstance(args, Mapping) and "return_value" in args and args.get("name") in self.tasks)
        if record.name == "celery.worker.strategy":
            return not (isinstance(args, Mapping) and str(record.msg).rstrip().endswith("received")
                        and args.get("name") in self.tasks)
        if record.name == "celery.beat":
            return not (isinstance(args, tuple) and len(args) == 2 and str(record.msg).startswith("Scheduler: Sending")
                        and args[1] in self.tasks)
        return True


def redact_daphne_access_log() -> None:
    """Daphne writes its access log itself, not through logging: redact the
    request line (its query string) before it does. Called by hub.asgi."""
    try:
        from daphne.access import AccessLogGenerator
    except ImportError:  # pragma: no cover - another ASGI server
        return
    if getattr(AccessLogGenerator.write_entry, "_redacts", False):
        return
    original = AccessLogGenerator.write_entry

    def write_entry(self, host, date, request, status=None, length=None, ident=None, user=None):
        return original(self, host, date, redact_text(request), status, length, ident, user)

    write_entry._redacts = True
    AccessLogGenerator.write_entry = write_entry
