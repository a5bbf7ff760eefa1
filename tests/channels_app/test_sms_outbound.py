"""Agents' texts go out through the real twilio client, to a local server
that checks every request against Twilio's own OpenAPI description."""

from datetime import timedelta

import pytest

from hub.actions import outbound
from hub.actions.errors import NotDeliverable
from hub.lib import access
from hub.models import ConsentChange, ContactPoint, Event
from hub.tasks import deliver_event
from tests.channels_app.twilio_helpers import ACCOUNT_SID, AUTH_TOKEN
from tests.contracts.twilio_server import TwilioContractServer
from tests.factories import inbound

MESSAGES = r"/Messages\.json$"


@pytest.fixture
def twilio(twilio_settings):
    server = TwilioContractServer(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    twilio_settings.TWILIO_API_BASE_URL = server.start()
    twilio_settings.SMS_BACKEND = "twilio"
    twilio_settings.TWILIO_TIMEOUT_SECONDS = 2
    yield server
    server.stop()
    assert server.violations == [], server.violations


@pytest.fixture
def conversation(world):
    return inbound(world.practice, channel="sms", body="Can you text me the address?").conversation


def reply(world, conversation, body="We're at 12 River Rd. See you at 9!"):
    return outbound.send_message(access.viewer_for(world.alice), conversation.pk, body)


def test_a_reply_is_created_at_twilio_with_from_body_and_status_callback(world, conversation, twilio,
                                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event = reply(world, conversation)
    event.refresh_from_db()
    assert event.delivery_status == "queued" and event.provider_id.startswith("SM")
    [request] = [r for r in twilio.requests if r.method == "POST"]
    assert request.form["To"] == "+15555550101"
    assert request.form["From"] == "+15550100100"
    assert request.form["Body"] == "We're at 12 River Rd. See you at 9!"
    assert request.form["StatusCallback"] == "https://hub.example.org/webhooks/twilio/sms/status"


def test_replies_reuse_one_connection_to_twilio(world, conversation, twilio, django_capture_on_commit_callbacks):
    """No new TCP (and, against Twilio, TLS) handshake per message."""
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            reply(world, conversation, body=f"Reply number {n + 1}")
    assert twilio.count("POST", MESSAGES) == 3
    assert twilio.connections_accepted == 1


def test_a_practice_with_a_messaging_service_sends_through_it(world, conversation, twilio,
                                                               django_capture_on_commit_callbacks):
    world.practice.messaging_service_sid = "MG" + "1" * 32
    world.practice.save()
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, conversation)
    [request] = [r for r in twilio.requests if r.method == "POST"]
    assert request.form["MessagingServiceSid"] == "MG" + "1" * 32 and "From" not in request.form


def test_a_429_is_retried_and_sends_once(world, conversation, twilio, django_capture_on_commit_callbacks):
    twilio.fail_next("POST", MESSAGES, status=429, code=20429)
    with django_capture_on_commit_callbacks(execute=True):
        event = reply(world, conversation)
    event.refresh_from_db()
    assert event.delivery_status == "pending" and event.delivery_attempted_at is None
    deliver_event.apply(args=[event.pk])
    event.refresh_from_db()
    assert event.delivery_status == "queued"
    assert twilio.count("POST", MESSAGES) == 2 and len(twilio.messages) == 1


def test_a_server_error_is_retried(world, conversation, twilio, django_capture_on_commit_callbacks):
    twilio.fail_next("POST", MESSAGES, status=503)
    with django_capture_on_commit_callbacks(execute=True):
        event = reply(world, conversation)
    deliver_event.apply(args=[event.pk])
    event.refresh_from_db()
    assert event.delivery_status == "queued"


@pytest.mark.parametrize("code,words", [
    (21211, "not a valid phone number"),
    (21614, "not a mobile number"),
    (21408, "not enabled"),
])
def test_permanent_errors_fail_the_message_with_a_reason_and_no_retry(world, conversation, twilio, code, words,
                                                                      django_capture_on_commit_callbacks):
    twilio.fail_next("POST", MESSAGES, status=400, code=code)
    with django_capture_on_commit_callbacks(execute=True):
        event = reply(world, conversation)
    event.refresh_from_db()
    assert event.delivery_status == "failed"
    assert words in event.delivery_error and event.delivery_error_code == str(code)
    deliver_event.apply(args=[event.pk])
    assert twilio.count("POST", MESSAGES) == 1


def test_21610_fails_the_message_and_records_the_opt_out(world, conversation, twilio,
                                                          django_capture_on_commit_callbacks):
    twilio.fail_next("POST", MESSAGES, status=400, code=21610)
    with django_capture_on_commit_callbacks(execute=True):
        event = reply(world, conversation)
    event.refresh_from_db()
    assert event.delivery_status == "failed" and "opted out" in event.delivery_error


def test_sending_to_an_opted_out_number_is_refused_before_twilio(world, conversation, twilio):
    ContactPoint.objects.update(sms_opted_out=True)
    with pytest.raises(NotDeliverable) as refused:
        reply(world, conversation)
    assert "opted out" in refused.value.message
    assert twilio.requests == [] and not Event.objects.filter(direction="out").exists()


def test_the_api_answers_422_for_an_opted_out_number(world, conversation, twilio, client):
    ContactPoint.objects.update(sms_opted_out=True)
    client.force_login(world.alice)
    response = client.post(f"/api/v1/conversations/{conversation.pk}/messages", {"body": "hi"},
                           content_type="application/json")
    assert response.status_code == 422
    assert response.json()["code"] == "opted_out" and "STOP" in response.json()["detail"]


def test_a_stop_that_arrives_before_the_task_runs_stops_the_send(world, conversation, twilio):
    event = reply(world, conversation)  # recorded; the task has not run yet
    ContactPoint.objects.update(sms_opted_out=True)
    deliver_event.apply(args=[event.pk])
    event.refresh_from_db()
    assert event.delivery_status == "failed" and "opted out" in event.delivery_error
    assert twilio.requests == []


def test_an_answer_that_never_came_is_reconciled_not_resent(world, conversation, twilio, frozen_clock, settings,
                                                            django_capture_on_commit_callbacks):
    # Twilio accepts the message but the answer is lost (a timeout): the
    # next attempt must find it, not send a second text.
    twilio.delay_next("POST", MESSAGES, seconds=3)
    with django_capture_on_commit_callbacks(execute=True):
        event = reply(world, conversation)
    event.refresh_from_db()
    assert event.delivery_status == "pending" and event.delivery_attempted_at is not None
    frozen_clock.advance(seconds=settings.OUTBOUND_ATTEMPT_LEASE_SECONDS + 1)
    deliver_event.apply(args=[event.pk])
    event.refresh_from_db()
    assert event.delivery_status == "queued" and event.provider_id in twilio.messages
    assert twilio.count("POST", MESSAGES) == 1
    assert twilio.count("GET", MESSAGES) == 1  # the reconciling list


def test_reconciling_by_the_stored_sid_fetches_that_message(world, conversation, twilio, frozen_clock, settings,
                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event = reply(world, conversation)
    event.refresh_from_db()
    sid = event.provider_id
    # As if the worker died after Twilio answered, before the status was saved.
    Event.objects.filter(pk=event.pk).update(delivery_status="pending", delivery_attempted_at=frozen_clock.now)
    frozen_clock.advance(seconds=settings.OUTBOUND_ATTEMPT_LEASE_SECONDS + 1)
    outbound.deliver(event.pk)
    event.refresh_from_db()
    assert event.delivery_status == "queued" and event.provider_id == sid
    assert twilio.count("POST", MESSAGES) == 1 and twilio.count("GET", rf"/Messages/{sid}\.json$") == 1


def test_an_attempt_twilio_never_saw_is_sent_after_reconciling(world, conversation, twilio, frozen_clock, settings):
    event = reply(world, conversation)
    Event.objects.filter(pk=event.pk).update(delivery_attempted_at=frozen_clock.now - timedelta(minutes=5),
                                             delivery_attempts=1)
    outbound.deliver(event.pk)
    event.refresh_from_db()
    assert event.delivery_status == "queued"
    assert twilio.count("GET", MESSAGES) == 1 and twilio.count("POST", MESSAGES) == 1


def test_mms_media_is_downloaded_with_the_account_credentials(world, client, twilio, settings, tmp_path):
    from pathlib import Path

    from hub.actions.attachments import fetch
    from hub.models import Attachment
    from tests.channels_app.twilio_helpers import fixture, post

    settings.MEDIA_ROOT = tmp_path
    png = (Path(__file__).resolve().parents[2] / "console/static/console/demo-card.png").read_bytes()
    params = fixture("mms_incoming", media_base=settings.TWILIO_API_BASE_URL)
    for i, (body, ctype) in enumerate([(png, "image/png"), (b"%PDF-1.4 test", "application/pdf")]):
        path = params[f"MediaUrl{i}"][len(settings.TWILIO_API_BASE_URL):]
        twilio.add_media(path, body, ctype)
    assert post(client, "/webhooks/twilio/sms", params).status_code == 200
    for attachment in Attachment.objects.all():
        fetch(attachment.pk)
    assert set(Attachment.objects.values_list("status", flat=True)) == {"stored"}
    assert ConsentChange.objects.count() == 0
