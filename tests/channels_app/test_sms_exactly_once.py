"""A worker killed in the middle of a send never leads to a second text."""

import time

import pytest

from hub.actions import outbound
from hub.lib import access
from hub.models import Event
from hub.tasks import sweep_outbound
from tests.channels_app.twilio_helpers import ACCOUNT_SID, AUTH_TOKEN
from tests.conftest import build_world
from tests.contracts.twilio_server import TwilioContractServer
from tests.factories import inbound
from tests.processes import broker_queue, kill, start_worker, stop, wait_for

MESSAGES = r"/Messages\.json$"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_between_recording_and_confirming_sends_exactly_once(twilio_settings):
    server = TwilioContractServer(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    base = server.start()
    twilio_settings.TWILIO_API_BASE_URL = base
    twilio_settings.SMS_BACKEND = "twilio"
    twilio_settings.OUTBOUND_ATTEMPT_LEASE_SECONDS = 1
    worker_env = dict(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_API_BASE_URL=base,
                      SMS_BACKEND="twilio", TWILIO_TIMEOUT_SECONDS=60, OUTBOUND_ATTEMPT_LEASE_SECONDS=1,
                      PUBLIC_BASE_URL="https://hub.example.org", ALLOWED_HOSTS="hub.example.org")
    world = build_world()
    conversation = inbound(world.practice, channel="sms").conversation
    # Twilio takes the message, then the answer never reaches the worker.
    server.delay_next("POST", MESSAGES, seconds=60)
    workers = []
    try:
        with broker_queue() as queue:
            first = start_worker(queue, **worker_env)
            workers.append(first)
            event = outbound.send_message(access.viewer_for(world.alice), conversation.pk, "Your results are in.")
            assert wait_for(lambda: server.count("POST", MESSAGES) == 1), \
                "timed out waiting for the provider to receive the send"
            kill(first)  # SIGKILL: no cleanup, no ack

            event.refresh_from_db()
            assert event.delivery_status == "pending" and event.provider_id is None
            assert event.delivery_attempted_at is not None and event.delivery_attempts == 1

            time.sleep(1.2)  # past the attempt's lease
            second = start_worker(queue, **worker_env)
            workers.append(second)
            sweep_outbound.delay()
            assert wait_for(lambda: Event.objects.get(pk=event.pk).delivery_status != "pending"), \
                "timed out waiting for reconciliation"
    finally:
        for worker in workers:
            stop(worker)
        server.stop()
    event.refresh_from_db()
    assert server.count("POST", MESSAGES) == 1
    assert list(server.messages) == [event.provider_id]
    assert event.delivery_status == "queued"
    assert server.violations == []
