"""A Celery worker keeps its pooled database connections from one task to
the next, and a connection that died meanwhile (PostgreSQL restarted, a
proxy dropped it) costs no task. PostgreSQL only: SQLite has no sessions."""

import time

import pytest
from django.db import connection

from hub.models import Event, SlaPolicy
from hub.tasks import sweep_sla
from tests.conftest import build_world
from tests.factories import inbound
from tests.processes import broker_queue, start_worker, stop, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL sessions")


def other_sessions() -> set[int]:
    """Server processes of this database other than this test's own."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()")
        return {pid for (pid,) in cursor.fetchall()}


def terminate(pids: set[int]) -> None:
    with connection.cursor() as cursor:
        for pid in pids:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


def breaches(conversation) -> int:
    return Event.objects.filter(conversation=conversation, body__endswith="SLA (3 s) breached").count()


@postgres_only
def test_a_prefork_worker_keeps_its_connections_and_survives_their_loss():
    world = build_world()
    SlaPolicy.objects.create(practice=world.practice, name="Fast", first_response_seconds=3)
    mine = other_sessions()  # this test process's own pool
    with broker_queue() as queue:
        worker = start_worker(queue, pool="prefork")
        try:
            sweep_sla.delay()  # nothing to fire yet: the worker opens its connections
            assert wait_for(lambda: other_sessions() - mine)
            time.sleep(1.0)
            sessions = other_sessions() - mine
            conversation = inbound(world.practice).conversation
            opened = time.monotonic()
            for _ in range(5):
                sweep_sla.delay()
            time.sleep(1.0)
            assert breaches(conversation) == 0
            assert other_sessions() - mine == sessions  # the same sessions served the next tasks
            terminate(sessions)
            assert wait_for(lambda: not other_sessions() & sessions)
            time.sleep(max(0.0, opened + 3.5 - time.monotonic()))
            sweep_sla.delay()  # past the deadline, on a pool whose connections all died
            assert wait_for(lambda: breaches(conversation) == 1, timeout=15)
        finally:
            stop(worker)
