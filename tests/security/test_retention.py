"""Retention: content older than the practice's policy is purged (bodies,
content keys, files, recordings, transcripts), except under a legal hold;
the purge is idempotent, reported without patient data, and never changes
a KPI figure.

The purge's batches commit for real here (transactional tests), so files
are deleted after commit as in production."""

import json
import os
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client

from hub.actions import attachments, calls, conversations, outbound
from hub.lib import access
from hub.models import Attachment, Event, Practice, StreamEntry
from hub.retention import purge as purge_module
from hub.retention.models import LegalHold, ProviderDeletion, PurgeRun, RetentionPolicy
from hub.retention.purge import purge_practice
from hub.retention.tasks import purge_expired
from tests.factories import inbound

pytestmark = pytest.mark.django_db(transaction=True)

OLD = datetime(2020, 3, 2, 15, 0, tzinfo=UTC)
NOW = datetime(2022, 3, 2, 15, 0, tzinfo=UTC)
RECENT = NOW - timedelta(days=10)
YEAR = {"message_days": 365, "attachment_days": 365, "recording_days": 365, "transcript_days": 365}

PAT, CALLER = "+15555550101", "+15555550177"
SECRET_TEXT = "My chest pain is back since Tuesday"
SECRET_REPLY = "Please come in today, Patricia"
SECRET_NOTE = "Sounded short of breath on the phone"
SECRET_REASON = "Cardiology invoice dispute"
SECRET_TRANSCRIPT = "Hi this is Patricia Jones born May 4 1961 calling about my warfarin"
SECRET_FILE = "patricia-ecg.png"
SECRETS = (SECRET_TEXT, SECRET_REPLY, SECRET_NOTE, SECRET_REASON, SECRET_TRANSCRIPT, SECRET_FILE, "chest pain",
           "Patricia", "Jones", PAT, CALLER)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.SMS_BACKEND = settings.VOICE_BACKEND = "sandbox"
    settings.MEDIA_ROOT = tmp_path


def set_policy(world, **days):
    RetentionPolicy.objects.update_or_create(practice=world.practice, defaults={**YEAR, **days})


class Story:
    """One patient's texts (a file, a reply, a note, a transfer, a red flag)
    and one caller's voicemail with its recording and transcript."""

    def __init__(self, world, clock_, at, *, phone=PAT, caller=CALLER, n=1, secrets=True):
        clock_.set(at)
        practice, sam = world.practice, access.viewer_for(world.sam)
        text = SECRET_TEXT if secrets else "Hello there"
        first = inbound(practice, phone=phone, body=text, first_name="Patricia" if secrets else "Rowena",
                        last_name="Jones" if secrets else "Quist")
        self.conversation = first.conversation
        self.patient_id = first.conversation.patient_id
        self.message = first.event
        with transaction.atomic():
            self.file = attachments.store(first.event, PNG, filename=SECRET_FILE if secrets else "photo.png",
                                          declared="image/png")
            attachments.refresh_event(first.event.pk)
        clock_.advance(minutes=1)
        outbound.send_message(sam, self.conversation.pk, SECRET_REPLY if secrets else "Hi")
        outbound.add_note(sam, self.conversation.pk, SECRET_NOTE if secrets else "A note")
        conversations.transfer(sam, self.conversation.pk, department_id=world.billing.pk,
                               reason=SECRET_REASON if secrets else "Billing")
        clock_.advance(minutes=5)
        self.call_sid, self.recording_sid = f"CA{n:032x}", f"RE{n:032x}"
        calls.incoming(practice.pk, call_sid=self.call_sid, from_=caller, to="+15550100100")
        calls.voicemail(self.call_sid, recording_sid=self.recording_sid, recording_url="http://127.0.0.1:9/recording",
                        duration=14)
        calls.transcript(self.call_sid, recording_sid=self.recording_sid,
                         text=SECRET_TRANSCRIPT if secrets else "Please call me back")
        self.voicemail = Event.objects.get(data__call_sid=self.call_sid, data__phase="voicemail")
        self.transcript = Event.objects.get(data__call_sid=self.call_sid, data__phase="transcript")
        self.call_conversation_id = self.voicemail.conversation_id
        self.call_patient_id = self.voicemail.patient_id
        # The recording as the fetch task stores it (Twilio's copy is not reachable here).
        with transaction.atomic():
            recording = Attachment.objects.get(event=self.voicemail)
            recording.file.save("recording.wav", ContentFile(WAV), save=False)
            recording.status, recording.content_type, recording.size = "stored", "audio/wav", len(WAV)
            recording.save()
            attachments.refresh_event(self.voicemail.pk)
        self.recording = recording
        self.file_paths = [self.file.file.path, recording.file.path]
        self.event_ids = set(Event.objects.filter(patient_id__in=[self.patient_id, self.call_patient_id])
                             .values_list("pk", flat=True))


