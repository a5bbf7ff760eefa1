"""Queries compiled once per shape (hub.lib.fastsql.objects): the same
instances as the ORM's, one statement per call once learnt, and a wrong
declaration of the parameters is caught rather than cached."""

import logging

import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError

from hub.lib import access, fastsql
from hub.models import Conversation
from tests.factories import inbound


@pytest.fixture(autouse=True)
def fresh_cache():
    fastsql._compiled.clear()
    yield
    fastsql._compiled.clear()


def _same(a: Conversation, b: Conversation) -> None:
    for field in Conversation._meta.concrete_fields:
        assert getattr(a, field.attname) == getattr(b, field.attname), field.name
    assert (a.patient.display_name, a.department.name) == (b.patient.display_name, b.department.name)
    assert (a.assignee_id and a.assignee.username) == (b.assignee_id and b.assignee.username)
    assert (a.topic_id and a.topic.slug) == (b.topic_id and b.topic.slug)


def test_a_visible_conversation_comes_back_as_the_orm_reads_it(world, django_assert_num_queries):
    mine = inbound(world.practice, topic_slug="bill").conversation
    Conversation.objects.filter(pk=mine.pk).update(assignee=world.bob, status="assigned")
    for user in (world.bob, world.sam, world.bob):  # agent, supervisor, agent again (cached)
        viewer = access.viewer_for(user)
        got = access.get_conversation(viewer, mine.pk)
        _same(got, Conversation.objects.select_related("patient", "department", "assignee", "topic").get(pk=mine.pk))
    viewer = access.viewer_for(world.bob)
    viewer.department_ids  # noqa: B018  (loaded once per viewer)
    with django_assert_num_queries(1):
        access.get_conversation(viewer, mine.pk)


def test_what_the_viewer_may_not_see_stays_hidden(world, other_world):
    theirs = inbound(other_world.practice).conversation
    for _ in range(2):  # learnt, then cached
        with pytest.raises(access.NotVisible):
            access.get_conversation(access.viewer_for(world.sam), theirs.pk)
    with pytest.raises(access.NotVisible):
        access.get_conversation(access.viewer_for(world.sam), "not a number")


def test_for_update_outside_a_transaction_as_with_the_orm(transactional_db):
    from tests.conftest import build_world

    world = build_world()
    conversation = inbound(world.practice).conversation
    viewer = access.viewer_for(world.sam)
    refuses = transaction.get_connection().features.has_select_for_update  # (SQLite ignores FOR UPDATE)
    for _ in range(2):  # learnt, then cached
        with transaction.atomic():
            assert access.get_conversation(viewer, conversation.pk, for_update=True).pk == conversation.pk
        if refuses:
            with pytest.raises(TransactionManagementError):
                access.get_conversation(viewer, conversation.pk, for_update=True)
        else:
            assert access.get_conversation(viewer, conversation.pk, for_update=True).pk == conversation.pk


def test_parameters_declared_in_the_wrong_order_are_not_cached(world, caplog):
    a = inbound(world.practice, phone="+15555550101").conversation
    b = inbound(world.practice, phone="+15555550102").conversation

    def build(params):
        pk, practice_id = params
        return Conversation.objects.filter(practice_id=practice_id).filter(pk=pk)

    with caplog.at_level(logging.WARNING, logger="hub.lib.fastsql"):
        # Declared as (pk, practice) while the SQL takes (practice, pk).
        assert [c.pk for c in fastsql.objects(("wrong",), build, [a.pk, world.practice.pk])] == [a.pk]
    assert "not the ones given" in caplog.text
    assert fastsql._compiled[("default", ("wrong",))] is None
    assert fastsql.misdeclared == {("wrong",)}
    fastsql.misdeclared.clear()  # (what the suite's own check would fail on)
    assert [c.pk for c in fastsql.objects(("wrong",), build, [b.pk, world.practice.pk])] == [b.pk]
