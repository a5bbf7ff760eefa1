"""Purged voicemail recordings are deleted at Twilio too, by the official
client, against a local server that checks each request against Twilio's
OpenAPI description."""

from datetime import UTC, datetime

import pytest
from django.db import transaction

from hub.actions import attachments, calls
from hub.models import Attachment
from hub.retention.models import LegalHold, ProviderDeletion, RetentionPolicy
from hub.retention.purge import purge_practice
from tests.channels_app.twilio_helpers import ACCOUNT_SID

pytestmark = pytest.mark.django_db(transaction=True)

OLD = datetime(2020, 3, 2, 15, 0, tzinfo=UTC)
NOW = datetime(2022, 3, 2, 15, 0, tzinfo=UTC)
CALL_SID = "CA" + "7" * 32
RECORDING_SID = "RE" + "7a" * 16
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64
DELETE = r"/Recordings/RE[0-9a-f]{32}\.json$"


@pytest.fixture
def twilio(twilio_contract):
    return twilio_contract


def voicemail(world, twilio, frozen_clock):
    """A voicemail left two years ago; its recording fetched from Twilio."""
    frozen_clock.set(OLD)
    twilio.add_call(CALL_SID, from_="+15555550171", to="+15550100100", status="completed")
    twilio.add_recording(RECORDING_SID, CALL_SID, content=WAV, content_type="audio/wav", duration=14)
    calls.incoming(world.practice.pk, call_sid=CALL_SID, from_="+15555550171", to="+15550100100")
    url = f"{twilio.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING_SID}"
    calls.voicemail(CALL_SID, recording_sid=RECORDING_SID, recording_url=url, duration=14)
    recording = Attachment.objects.get(event__data__phase="voicemail")
    if recording.status == "pending":  # fetched after commit; fetch now if the task did not run
        attachments.fetch(recording.pk)
    recording.refresh_from_db()
    assert recording.status == "stored" and recording.file.read() == WAV
    RetentionPolicy.objects.create(practice=world.practice, recording_days=365)
    return recording


def test_a_purged_recording_is_deleted_at_twilio(world, twilio, frozen_clock):
    recording = voicemail(world, twilio, frozen_clock)
    run = purge_practice(world.practice, NOW)
    assert twilio.count("DELETE", DELETE) == 1
    [request] = [r for r in twilio.requests if r.method == "DELETE"]
    assert request.path.endswith(f"/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING_SID}.json")
    assert RECORDING_SID not in twilio.recordings
    assert not Attachment.objects.filter(pk=recording.pk).exists()
    deletion = ProviderDeletion.objects.get()
    assert (deletion.status, deletion.attempts, deletion.provider_id) == ("done", 1, RECORDING_SID)
    assert run.purged["recordings"] == 1 and run.purged["provider_recordings"] == 1
    # Nothing more to do the next day.
    purge_practice(world.practice, NOW)
    assert twilio.count("DELETE", DELETE) == 1


def test_a_failed_delete_is_retried_by_the_next_run(world, twilio, frozen_clock):
    voicemail(world, twilio, frozen_clock)
    twilio.fail_next("DELETE", DELETE, status=503)
    first = purge_practice(world.practice, NOW)
    assert first.status == "ok"
    assert first.purged["provider_failures"] == 1 and first.purged["provider_waiting"] == 1
    assert ProviderDeletion.objects.get().status == "pending"
    assert RECORDING_SID in twilio.recordings
    second = purge_practice(world.practice, NOW)
    assert second.purged["provider_recordings"] == 1 and second.purged["recordings"] == 0
    assert ProviderDeletion.objects.get().status == "done"
    assert RECORDING_SID not in twilio.recordings


def test_a_refused_delete_is_reported_and_not_retried(world, twilio, frozen_clock):
    voicemail(world, twilio, frozen_clock)
    twilio.fail_next("DELETE", DELETE, status=403, code=20403)
    run = purge_practice(world.practice, NOW)
    deletion = ProviderDeletion.objects.get()
    assert (deletion.status, deletion.error_code) == ("failed", "20403")
    assert run.purged["provider_failures"] == 1
    purge_practice(world.practice, NOW)
    assert twilio.count("DELETE", DELETE) == 1


def test_a_recording_already_gone_at_twilio_counts_as_deleted(world, twilio, frozen_clock):
    voicemail(world, twilio, frozen_clock)
    twilio.recordings.pop(RECORDING_SID)
    purge_practice(world.practice, NOW)
    assert ProviderDeletion.objects.get().status == "done"


def test_a_held_recording_stays_at_twilio(world, twilio, frozen_clock):
    recording = voicemail(world, twilio, frozen_clock)
    with transaction.atomic():
        LegalHold.objects.create(practice=world.practice, conversation_id=recording.event.conversation_id,
                                 reason="Complaint under review", placed_by=world.sam, placed_at=NOW)
    run = purge_practice(world.practice, NOW)
    assert twilio.count("DELETE", DELETE) == 0
    assert Attachment.objects.filter(pk=recording.pk, status="stored").exists()
    assert run.held["recordings"] == 1