def run(now=NOW):
    return purge_practice(Practice.objects.get(slug="riverside"), now)


def snapshot():
    return sorted((e.pk, e.body, json.dumps(e.data, sort_keys=True)) for e in Event.objects.all())


def api(world):
    return Client(HTTP_AUTHORIZATION=f"Bearer {world.token}")


# --- what is purged and what is kept -----------------------------------------------


def test_old_content_is_purged_files_deleted_and_recent_content_kept(world, frozen_clock):
    old = Story(world, frozen_clock, OLD)
    recent = Story(world, frozen_clock, RECENT, phone="+15555550102", caller="+15555550178", n=2, secrets=False)
    recent_before = {e.pk: (e.body, e.data) for e in Event.objects.filter(pk__in=recent.event_ids)}
    set_policy(world)
    frozen_clock.set(NOW)

    purge_run = run()

    assert purge_run.status == "ok" and purge_run.finished_at is not None
    old_events = list(Event.objects.filter(pk__in=old.event_ids).order_by("pk"))
    assert len(old_events) >= 10
    for event in old_events:
        assert event.body == "", event.kind
        assert event.data["purged_at"] == NOW.isoformat() and event.data["purge_run"] == purge_run.pk
    stored = json.dumps([(e.body, e.data) for e in old_events])
    for secret in SECRETS:
        assert secret not in stored
    # The files are gone from storage and their rows from the database; the
    # event says what was there (type, size), not its name.
    for path in old.file_paths:
        assert not os.path.exists(path)
    assert not Attachment.objects.filter(pk__in=[old.file.pk, old.recording.pk]).exists()
    [summary] = Event.objects.get(pk=old.message.pk).data["attachments"]
    assert summary["status"] == "purged" and summary["filename"] == "" and summary["content_type"] == "image/png"
    voicemail = Event.objects.get(pk=old.voicemail.pk)
    assert voicemail.data["recording_purged_at"] == NOW.isoformat()
    assert voicemail.data["attachments"][0]["status"] == "purged"
    assert ProviderDeletion.objects.get(provider_id=old.recording_sid).status == "done"  # the sandbox holds none

    # Recent content is untouched, its files still there.
    assert {e.pk: (e.body, e.data) for e in Event.objects.filter(pk__in=recent.event_ids)} == recent_before
    for path in recent.file_paths:
        assert os.path.exists(path)
    assert Attachment.objects.filter(pk__in=[recent.file.pk, recent.recording.pk], status="stored").count() == 2

    # Conversations, patients and their names stay (KPIs, audit references).
    old.conversation.refresh_from_db()
    assert old.conversation.patient.first_name == "Patricia"


def test_a_purge_keeps_what_kpis_and_the_timeline_structure_need(world, frozen_clock):
    old = Story(world, frozen_clock, OLD)
    before = {e.pk: e for e in Event.objects.filter(pk__in=old.event_ids)}
    set_policy(world)
    run()
    for event in Event.objects.filter(pk__in=old.event_ids):
        was = before[event.pk]
        assert (event.kind, event.channel, event.direction, event.author_id, event.conversation_id, event.patient_id,
                event.seq, event.created_at, event.delivery_status, event.provider_id) == (
            was.kind, was.channel, was.direction, was.author_id, was.conversation_id, was.patient_id, was.seq,
            was.created_at, was.delivery_status, was.provider_id)
        for key in ("action", "assignee_id", "to_department_id", "phase", "call_sid", "automatic", "recording_sid"):
            assert event.data.get(key) == was.data.get(key), key
        for key in ("reason", "red_flags", "to", "transcript"):
            assert key not in event.data


def test_each_kind_follows_its_own_period_and_empty_keeps_forever(world, frozen_clock):
    old = Story(world, frozen_clock, OLD)
    set_policy(world, message_days=None, attachment_days=36500, recording_days=365, transcript_days=None)
    purge_run = run()
    message = Event.objects.get(pk=old.message.pk)
    assert message.body == SECRET_TEXT and "purged_at" not in message.data
    assert Event.objects.get(pk=old.transcript.pk).body.endswith(SECRET_TRANSCRIPT)
    assert Attachment.objects.filter(pk=old.file.pk).exists()  # 100 years
    assert not Attachment.objects.filter(pk=old.recording.pk).exists()
    assert purge_run.cutoffs["messages"] is None and purge_run.cutoffs["transcripts"] is None
    assert purge_run.cutoffs["recordings"] == (NOW - timedelta(days=365)).isoformat()
    assert purge_run.purged["recordings"] == 1 and "messages" not in purge_run.purged


