import threading
from datetime import timedelta

import pytest
from django.db import connection

from hub.actions.errors import InvalidInput
from hub.actions.ingest import InboundEvent, ingest
from hub.lib.event_types import STREAM_TYPES, StreamMessage
from hub.models import ContactPoint, Conversation, Event, Patient, StreamEntry
from tests.factories import inbound


def test_duplicate_ingest_is_a_no_op(world, django_capture_on_commit_callbacks, captured_events):
    with django_capture_on_commit_callbacks(execute=True):
        first = inbound(world.practice, provider_id="SM123", body="Can I book for Tuesday?")
    published = len(captured_events)
    counts = (Event.objects.count(), Conversation.objects.count(), Patient.objects.count(), StreamEntry.objects.count())

    with django_capture_on_commit_callbacks(execute=True):
        again = inbound(world.practice, provider_id="SM123", body="Can I book for Tuesday?")

    assert first.created and not again.created
    assert again.event.pk == first.event.pk
    assert (Event.objects.count(), Conversation.objects.count(), Patient.objects.count(),
            StreamEntry.objects.count()) == counts
    assert len(captured_events) == published


def test_two_inbound_events_for_the_same_phone_land_on_one_thread(world):
    one = inbound(world.practice, phone="+15555550101", body="Hi")
    two = inbound(world.practice, phone="+15555550101", body="Are you there?")
    assert one.conversation.pk == two.conversation.pk
    assert [(e.seq, e.kind) for e in Event.objects.filter(conversation=one.conversation).order_by("seq")] == [
        (1, "status"), (2, "message"), (3, "message")]  # the routing decision, then the messages
    assert ContactPoint.objects.filter(address="+15555550101").count() == 1
    assert Patient.objects.count() == 1


def test_the_same_phone_in_another_practice_is_another_patient(world, other_world):
    ours = inbound(world.practice, phone="+15555550101")
    theirs = inbound(other_world.practice, phone="+15555550101")
    assert ours.event.patient_id != theirs.event.patient_id
    assert ours.conversation.practice_id == world.practice.pk
    assert theirs.conversation.practice_id == other_world.practice.pk


def test_the_same_provider_id_in_two_channels_is_two_events(world):
    a = inbound(world.practice, provider_id="X1", channel="api")
    b = inbound(world.practice, provider_id="X1", channel="sms")
    assert a.event.pk != b.event.pk


def test_body_is_kept_exactly(world):
    body = "Bonjour 👋🏽 — ¿cita mañana? مرحبا\n\tline two  "
    result = inbound(world.practice, body=body)
    assert Event.objects.get(pk=result.event.pk).body == body


def test_new_conversation_is_queued_in_the_default_department_with_a_waiting_clock(world, frozen_clock):
    result = inbound(world.practice)
    conversation = Conversation.objects.get(pk=result.conversation.pk)
    assert conversation.status == "queued"
    assert conversation.department == world.scheduling
    assert conversation.waiting_since == frozen_clock.now
    assert conversation.channel == "api"


def test_a_topic_hint_routes_to_its_department(world):
    result = inbound(world.practice, topic_slug="bill")
    assert result.conversation.department == world.billing
    assert result.conversation.topic.slug == "bill"


def test_an_unknown_hint_falls_back_to_the_default(world):
    result = inbound(world.practice, department_slug="no-such-thing")
    assert result.conversation.department == world.scheduling


def test_a_patient_writing_soon_after_resolution_reopens_the_conversation(world, frozen_clock):
    first = inbound(world.practice)
    Conversation.objects.filter(pk=first.conversation.pk).update(status="resolved", resolved_at=frozen_clock.now)
    frozen_clock.advance(minutes=5)
    again = inbound(world.practice, body="thanks!")
    assert again.conversation.pk == first.conversation.pk
    assert Conversation.objects.get(pk=first.conversation.pk).status == "queued"
    kinds = list(Event.objects.filter(conversation=again.conversation).order_by("seq").values_list("kind", "body"))
    assert kinds[-2] == ("status", "Reopened: the patient wrote again")


def test_a_patient_writing_long_after_resolution_starts_a_new_conversation(world, frozen_clock):
    first = inbound(world.practice)
    Conversation.objects.filter(pk=first.conversation.pk).update(status="resolved", resolved_at=frozen_clock.now)
    frozen_clock.advance(days=2)
    again = inbound(world.practice, body="New question")
    assert again.conversation.pk != first.conversation.pk
    assert again.event.patient_id == first.event.patient_id
    assert again.event.seq == 2  # after its routing decision


