"""No patient data in the logs: the redaction filter on every handler, and
what the hub writes when a webhook with a patient's text is refused."""

from __future__ import annotations

import io
import logging
import subprocess
import sys

import pytest
from django.conf import settings
from django.http import QueryDict

from hub.lib.logredact import QuietHousekeeping, RedactPHI, redact_text
from tests.channels_app.twilio_helpers import fixture, post
from tests.phi_scan import production_handler
from tests.processes import ROOT

PHONE_DIGITS = "5555550101"
BODY = "Hi, can I move my appointment to Thursday?"


@pytest.fixture
def production_log():
    """What the hub's console handler writes during the test (its formatter
    and filters), as text."""
    stream = io.StringIO()
    handler = production_handler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def written(record_or_message, *args, logger="hub.test", level=logging.WARNING, exc_info=None) -> str:
    """The line the production handler writes for one log call."""
    stream = io.StringIO()
    handler = production_handler(stream)
    log = logging.getLogger(logger)
    log.addHandler(handler)
    log.propagate = False
    try:
        log.log(level, record_or_message, *args, exc_info=exc_info)
    finally:
        log.removeHandler(handler)
        log.propagate = True
    return stream.getvalue()


@pytest.mark.parametrize("number", [
    "+15555550101", "+1 555 555 0101", "+1 (555) 555-0101", "(555) 555-0101", "555-555-0101", "555.555.0101",
    "1-555-555-0101", "5555550101", "+44 20 7946 0958", "whatsapp:+15555550101", "%2B15555550101",
])
def test_phone_numbers_in_every_common_form_are_redacted(number):
    line = written("text from %s about the bill", number)
    assert "about the bill" in line and "[redacted]" in line
    assert "0101" not in line and "0958" not in line


@pytest.mark.parametrize("text", [
    "message SM7d0b1f6c5a4e3d2c1b0a99887766aa01 delivered",
    "call CA1234567890123456789012345678901a completed",
    "at 2026-05-01 12:30:45,123 after 12:30:45",
    "listening on 127.0.0.1:8000, worker 192.168.100.200",
    "event 1234 seq 56 conversation 7890123",
    "task 3f2a9c1e-5555-5555-0101-123456789012 succeeded in 0.0123s",
    "epoch 1718000000 and 1718000000123 ms",
    "number +1•••••••0101 (masked)",
    "Forbidden: /webhooks/twilio/sms",
])
def test_ids_sids_times_and_addresses_are_left_alone(text):
    assert redact_text(text) == text
    assert text in written(text)


def test_dict_and_querydict_arguments_lose_their_patient_fields():
    payload = {"Body": BODY, "From": "+15555550101", "To": "+15550100100", "FromCity": "NEW YORK",
               "MessageSid": "SM7d0b1f6c5a4e3d2c1b0a99887766aa01", "NumMedia": "0"}
    line = written("webhook payload %s", payload)
    assert "SM7d0b1f6c5a4e3d2c1b0a99887766aa01" in line and "'NumMedia': '0'" in line
    assert "appointment" not in line and PHONE_DIGITS not in line and "NEW YORK" not in line

    form = QueryDict(mutable=True)
    form.update({"Body": BODY, "From": "+15555550101", "CallSid": "CA" + "1" * 32})
    line = written("form %s and %r", form, {"patient": {"first_name": "Genevieve", "dob": "1980-04-12"}})
    assert "CA" + "1" * 32 in line
    assert "appointment" not in line and PHONE_DIGITS not in line
    assert "Genevieve" not in line and "1980" not in line


def test_patient_fields_written_into_the_message_itself_are_redacted():
    line = written("saw {'first_name': 'Genevieve', 'last_name': 'Okafor', 'id': 7} and Body=Call+me&To=%2B15555550101")
    assert "Genevieve" not in line and "Okafor" not in line and "Call+me" not in line and PHONE_DIGITS not in line
    assert "'id': 7" in line


@pytest.mark.parametrize("text,gone", [
    ("patient dob: 04/12/1980", "1980"),
    ("DOB=1980-04-12", "1980"),
    ("born on April 12, 1980", "1980"),
    ("date_of_birth 12 Apr 1980", "1980"),
    ("write to genevieve.okafor@example.com", "genevieve"),
    ("GET /api/v1/patients?q=Okafor&limit=5", "Okafor"),
])
def test_dates_of_birth_emails_and_searches_are_redacted(text, gone):
    assert gone not in written(text)


def test_a_date_that_is_not_a_date_of_birth_stays():
    assert "2026-05-01" in written("snoozed until 2026-05-01")
    assert "/kpi/?from=2026-05-01&to=2026-05-31" in written("GET /kpi/?from=2026-05-01&to=2026-05-31")


def test_exception_messages_and_tracebacks_are_redacted():
    try:
        raise ValueError(f"duplicate key (address)=(+15555550101) for genevieve@example.com: {{'Body': '{BODY}'}}")
    except ValueError:
        line = written("could not store the contact", exc_info=sys.exc_info(), level=logging.ERROR)
    assert "Traceback" in line and "ValueError" in line
    assert PHONE_DIGITS not in line and "genevieve" not in line and "appointment" not in line


def test_a_server_error_logged_by_django_goes_through_the_filter():
    """Django logs a 500 as 'Internal Server Error: <path>' with the
    exception: the path's query and the exception text are redacted, and no
    local variables are written."""
    def view(patient_phone="+15555550101"):
        raise RuntimeError(f"lookup failed for {patient_phone}")

    try:
        view()
    except RuntimeError:
        line = written("Internal Server Error: %s", "/api/v1/patients?q=Okafor", logger="django.request",
                       level=logging.ERROR, exc_info=sys.exc_info())
    assert "Internal Server Error: /api/v1/patients?q=[redacted]" in line
    assert "RuntimeError" in line and PHONE_DIGITS not in line and "Okafor" not in line