def test_a_practice_without_a_policy_keeps_six_years(world, frozen_clock):
    old = Story(world, frozen_clock, OLD)
    purge_run = purge_practice(world.practice, OLD + timedelta(days=2189))
    assert purge_run.purged.get("messages", 0) == 0
    assert Event.objects.get(pk=old.message.pk).body == SECRET_TEXT
    purge_run = purge_practice(world.practice, OLD + timedelta(days=2191))
    assert purge_run.purged["messages"] > 0 and Event.objects.get(pk=old.message.pk).body == ""
    assert RetentionPolicy.objects.get(practice=world.practice).days() == {
        "messages": 2190, "attachments": 2190, "recordings": 2190, "transcripts": 2190}


def test_a_message_still_waiting_to_be_sent_keeps_its_text(world, frozen_clock):
    frozen_clock.set(OLD)
    conversation = inbound(world.practice, body="Hello").conversation
    pending = outbound.send_message(access.viewer_for(world.sam), conversation.pk, "Your results are in")
    Event.objects.filter(pk=pending.pk).update(delivery_status="pending")
    set_policy(world)
    run()
    assert Event.objects.get(pk=pending.pk).body == "Your results are in"


def test_another_practice_is_not_touched(world, other_world, frozen_clock):
    Story(world, frozen_clock, OLD)
    frozen_clock.set(OLD)
    theirs = inbound(other_world.practice, body="Lakeside secret").event
    set_policy(world)
    run()
    assert Event.objects.get(pk=theirs.pk).body == "Lakeside secret"


# --- legal holds ------------------------------------------------------------------


def hold(world, **target):
    return LegalHold.objects.create(practice=world.practice, reason="Records request", placed_by=world.sam,
                                    placed_at=NOW, **target)


def test_held_patient_and_held_conversation_are_kept_and_purged_after_release(world, frozen_clock):
    held_patient = Story(world, frozen_clock, OLD)
    held_conversation = Story(world, frozen_clock, OLD, phone="+15555550103", caller="+15555550179", n=3)
    free = Story(world, frozen_clock, OLD, phone="+15555550104", caller="+15555550180", n=4)
    patient_hold = hold(world, patient_id=held_patient.patient_id)
    conversation_hold = hold(world, conversation_id=held_conversation.call_conversation_id)
    set_policy(world)

    first = run()

    # Everything of the held patient is kept: texts, files.
    assert Event.objects.get(pk=held_patient.message.pk).body == SECRET_TEXT
    assert os.path.exists(held_patient.file.file.path)
    # The held conversation (the voicemail) is kept; that caller's other
    # patient's texts are not held.
    assert Event.objects.get(pk=held_conversation.transcript.pk).body.endswith(SECRET_TRANSCRIPT)
    assert Attachment.objects.filter(pk=held_conversation.recording.pk).exists()
    assert Event.objects.get(pk=held_conversation.message.pk).body == ""
    assert Event.objects.get(pk=free.message.pk).body == ""
    assert first.held["recordings"] == 1 and first.held["transcripts"] == 1 and first.held["attachments"] == 1
    assert first.held["messages"] > 0
    assert not ProviderDeletion.objects.filter(provider_id=held_conversation.recording_sid).exists()

    for h in (patient_hold, conversation_hold):
        h.released_at, h.released_by = NOW, world.sam
        h.save()
    second = run(NOW + timedelta(days=1))
    assert Event.objects.get(pk=held_patient.message.pk).body == ""
    assert not os.path.exists(held_patient.file.file.path)
    assert Event.objects.get(pk=held_conversation.transcript.pk).body == ""
    assert not Attachment.objects.filter(pk=held_conversation.recording.pk).exists()
    assert second.purged["recordings"] == 1 and second.purged["transcripts"] == 1
    assert sum(second.held.values()) == 0


def test_a_hold_placed_after_a_recording_was_queued_stops_the_provider_deletion(world, frozen_clock, monkeypatch):
    old = Story(world, frozen_clock, OLD)
    set_policy(world)
    monkeypatch.setattr(purge_module, "_delete_at_provider", lambda *args: None)
    run()
    assert ProviderDeletion.objects.get(provider_id=old.recording_sid).status == "pending"
    monkeypatch.undo()
    hold(world, conversation_id=old.call_conversation_id)
    again = run()
    assert ProviderDeletion.objects.get(provider_id=old.recording_sid).status == "pending"
    assert again.held["provider_recordings"] == 1