def test_a_message_wakes_a_snoozed_conversation(world, frozen_clock):
    first = inbound(world.practice)
    Conversation.objects.filter(pk=first.conversation.pk).update(
        status="snoozed", snoozed_until=frozen_clock.now + timedelta(hours=3))
    inbound(world.practice, body="hello again")
    conversation = Conversation.objects.get(pk=first.conversation.pk)
    assert conversation.status == "queued" and conversation.snoozed_until is None


@pytest.mark.parametrize("field,value", [
    ("channel", "pigeon"),
    ("provider_id", ""),
    ("provider_id", "x" * 200),
    ("contact_kind", "fax"),
    ("contact_address", ""),
    ("kind", "note"),
    ("body", "x" * 20_001),
])
def test_bad_inbound_is_refused_and_stores_nothing(world, field, value):
    fields = dict(practice_id=world.practice.pk, channel="api", provider_id="p1", contact_kind="phone",
                  contact_address="+15555550101", body="hi")
    fields[field] = value
    with pytest.raises(InvalidInput):
        ingest(InboundEvent(**fields))
    assert Event.objects.count() == 0 and Patient.objects.count() == 0


def test_published_messages_match_their_schemas(world, django_capture_on_commit_callbacks, captured_events):
    with django_capture_on_commit_callbacks(execute=True):
        inbound(world.practice, body="one")
        inbound(world.practice, body="two", phone="+15555550199")
    assert {m["event"] for m in captured_events} == {"event.created", "conversation.updated"}
    for message in captured_events:
        StreamMessage(type=message["event"], stream=message["stream"], seq=message["seq"], payload=message["payload"])
        STREAM_TYPES[message["event"]].model_validate(message["payload"])


def test_nothing_is_published_when_the_transaction_rolls_back(world, django_capture_on_commit_callbacks, captured_events):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                inbound(world.practice, body="never mind")
                raise RuntimeError("boom")
    assert captured_events == []
    assert Event.objects.count() == 0


def test_stream_sequences_are_gapless_per_stream(world, django_capture_on_commit_callbacks, captured_events):
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(5):
            inbound(world.practice, phone=f"+1555555{1000 + i}")
    seqs = [m["seq"] for m in captured_events if m["stream"] == f"dept.{world.scheduling.pk}"]
    assert seqs == list(range(1, 16))  # three per new conversation


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_provider_id_store_one_event():
    """Twilio's retry racing the original request: both answer with the same event."""
    from tests.conftest import build_world

    world = build_world()
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serializes writers; the race needs PostgreSQL")
    results, errors = [], []
    barrier = threading.Barrier(4)

    def worker():
        try:
            barrier.wait()
            results.append(inbound(world.practice, provider_id="SMrace", phone="+15555550777"))
        except Exception as exc:  # recorded and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({r.event.pk for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert Event.objects.filter(provider_id="SMrace").count() == 1
    assert Patient.objects.count() == 1


def test_a_message_on_a_waiting_conversation_publishes_the_event_alone(
        world, django_capture_on_commit_callbacks, captured_events):
    with django_capture_on_commit_callbacks(execute=True):
        inbound(world.practice, body="first")
    captured_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        inbound(world.practice, body="second")
    assert [m["event"] for m in captured_events] == ["event.created"]


def test_a_woken_conversation_publishes_its_new_state(world, frozen_clock, django_capture_on_commit_callbacks,
                                                      captured_events):
    first = inbound(world.practice)
    Conversation.objects.filter(pk=first.conversation.pk).update(status="snoozed", snoozed_until=frozen_clock.now)
    with django_capture_on_commit_callbacks(execute=True):
        inbound(world.practice, body="wake up")
    assert [m["event"] for m in captured_events] == ["event.created", "event.created", "conversation.updated"]
    assert captured_events[-1]["payload"]["status"] == "queued"


def test_nul_characters_from_a_patient_are_dropped_not_a_server_error(world):
    """PostgreSQL stores no NUL in text or JSON; a patient's message (chat,
    SMS, a custom channel) that carries one still arrives, without it."""
    result = inbound(world.practice, body="Can I come\x00 at 3?", first_name="Pa\x00t",
                     data={"speech": "one\x00two", "list": ["a\x00"]})
    event = Event.objects.get(pk=result.event.pk)
    assert event.body == "Can I come at 3?"
    assert event.data["speech"] == "onetwo" and event.data["list"] == ["a"]
    assert result.conversation.patient.first_name == "Pat"


def test_nul_in_an_identifier_is_refused(world):
    with pytest.raises(InvalidInput):
        inbound(world.practice, provider_id="SM\x00123")
