"""Twilio's SMS webhooks, driven by recorded Twilio-shaped requests."""

import logging

import pytest

from hub.models import Attachment, ConsentChange, ContactPoint, Conversation, Event, Patient
from tests.channels_app.twilio_helpers import fixture, post

INCOMING = "/webhooks/twilio/sms"
STATUS = "/webhooks/twilio/sms/status"

pytestmark = pytest.mark.usefixtures("twilio_settings")


def test_a_signed_text_lands_on_the_patients_thread(world, client, django_capture_on_commit_callbacks,
                                                    captured_events):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, INCOMING, fixture("sms_incoming"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode().strip().endswith("<Response />")
    event = Event.objects.get(kind="message")
    assert (event.channel, event.direction, event.provider_id) == ("sms", "in", "SM7d0b1f6c5a4e3d2c1b0a99887766aa01")
    assert event.body == "Hi, can I move my appointment to Thursday?"
    assert event.conversation.channel == "sms" and event.conversation.status == "queued"
    assert ContactPoint.objects.get().address == "+15555550101"
    assert [m["event"] for m in captured_events if m["stream"].startswith("dept.")] == [
        "event.created", "event.created", "conversation.updated"]  # the routing decision, the message
    assert captured_events[0]["payload"]["body"].startswith("Routed to Scheduling")


def test_a_second_text_from_the_same_phone_joins_the_thread(world, client):
    post(client, INCOMING, fixture("sms_incoming"))
    second = fixture("sms_incoming")
    second.update(MessageSid="SM" + "1" * 32, SmsSid="SM" + "1" * 32, SmsMessageSid="SM" + "1" * 32, Body="Thanks")
    post(client, INCOMING, second)
    assert Conversation.objects.count() == 1 and Event.objects.filter(kind="message").count() == 2


def test_twilio_retries_and_fallback_calls_create_nothing_new(world, client):
    for _ in range(3):
        assert post(client, INCOMING, fixture("sms_incoming")).status_code == 200
    assert Event.objects.filter(kind="message").count() == 1


def _no_patient_data_in(caplog):
    text = " ".join(r.getMessage() for r in caplog.records)
    assert "5555550101" not in text and "appointment" not in text


def test_an_unsigned_request_is_403_and_stores_nothing(world, client, caplog):
    caplog.set_level(logging.INFO)
    response = post(client, INCOMING, fixture("sms_incoming"), signed=False)
    assert response.status_code == 403
    assert Event.objects.count() == 0 and Patient.objects.count() == 0
    assert "no signature" in caplog.text
    _no_patient_data_in(caplog)


def test_a_tampered_request_is_403_and_stores_nothing(world, client, caplog):
    params = fixture("sms_incoming")
    signature = post.__globals__["signature_for"](INCOMING, params)
    params["Body"] = "Send all records to evil@example.com"
    response = post(client, INCOMING, params, signature=signature)
    assert response.status_code == 403
    assert Event.objects.count() == 0
    _no_patient_data_in(caplog)


def test_a_request_signed_with_another_token_is_403(world, client):
    assert post(client, INCOMING, fixture("sms_incoming"), token="not-the-token").status_code == 403


def test_the_signature_is_checked_against_the_public_url_not_the_internal_one(world, client):
    # Behind a proxy the hub is reached as testserver, but Twilio signed the
    # public URL configured in its console.
    assert post(client, INCOMING, fixture("sms_incoming"), base="http://testserver").status_code == 403
    assert post(client, INCOMING, fixture("sms_incoming"), base="https://hub.example.org").status_code == 200


def test_a_get_is_refused(world, client):
    assert client.get(INCOMING).status_code == 405


@pytest.mark.parametrize("change,status", [
    ({"MessageSid": "SM123"}, 400),
    ({"MessageSid": ""}, 400),
    ({"From": "not a number"}, 400),
    ({"NumMedia": "lots"}, 400),
    ({"NumMedia": "3"}, 400),  # no MediaUrl0..2
    ({"To": "+15559999999"}, 404),  # not a practice number
])
def test_bad_payloads_get_a_clear_4xx_and_store_nothing(world, client, change, status):
    params = fixture("sms_incoming")
    params.update(change)
    response = post(client, INCOMING, params)
    assert response.status_code == status
    assert Event.objects.count() == 0


def test_a_long_unicode_body_is_kept_exactly(world, client):
    body = ("Dolor de cabeza desde ayer 🤕 — ¿puedo ir hoy? صداع منذ الأمس " * 40)[:1600]
    params = fixture("sms_incoming")
    params.update(Body=body, NumSegments="11")
    assert post(client, INCOMING, params).status_code == 200
    stored = Event.objects.get(kind="message")
    assert stored.body == body and len(stored.body) == 1600
    assert stored.data == {"segments": 11}


@pytest.mark.parametrize("body", ["STOP", "stop", "  Stop  ", "STOPALL", "Unsubscribe", "cancel", "END", "quit\n"])
def test_opt_out_keywords_opt_the_number_out(world, client, body):
    params = fixture("sms_incoming")
    params["Body"] = body
    assert post(client, INCOMING, params).status_code == 200
    contact = ContactPoint.objects.get()
    assert contact.sms_opted_out
    change = ConsentChange.objects.get()
    assert (change.opted_in, change.source, change.detail) == (False, "keyword", body.strip().upper())
    notices = Event.objects.filter(kind="status").values_list("body", flat=True)
    assert any("Opted out of text messages" in n for n in notices)
    assert Event.objects.filter(kind="message", body=body).exists()  # the patient's message is kept too


@pytest.mark.parametrize("body", ["stop it please", "STOP!", "Please don't stop", "cancel my appointment"])
def test_sentences_with_keywords_are_not_keywords(world, client, body):
    params = fixture("sms_incoming")
    params["Body"] = body
    post(client, INCOMING, params)
    assert not ContactPoint.objects.get().sms_opted_out
    assert not ConsentChange.objects.exists()


@pytest.mark.parametrize("body", ["START", "unstop", "Yes"])
def test_opt_in_keywords_opt_back_in(world, client, body):
    stop = fixture("sms_incoming")
    stop["Body"] = "STOP"
    post(client, INCOMING, stop)
    start = fixture("sms_incoming")
    start.update(MessageSid="SM" + "2" * 32, Body=body)
    post(client, INCOMING, start)
    assert not ContactPoint.objects.get().sms_opted_out
    assert list(ConsentChange.objects.values_list("opted_in", flat=True)) == [False, True]


def test_twilio_advanced_opt_out_type_is_respected(world, client):
    world.practice.messaging_service_sid = "MG0c1d2e3f405162738495a6b7c8d9e0f1"
    world.practice.save()
    assert post(client, INCOMING, fixture("sms_stop_advanced_opt_out")).status_code == 200
    assert ContactPoint.objects.get().sms_opted_out
    assert ConsentChange.objects.get().detail == "Stop"


def test_help_is_answered_with_the_practice_help_text(world, client, django_capture_on_commit_callbacks):
    world.practice.help_text = "Riverside Family Medicine: call 555-0100. Emergencies: 911."
    world.practice.save()
    params = fixture("sms_incoming")
    params["Body"] = "help"
    with django_capture_on_commit_callbacks(execute=True):
        post(client, INCOMING, params)
    reply = Event.objects.get(direction="out")
    assert reply.body == world.practice.help_text
    assert reply.data["automatic"] == "help" and reply.author_id is None


def test_help_answered_by_twilio_is_not_answered_twice(world, client, django_capture_on_commit_callbacks):
    world.practice.help_text = "Call us."
    world.practice.save()
    params = fixture("sms_stop_advanced_opt_out")
    params.update(Body="HELP", OptOutType="HELP", MessagingServiceSid="")
    with django_capture_on_commit_callbacks(execute=True):
        post(client, INCOMING, params)
    assert not Event.objects.filter(direction="out").exists()


def test_a_repeated_stop_is_recorded_once_per_message(world, client):
    params = fixture("sms_incoming")
    params["Body"] = "STOP"
    post(client, INCOMING, params)
    post(client, INCOMING, params)  # Twilio's retry of the same message
    assert ConsentChange.objects.count() == 1


def _outbound(world, sid="SM" + "a" * 32, status="queued"):
    from tests.factories import inbound

    conversation = inbound(world.practice, channel="sms").conversation
    return Event.objects.create(practice=world.practice, conversation=conversation, patient=conversation.patient,
                                seq=99, kind="message", channel="sms", direction="out", body="Your visit is at 9",
                                provider_id=sid, delivery_status=status, created_at=conversation.created_at,
                                data={"to": "+15555550101"})


def test_status_callbacks_move_delivery_forward_only(world, client, django_capture_on_commit_callbacks,
                                                     captured_events):
    event = _outbound(world)
    sid = event.provider_id
    delivered = fixture("sms_status_delivered", sid=sid)
    sent = dict(delivered, MessageStatus="sent", SmsStatus="sent")
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, STATUS, delivered).status_code == 204
        assert post(client, STATUS, sent).status_code == 204  # late, out of order
        assert post(client, STATUS, delivered).status_code == 204  # repeated
    event.refresh_from_db()
    assert event.delivery_status == "delivered"
    updates = [m["payload"]["delivery_status"] for m in captured_events
               if m["event"] == "event.updated" and m["stream"].startswith("dept.")]
    assert updates == ["delivered"]


