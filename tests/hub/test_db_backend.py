"""The PostgreSQL backend sends a transaction's BEGIN with its first
statement and deferred writes with the next statement or the COMMIT
(hub.db.backends.postgresql). What a caller sees must not change: errors,
rollbacks, savepoints and reads inside the transaction."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from psycopg import pq

from hub.lib import fastsql
from hub.models import Conversation, Event
from tests.factories import inbound

pytestmark = [
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL only"),
    pytest.mark.django_db(transaction=True),
]


def _status():
    return connection.connection.info.transaction_status


def _event_like(event: Event, **changes) -> Event:
    fields = {f.attname: getattr(event, f.attname) for f in Event._meta.concrete_fields}
    fields.update(changes)
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('hub_event', 'id'))")
        fields["id"] = cursor.fetchone()[0]
    return Event(**fields)


def test_a_transaction_that_runs_nothing_never_reaches_the_server(world):
    connection.ensure_connection()
    with transaction.atomic():
        assert _status() == pq.TransactionStatus.IDLE
    with transaction.atomic():
        Conversation.objects.count()
        assert _status() == pq.TransactionStatus.INTRANS
    assert _status() == pq.TransactionStatus.IDLE


def test_a_deferred_write_that_fails_at_commit_raises_and_leaves_nothing(world):
    first = inbound(world.practice, provider_id="SMdup", body="first").event
    before = Event.objects.count()
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            conversation = Conversation.objects.select_for_update(no_key=True).get(pk=first.conversation_id)
            with fastsql.deferred():
                fastsql.insert(_event_like(first, seq=first.seq + 100, body="fine"))
                conversation.channel = "voice"
                fastsql.update(conversation, ["channel"])
                fastsql.insert(_event_like(first, seq=first.seq + 101))  # same provider id: refused
    assert Event.objects.count() == before
    assert Conversation.objects.get(pk=first.conversation_id).channel == "api"
    assert connection.deferred == []
    # The connection is usable and the next transaction carries nothing over.
    with transaction.atomic():
        assert Event.objects.filter(body="fine").count() == 0


def test_reads_inside_the_transaction_see_deferred_writes(world):
    first = inbound(world.practice, provider_id="SMread", body="first").event
    with transaction.atomic():
        with fastsql.deferred():
            fastsql.insert(_event_like(first, seq=first.seq + 1, provider_id="SMread-2", body="second"))
        assert connection.deferred  # not sent yet
        assert list(Event.objects.filter(provider_id__startswith="SMread").values_list("body", flat=True)
                    .order_by("seq")) == ["first", "second"]
        assert connection.deferred == []
    assert Event.objects.filter(body="second").count() == 1


def test_a_rolled_back_savepoint_takes_its_deferred_writes_with_it(world):
    first = inbound(world.practice, provider_id="SMsave", body="first").event
    with transaction.atomic():
        try:
            with transaction.atomic():
                with fastsql.deferred():
                    fastsql.insert(_event_like(first, seq=first.seq + 1, provider_id="SMsave-2", body="undone"))
                raise RuntimeError("changed my mind")
        except RuntimeError:
            pass
        with fastsql.deferred():
            fastsql.insert(_event_like(first, seq=first.seq + 1, provider_id="SMsave-3", body="kept"))
    assert set(Event.objects.filter(provider_id__startswith="SMsave").values_list("body", flat=True)) == {
        "first", "kept"}


def test_an_error_in_the_transaction_discards_what_was_deferred(world):
    first = inbound(world.practice, provider_id="SMerr", body="first").event
    with pytest.raises(ZeroDivisionError):
        with transaction.atomic():
            with fastsql.deferred():
                fastsql.insert(_event_like(first, seq=first.seq + 1, provider_id="SMerr-2", body="never"))
            1 / 0
    assert connection.deferred == []
    assert not Event.objects.filter(body="never").exists()


def test_statements_with_a_literal_percent_and_no_parameters_still_run(world):
    first = inbound(world.practice, provider_id="SMpct", body="first").event
    with transaction.atomic():
        with fastsql.deferred():
            fastsql.insert(_event_like(first, seq=first.seq + 1, provider_id="SMpct-2", body="50% off"))
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM hub_event WHERE body LIKE '50%'")
            assert cursor.fetchone()[0] == 1