def test_a_message_whose_arguments_do_not_fit_is_written_without_them():
    line = written("two values %s %s", "+15555550101")
    assert "arguments withheld" in line and PHONE_DIGITS not in line


def test_celery_success_lines_keep_numbers_and_hide_other_return_values():
    from celery.app.trace import LOG_SUCCESS

    def success(value):
        return written(LOG_SUCCESS, {"id": "abc", "name": "hub.tasks.deliver_event", "return_value": value,
                                     "runtime": 0.01, "args": "(5,)", "kwargs": "{}"},
                       logger="celery.app.trace", level=logging.INFO)

    assert success("3").rstrip().endswith("succeeded in 0.01s: 3")
    leaked = success("{'body': 'Hi', 'to': 'Genevieve Okafor'}")
    assert "Genevieve" not in leaked and leaked.rstrip().endswith("[redacted]")


def test_the_periodic_sweeps_routine_lines_are_dropped_but_not_their_failures():
    from celery.app.trace import LOG_FAILURE, LOG_RECEIVED, LOG_SUCCESS

    quiet = QuietHousekeeping(["hub.tasks.sweep_sla"])

    def passes(logger, level, msg, args):
        return quiet.filter(logging.LogRecord(logger, level, __file__, 1, msg, args, None))

    sweep = {"id": "1", "name": "hub.tasks.sweep_sla", "return_value": "0", "runtime": 0.0, "exc": "boom",
             "description": "raised unexpected"}
    other = dict(sweep, name="hub.tasks.deliver_event")
    assert not passes("celery.app.trace", logging.INFO, LOG_SUCCESS, sweep)
    assert not passes("celery.worker.strategy", logging.INFO, LOG_RECEIVED, sweep)
    assert not passes("celery.beat", logging.INFO, "Scheduler: Sending due task %s (%s)",
                      ("sweep-sla", "hub.tasks.sweep_sla"))
    assert passes("celery.app.trace", logging.ERROR, LOG_FAILURE, sweep)
    assert passes("celery.app.trace", logging.INFO, LOG_SUCCESS, other)
    assert passes("celery.worker.strategy", logging.INFO, LOG_RECEIVED, other)


def test_every_configured_handler_redacts_and_no_error_mails_are_sent():
    for name, handler in settings.LOGGING["handlers"].items():
        assert "redact_phi" in handler.get("filters", []), name
        assert "AdminEmailHandler" not in handler["class"], name
    assert settings.LOGGING["filters"]["redact_phi"]["()"] == "hub.lib.logredact.RedactPHI"
    from django.utils.log import AdminEmailHandler

    for logger in ("django", "django.request", "django.security", ""):
        assert not any(isinstance(h, AdminEmailHandler) for h in logging.getLogger(logger).handlers), logger
    root_handlers = [h for h in logging.getLogger().handlers if h.get_name() in settings.LOGGING["root"]["handlers"]]
    assert root_handlers and all(any(isinstance(f, RedactPHI) for f in h.filters) for h in root_handlers)


def test_celery_processes_log_through_the_hubs_handlers():
    """The worker and beat replace Celery's own handlers with LOGGING's (and
    their filters): a task failure naming a patient's number is redacted."""
    script = (
        "import logging\n"
        "from celery.signals import setup_logging\n"
        "from hub.celery import app\n"
        "setup_logging.send(sender=None, loglevel='INFO', logfile=None, format='', colorize=False)\n"
        "logging.getLogger('celery.app.trace').error('Task %(name)s[%(id)s] raised unexpected: %(exc)s',"
        " {'name': 'hub.tasks.deliver_event', 'id': 'x', 'exc': \"ValueError('no +15555550101')\"})\n"
        "logging.getLogger('celery.app.trace').info('Task %(name)s[%(id)s] succeeded in %(runtime)ss: "
        "%(return_value)s', {'name': 'hub.tasks.sweep_sla', 'id': 'y', 'runtime': 0.1, 'return_value': '0'})\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "ERROR celery.app.trace Task hub.tasks.deliver_event[x] raised unexpected" in result.stderr
    assert PHONE_DIGITS not in result.stderr and "[redacted]" in result.stderr
    assert "sweep_sla" not in result.stderr  # the sweep's routine line is quiet


def test_daphnes_access_log_has_search_terms_redacted():
    from daphne.access import AccessLogGenerator

    from hub.lib.logredact import redact_daphne_access_log

    redact_daphne_access_log()
    stream = io.StringIO()
    AccessLogGenerator(stream)("http", "complete", {
        "client": "127.0.0.1:5000", "path": "/api/v1/patients?q=Okafor&limit=5", "status": 200, "size": 10,
        "method": "GET"})
    assert '"GET /api/v1/patients?q=[redacted]&limit=5" 200' in stream.getvalue()


@pytest.mark.usefixtures("twilio_settings")
def test_a_refused_text_message_leaves_no_number_or_body_in_the_log(world, client, production_log):
    params = fixture("sms_incoming")
    response = post(client, "/webhooks/twilio/sms", params, signature="bm90LXRoZS1zaWduYXR1cmU=")
    assert response.status_code == 403
    log = production_log.getvalue()
    assert "twilio webhook refused: bad signature path=/webhooks/twilio/sms" in log
    assert "Forbidden: /webhooks/twilio/sms" in log  # django.request's 4xx line
    assert PHONE_DIGITS not in log and "0100100" not in log and "appointment" not in log and "NEW YORK" not in log
