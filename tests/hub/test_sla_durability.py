"""SLA breaches survive workers that stop or die across the deadline."""

import time

import pytest

from hub.models import Event, SlaClock, SlaPolicy
from hub.tasks import sweep_sla
from tests.conftest import build_world
from tests.factories import inbound
from tests.processes import broker_queue, kill, start_worker, stop

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def breaches(conversation):
    return Event.objects.filter(conversation=conversation, body__endswith="SLA (3 s) breached").count()


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def setup_deadline():
    world = build_world()
    SlaPolicy.objects.create(practice=world.practice, name="Fast", first_response_seconds=3)
    return inbound(world.practice).conversation


def test_a_worker_stopped_before_the_deadline_and_started_after_fires_it_once():
    with broker_queue() as queue:
        first = start_worker(queue)
        conversation = setup_deadline()  # the ETA tasks go to the broker on commit
        time.sleep(1.0)
        stop(first)  # a warm shutdown hands its waiting ETA tasks back
        time.sleep(3.5)
        assert SlaClock.objects.get(conversation=conversation, kind="first_response").state == "running"
        second = start_worker(queue)
        try:
            assert wait_for(lambda: breaches(conversation) == 1)
            time.sleep(2)  # any duplicate delivery has had time to run
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
        kill(first)  # SIGKILL: its ETA tasks are lost until the broker's visibility timeout
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
