"""Resolved conversations made through the hub's own actions, and signed-in
clients, for the quality review tests."""

from __future__ import annotations

import itertools

import pytest
from django.test import Client

from hub.actions import conversations, outbound
from hub.lib import access
from hub.models import AgentProfile
from tests.conftest import make_user
from tests.factories import inbound

_phones = itertools.count(100)


def handled(world, agent, *, topic: str = "", resolve: bool = True, transfer_to=None, finisher=None,
            resolved_as=None):
    """A patient writes (about `topic`); `agent` picks up and replies;
    optionally transfers to a department where `finisher` picks up; the
    last holder resolves (with the topic `resolved_as`)."""
    conversation = inbound(world.practice, phone=f"+1555555{next(_phones):04d}", body="Can I book a visit?",
                           topic_slug=topic).conversation
    viewer = access.viewer_for(agent)
    conversations.pick_up(viewer, conversation.pk)
    outbound.send_message(viewer, conversation.pk, "Happy to help.")
    if transfer_to is not None:
        conversations.transfer(viewer, conversation.pk, department_id=transfer_to.pk, reason="Their team knows")
        viewer = access.viewer_for(finisher)
        conversations.pick_up(viewer, conversation.pk)
    if resolve:
        conversations.resolve(viewer, conversation.pk, topic_id=resolved_as.pk if resolved_as else None)
    conversation.refresh_from_db()
    return conversation


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api(user):
    """Call /api/v1 as `user` through the console's session (with CSRF)."""
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)

    def call(method, path, json=None):
        if json is None:
            return getattr(client, method)(f"/api/v1{path}")
        return getattr(client, method)(f"/api/v1{path}", data=json, content_type="application/json")
    return call


SCORES = {"greeting": 4, "empathy": 3, "accuracy": 4, "compliance": 2, "resolution": 3}  # 16 of 20: 80%


@pytest.fixture
def ada(world):
    """A practice admin (who reviews too)."""
    return make_user(world.practice, "ada", AgentProfile.Role.ADMIN, first="Ada", last="Admin")
