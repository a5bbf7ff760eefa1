"""The whole suite checks that no patient data reaches the logs.

For the session, a handler on the root logger writes every record exactly as
the hub's own console handler would (its formatter and its filters, i.e.
what production writes) into a session log. Separately, the patient data the
tests put in the database is collected: patients' names and dates of birth,
their phone numbers, and message, note and call bodies, both as rows are
saved and, after each test that uses the database, by reading the tables
(rows written by raw SQL on the hot path and by the live hub's own
processes). At the end the session log and the logs of the processes the
suite started are scanned for every such value; a hit fails the session,
naming the file, the line and the kind of value, never the value.

pytest's captured logs (caplog, the report sections) are not what is
scanned: they are not what production writes.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from datetime import date
from pathlib import Path

import pytest

MIN_LENGTH = 6
# A single word must be longer to count: a first name such as "Recent" is
# also an ordinary word of a traceback. These are never counted.
MIN_WORD_LENGTH = 8
GENERIC = {"hello", "hello!", "hello?", "thanks", "thanks!", "thank you", "testing", "message", "patient",
           "unknown", "yes please", "ok thanks", "thank you!", "patients"}
SCANNED_EVENT_KINDS = ("message", "note", "call")


class _State:
    def __init__(self):
        self.dir: Path | None = None
        self.log_path: Path | None = None
        self.handler: logging.Handler | None = None
        self.values: dict[str, str] = {}  # casefolded value -> kind
        self.basetemp: Path | None = None
        self.findings: list[tuple[str, int, str]] = []
        self.scanned: list[Path] = []


_state = _State()


def production_handler(target) -> logging.Handler:
    """A handler writing to `target` (a path or a stream) what the hub's
    console handler writes: its formatter, its filters."""
    from django.conf import settings

    names = settings.LOGGING.get("root", {}).get("handlers", [])
    source = next((h for h in logging.getLogger().handlers if h.get_name() in names), None)
    if source is None:
        raise RuntimeError("the root logger has none of settings.LOGGING's handlers: is logging configured?")
    handler = logging.FileHandler(target, encoding="utf-8") if isinstance(target, (str, Path)) \
        else logging.StreamHandler(target)
    handler.setFormatter(source.formatter)
    for f in source.filters:
        handler.addFilter(f)
    return handler


def subprocess_log(name: str):
    """An open file for a child process's output, scanned at the end."""
    _state.dir = _state.dir or Path(tempfile.mkdtemp(prefix="hub-phi-scan-"))
    return open(_state.dir / f"{name}-{len(list(_state.dir.glob(name + '-*')))}.log", "a", encoding="utf-8")


# --- Collecting the tests' patient data ------------------------------------------

def _remember(value, kind: str) -> None:
    if value is None:
        return
    text = " ".join(str(value).split())
    if len(text) < MIN_LENGTH or text.casefold() in GENERIC:
        return
    if kind != "phone number" and " " not in text and len(text) < MIN_WORD_LENGTH:
        return
    _state.values.setdefault(text.casefold(), kind)


def _remember_phone(e164: str) -> None:
    if not e164 or not e164.startswith("+"):
        return
    _remember(e164, "phone number")
    digits = e164[1:]
    if digits.startswith("1") and len(digits) == 11:
        n = digits[1:]
        for form in (n, f"{n[:3]}-{n[3:6]}-{n[6:]}", f"({n[:3]}) {n[3:6]}-{n[6:]}", f"{n[:3]}.{n[3:6]}.{n[6:]}",
                     f"{n[:3]} {n[3:6]} {n[6:]}", f"+1 {n[:3]} {n[3:6]} {n[6:]}"):
            _remember(form, "phone number")


def _remember_dob(dob) -> None:
    if dob is None or abs((dob - date.today()).days) <= 2:
        return  # today's date is in every log line's timestamp
    for form in (dob.isoformat(), dob.strftime("%m/%d/%Y"), f"{dob.month}/{dob.day}/{dob.year}"):
        _remember(form, "date of birth")


def _remember_patient(first, last, dob) -> None:
    first, last = (first or "").strip(), (last or "").strip()
    for part in (first, last):
        _remember(part, "patient name")
    if first and last:
        _remember(f"{first} {last}", "patient name")
    _remember_dob(dob)


def _on_save(sender, instance, **kwargs) -> None:
    name = sender.__name__
    if sender._meta.app_label != "hub":
        return
    if name == "Patient":
        _remember_patient(instance.first_name, instance.last_name, instance.date_of_birth)
    elif name == "ContactPoint" and instance.kind == "phone":
        _remember_phone(instance.address)
    elif name == "Event" and instance.kind in SCANNED_EVENT_KINDS:
        _remember(instance.body, "message body")