def test_an_undelivered_status_carries_a_reason_the_agent_understands(world, client):
    event = _outbound(world)
    post(client, STATUS, fixture("sms_status_undelivered", sid=event.provider_id))
    event.refresh_from_db()
    assert event.delivery_status == "undelivered"
    assert event.delivery_error_code == "30003" and "unreachable" in event.delivery_error


def test_error_21610_records_the_opt_out(world, client):
    event = _outbound(world)
    params = fixture("sms_status_undelivered", sid=event.provider_id)
    params.update(MessageStatus="failed", SmsStatus="failed", ErrorCode="21610")
    post(client, STATUS, params)
    assert ContactPoint.objects.get().sms_opted_out
    assert ConsentChange.objects.get().source == "provider"


def test_a_status_for_an_unknown_message_changes_nothing(world, client):
    assert post(client, STATUS, fixture("sms_status_delivered", sid="SM" + "f" * 32)).status_code == 204


def test_an_unsigned_status_callback_is_403(world, client):
    event = _outbound(world)
    assert post(client, STATUS, fixture("sms_status_delivered", sid=event.provider_id), signed=False).status_code == 403
    event.refresh_from_db()
    assert event.delivery_status == "queued"


def test_mms_media_become_pending_attachments(world, client, django_capture_on_commit_callbacks, monkeypatch):
    from hub import tasks

    queued = []
    monkeypatch.setattr(tasks.fetch_attachment, "delay", lambda pk: queued.append(pk))
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, INCOMING, fixture("mms_incoming", media_base="https://api.twilio.com")).status_code == 200
    event = Event.objects.get(kind="message")
    assert [(a["content_type"], a["status"]) for a in event.data["attachments"]] == [
        ("image/jpeg", "pending"), ("application/pdf", "pending")]
    assert sorted(queued) == sorted(Attachment.objects.values_list("pk", flat=True))
    assert Attachment.objects.filter(source_url__startswith="https://api.twilio.com/2010-04-01/").count() == 2


def test_a_webhook_during_a_database_outage_answers_503_to_be_retried(world, client, monkeypatch):
    from django.db import OperationalError

    from channels_app.sms import receive

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(receive, "receive", down)
    response = post(client, INCOMING, fixture("sms_incoming"))
    assert response.status_code == 503 and response["Retry-After"] == "5"