# --- idempotence, the report, failures ----------------------------------------------


def test_a_second_run_purges_nothing_new(world, frozen_clock):
    Story(world, frozen_clock, OLD)
    set_policy(world)
    first = run()
    after_first = snapshot()
    second = run()
    assert snapshot() == after_first
    assert first.purged["messages"] > 0
    assert set(second.purged.values()) == {0}
    assert PurgeRun.objects.count() == 2


def test_the_report_counts_right_and_holds_no_patient_data(world, frozen_clock):
    old = Story(world, frozen_clock, OLD)
    events = Event.objects.filter(pk__in=old.event_ids)
    expected_messages = sum(1 for e in events if e.data.get("phase") != "transcript")
    set_policy(world)
    purge_run = run()
    assert purge_run.purged == {
        "attachments": 1, "files": 2, "messages": expected_messages, "provider_failures": 0,
        "provider_recordings": 1, "provider_waiting": 0, "recordings": 1,
        "stream_entries": purge_run.purged["stream_entries"], "transcripts": 1,
    }
    assert purge_run.purged["stream_entries"] > 0
    assert purge_run.cutoffs == {k: (NOW - timedelta(days=365)).isoformat() for k in
                                 ("messages", "attachments", "recordings", "transcripts")}
    report = json.dumps({f.name: str(getattr(purge_run, f.attname)) for f in PurgeRun._meta.fields})
    for secret in SECRETS:
        assert secret not in report
    assert all(isinstance(v, int) for v in [*purge_run.purged.values(), *purge_run.held.values()])


def test_a_failed_batch_keeps_rows_and_files_and_is_reported_without_patient_data(world, frozen_clock, monkeypatch):
    old = Story(world, frozen_clock, OLD)
    set_policy(world)
    def explode(*args, **kwargs):
        raise RuntimeError(f"{SECRET_TEXT} would be in this message")

    monkeypatch.setattr(purge_module, "_mark_files_purged", explode)
    with pytest.raises(RuntimeError):
        run()
    failed = PurgeRun.objects.get()
    assert failed.status == "failed" and failed.error == "RuntimeError while purging attachments"
    assert SECRET_TEXT not in json.dumps(failed.purged) + failed.error
    # Messages committed before the failure stay purged; the failed batch
    # rolled back: the file's row and the file itself are still there.
    assert Event.objects.get(pk=old.message.pk).body == ""
    assert Attachment.objects.filter(pk=old.file.pk).exists()
    assert os.path.exists(old.file.file.path)
    monkeypatch.undo()
    retried = run()
    assert retried.status == "ok" and retried.purged["attachments"] == 1
    assert not os.path.exists(old.file.file.path)


def test_stored_stream_entries_go_with_the_content(world, frozen_clock):
    Story(world, frozen_clock, OLD)
    Story(world, frozen_clock, RECENT, phone="+15555550102", caller="+15555550178", n=2, secrets=False)
    old_entries = StreamEntry.objects.filter(created_at__lt=NOW - timedelta(days=365)).count()
    recent_entries = StreamEntry.objects.filter(created_at__gte=RECENT).count()
    assert old_entries and recent_entries
    set_policy(world)
    purge_run = run()
    assert purge_run.purged["stream_entries"] == old_entries
    assert not StreamEntry.objects.filter(created_at__lt=NOW - timedelta(days=365)).exists()
    assert StreamEntry.objects.filter(created_at__gte=RECENT).count() == recent_entries
    for entry in StreamEntry.objects.all():
        assert SECRET_TEXT not in json.dumps(entry.payload)


# --- the command and the task ----------------------------------------------------------


def test_dry_run_counts_and_changes_nothing(world, frozen_clock):
    old = Story(world, frozen_clock, OLD)
    hold(world, conversation_id=old.call_conversation_id)
    set_policy(world)
    frozen_clock.set(NOW)
    before, entries = snapshot(), StreamEntry.objects.count()
    out = StringIO()
    call_command("purge_expired", "--dry-run", "--practice", "riverside", stdout=out)
    text = out.getvalue()
    assert text.startswith("riverside: would purge messages ")
    assert "recordings 0 (held 1)" in text and "transcripts 0 (held 1)" in text and "attachments 1 (held 0)" in text
    assert "files 1" in text
    assert snapshot() == before and StreamEntry.objects.count() == entries
    assert all(os.path.exists(p) for p in old.file_paths)
    assert not PurgeRun.objects.exists() and not ProviderDeletion.objects.exists()