def _read_tables() -> None:
    from django.db import DatabaseError, connection, transaction

    from hub.models import ContactPoint, Event, Patient

    if connection.in_atomic_block and connection.needs_rollback:
        return
    try:
        with transaction.atomic():
            for first, last, dob in Patient.objects.values_list("first_name", "last_name", "date_of_birth"):
                _remember_patient(first, last, dob)
            for address in ContactPoint.objects.filter(kind="phone").values_list("address", flat=True):
                _remember_phone(address)
            for body in (Event.objects.filter(kind__in=SCANNED_EVENT_KINDS).exclude(body="")
                         .values_list("body", flat=True)):
                _remember(body, "message body")
    except DatabaseError:
        pass  # a test that left its transaction broken, or its tables migrated away: rows were collected as saved


# --- Hooks -------------------------------------------------------------------------

def pytest_sessionstart(session):
    from django.db.models.signals import post_save

    # Under pytest's own temporary directory (it keeps the last three runs'),
    # where the tests' processes (the live hub) write their logs too.
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is not None:
        _state.basetemp = factory.getbasetemp()
        _state.dir = _state.basetemp / "phi-scan"
        _state.dir.mkdir(exist_ok=True)
    else:
        _state.dir = _state.dir or Path(tempfile.mkdtemp(prefix="hub-phi-scan-"))
    _state.log_path = _state.dir / "session.log"
    _state.handler = production_handler(_state.log_path)
    logging.getLogger().addHandler(_state.handler)
    post_save.connect(_on_save, weak=False, dispatch_uid="phi_scan")


def _keep_attached() -> None:
    """django.setup() (importing hub.asgi does it) reapplies LOGGING, which
    replaces the root logger's handlers: put the session's back."""
    root = logging.getLogger()
    if _state.handler is not None and _state.handler not in root.handlers:
        root.addHandler(_state.handler)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _keep_attached()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item):
    _keep_attached()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    _keep_attached()
    try:
        return (yield)
    finally:
        _keep_attached()
        # The test is over, its database not yet rolled back or flushed.
        blocker = getattr(item, "funcargs", {}).get("django_db_blocker")
        if blocker is not None and "django_db_setup" in item.fixturenames:
            with blocker.unblock():
                try:
                    _read_tables()
                except Exception:  # noqa: BLE001 - the scan must never change a test's outcome
                    pass


def _files_to_scan() -> list[tuple[str, Path]]:
    files = [("session log", _state.log_path)] if _state.log_path else []
    if _state.dir:
        files += [(p.name, p) for p in sorted(_state.dir.glob("*.log")) if p != _state.log_path]
    if _state.basetemp and _state.basetemp.exists():
        files += [(str(p.relative_to(_state.basetemp)), p) for p in sorted(_state.basetemp.rglob("*.log"))
                  if _state.dir not in p.parents]
    return files


def scan(files, values: dict[str, str]) -> list[tuple[str, int, int, int, str]]:
    """(file, line number, first and last column, kind) for every
    occurrence of one of `values` as a whole word (or number) in a line."""
    if not values:
        return []
    by_prefix: dict[str, list[str]] = {}
    for value in values:
        by_prefix.setdefault(value[:MIN_LENGTH], []).append(value)
    findings = []
    for label, path in files:
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for number, line in enumerate(lines, 1):
            folded = line.casefold()
            for i in range(len(folded) - MIN_LENGTH + 1):
                for value in by_prefix.get(folded[i:i + MIN_LENGTH], ()):
                    end = i + len(value)
                    if (folded.startswith(value, i) and not (i and folded[i - 1].isalnum())
                            and not (end < len(folded) and folded[end].isalnum())):
                        findings.append((label, number, i + 1, end, values[value]))
    return findings


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    if _state.handler is None:
        return
    logging.getLogger().removeHandler(_state.handler)
    _state.handler.close()
    files = _files_to_scan()
    _state.scanned = [path for _, path in files]
    _state.findings = scan(files, _state.values)
    if _state.findings:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif _state.dir:
        shutil.rmtree(_state.dir, ignore_errors=True)


def pytest_terminal_summary(terminalreporter):
    if not _state.findings:
        return
    terminalreporter.section("patient data in the logs", sep="=", red=True, bold=True)
    for label, number, first, last, kind in _state.findings[:50]:
        terminalreporter.write_line(f"{label}, line {number} (columns {first}-{last}): a {kind}")
    if len(_state.findings) > 50:
        terminalreporter.write_line(f"... and {len(_state.findings) - 50} more")
    terminalreporter.write_line(f"The logs are kept: {_state.log_path}, and the processes' logs under "
                                f"{_state.basetemp or _state.dir}.")
