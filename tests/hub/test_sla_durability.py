"""SLA breaches survive workers that stop or die across the deadline: the
deadline lives in the database, and beat's sweep fires it once a worker
runs again."""

import time

import pytest

from hub.models import Event, SlaClock, SlaPolicy
from hub.tasks import sweep_sla
from tests.conftest import build_world
from tests.factories import inbound
from tests.processes import broker_queue, kill, start_worker, stop, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def breaches(conversation):
    return Event.objects.filter(conversation=conversation, body__endswith="SLA (3 s) breached").count()


def setup_deadline():
    world = build_world()
    SlaPolicy.objects.create(practice=world.practice, name="Fast", first_response_seconds=3)
    return inbound(world.practice).conversation


def test_a_worker_stopped_before_the_deadline_and_started_after_fires_it_once():
    with broker_queue() as queue:
        first = start_worker(queue)
        conversation = setup_deadline()
        time.sleep(1.0)
        stop(first)
        for _ in range(3):
            sweep_sla.delay()  # what beat sends meanwhile: it waits in the broker
        time.sleep(3.5)
        assert SlaClock.objects.get(conversation=conversation, kind="first_response").state == "running"
        second = start_worker(queue)
        try:
            sweep_sla.delay()
            assert wait_for(lambda: breaches(conversation) == 1)
            sweep_sla.delay()
            time.sleep(2)  # any second firing has had time to run
            sweep_sla.apply()
        finally:
            stop(second)
    assert breaches(conversation) == 1
    sla_clock = SlaClock.objects.get(conversation=conversation, kind="first_response")
    assert sla_clock.state == "breached"


def test_a_worker_killed_before_the_deadline_is_covered_by_the_sweep():
    with broker_queue() as queue:
        first = start_worker(queue)
        conversation = setup_deadline()
        time.sleep(1.0)
        kill(first)  # SIGKILL, in the middle of whatever it was doing
        time.sleep(3.5)
        second = start_worker(queue)
        try:
            sweep_sla.delay()  # what beat sends every second
            assert wait_for(lambda: breaches(conversation) == 1)
            sweep_sla.delay()
            time.sleep(2)
        finally:
            stop(second)
    assert breaches(conversation) == 1