def test_dry_run_of_a_practice_without_a_policy_stores_none(world, frozen_clock):
    call_command("purge_expired", "--dry-run", stdout=StringIO())
    assert not RetentionPolicy.objects.exists()


def test_the_command_purges_and_prints_counts(world, other_world, frozen_clock):
    Story(world, frozen_clock, OLD)
    set_policy(world)
    frozen_clock.set(NOW)
    out = StringIO()
    call_command("purge_expired", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("riverside: purged messages ") and "recordings 1 (held 0)" in lines[0]
    assert lines[1].startswith("lakeside: purged ")
    assert PurgeRun.objects.filter(trigger="command").count() == 2
    assert Event.objects.filter(practice=world.practice, created_at__lt=NOW - timedelta(days=365),
                                body__gt="").count() == 0


def test_the_command_refuses_an_unknown_practice(db):
    with pytest.raises(CommandError, match="No practice with slug 'nowhere'"):
        call_command("purge_expired", "--practice", "nowhere", stdout=StringIO())


def test_the_daily_task_purges_every_practice(world, other_world, frozen_clock, settings):
    old = Story(world, frozen_clock, OLD)
    set_policy(world)
    frozen_clock.set(NOW)
    assert purge_expired.delay().get() == {"riverside": "ok", "lakeside": "ok"}
    assert Event.objects.get(pk=old.message.pk).body == ""
    assert set(PurgeRun.objects.values_list("practice__slug", "trigger")) == {
        ("riverside", "schedule"), ("lakeside", "schedule")}
    entry = settings.CELERY_BEAT_SCHEDULE["retention-purge"]
    assert entry["task"] == "hub.retention.tasks.purge_expired"
    assert entry["schedule"].hour == {3} and entry["schedule"].minute == {15}


def test_one_practice_failing_does_not_stop_the_others(world, other_world, frozen_clock, monkeypatch):
    real = purge_module._purge_messages

    def fails_for_riverside(practice_id, *args):
        if practice_id == world.practice.pk:
            raise ValueError("boom")
        return real(practice_id, *args)

    monkeypatch.setattr(purge_module, "_purge_messages", fails_for_riverside)
    assert purge_expired() == {"riverside": "failed", "lakeside": "ok"}
    assert PurgeRun.objects.get(practice=world.practice).error == "ValueError while purging messages"


# --- what clients see ---------------------------------------------------------------


def test_the_api_marks_purged_events(world, frozen_clock):
    old = Story(world, frozen_clock, OLD)
    frozen_clock.set(RECENT)
    inbound(world.practice, phone=PAT, body="Another question")  # the same patient, recently
    set_policy(world)
    frozen_clock.set(NOW)
    run()
    conversation = api(world).get(f"/api/v1/conversations/{old.conversation.pk}").json()
    by_id = {e["id"]: e for e in conversation["events"]}
    assert by_id[old.message.pk]["purged"] is True and by_id[old.message.pk]["body"] == ""
    assert by_id[old.message.pk]["data"]["attachments"][0]["status"] == "purged"
    timeline = api(world).get(f"/api/v1/patients/{old.patient_id}/timeline").json()["events"]
    latest = timeline[-1]
    assert latest["body"] == "Another question" and latest["purged"] is False
    assert {e["purged"] for e in timeline[:-1]} == {True}
    # A purged file is not served.
    client = Client()
    client.force_login(world.sam)
    assert client.get(f"/console/attachments/{old.file.pk}").status_code == 404


def test_the_task_purges_as_of_the_hubs_clock(world, frozen_clock):
    old = Story(world, frozen_clock, OLD)
    set_policy(world)
    frozen_clock.set(OLD + timedelta(days=300))
    purge_expired()
    assert PurgeRun.objects.get(practice=world.practice).purged["messages"] == 0
    assert Event.objects.get(pk=old.message.pk).body == SECRET_TEXT


def test_a_returning_chat_visitor_does_not_see_purged_messages(world, frozen_clock):
    from channels_app.webchat import service

    frozen_clock.set(OLD)
    visitor, _ = service.start(world.practice.pk, name="Pat")
    service.send(visitor, client_id="old-message-1", body="My old question about a rash")
    frozen_clock.set(RECENT)
    service.send(visitor, client_id="new-message-1", body="A newer question")
    set_policy(world)
    frozen_clock.set(NOW)
    run()
    bodies = [e["body"] for e in service.history(visitor)["events"]]
    assert bodies == ["A newer question"]
