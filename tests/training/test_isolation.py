"""Practice never touches the real hub: playing a scenario from start to
scorecard creates no patient, conversation or event, publishes nothing,
and calls no channel adapter."""

from channels_app import registry
from channels_app.models import SandboxMessage
from hub.models import ContactPoint, Conversation, Event, Patient


def counts():
    return [model.objects.count() for model in (Patient, ContactPoint, Conversation, Event, SandboxMessage)]


def test_playing_creates_no_hub_rows_and_sends_nothing(world, player, monkeypatch, captured_events):
    def no_channel(kind):
        raise AssertionError(f"practice called the {kind} channel adapter")

    monkeypatch.setattr(registry, "get_adapter", no_channel)
    before = counts()
    p = player(world.bob)
    p.start("billing-dispute")
    p.reply("Hi Robert, can you confirm your date of birth?")
    p.reply("Thanks. The $85 is for the knee exam.")
    p.reply("I can set up a payment plan.")
    run = p.resolve()
    assert run["scorecard"]["score"] == 100
    assert counts() == before
    assert list(captured_events) == []
