"""Known contact-center histories, played through the hub's own actions
(ingest, replies, transfers, resolutions) on a controlled clock, for the KPI
pages' tests. Replies go to API and web-chat patients only: their adapters
deliver in-process, so nothing here calls a provider."""

from __future__ import annotations

import contextlib
import itertools
from datetime import datetime, time, timedelta

from hub.actions import conversations, outbound
from hub.actions.ingest import InboundEvent, ingest
from hub.lib import access, clock
from kpi.models import Shift

_ids = itertools.count(1)


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@contextlib.contextmanager
def clock_at(moment: datetime):
    """The hub's clock, in this process, starting at `moment`."""
    c = Clock(moment)
    clock.set_source(lambda: c.now)
    try:
        yield c
    finally:
        clock.set_source(None)


def text_in(world, *, phone: str, channel: str = "api", body: str = "Hello", topic: str = ""):
    return ingest(InboundEvent(
        practice_id=world.practice.pk, channel=channel, provider_id=f"kpi-{next(_ids)}",
        contact_kind="phone", contact_address=phone, body=body, topic_slug=topic,
    )).conversation


def chat_in(world, *, visitor: str, body: str = "Hi"):
    return ingest(InboundEvent(
        practice_id=world.practice.pk, channel="web", provider_id=f"kpi-{next(_ids)}",
        contact_kind="web", contact_address=visitor, body=body,
    )).conversation


def small_day(world, c: Clock) -> dict:
    """One morning: two answered conversations (30 s and 300 s waits) and
    one still waiting.

    A (API, Scheduling): answered by Alice after 30 s, resolved.
    B (API, Billing, topic "Bill question"): answered by Bob after 300 s.
    C (API, Scheduling): still waiting.
    """
    alice, bob = access.viewer_for(world.alice), access.viewer_for(world.bob)
    a = text_in(world, phone="+15555550101", body="Can I move my appointment?")
    c.advance(seconds=30)
    outbound.send_message(alice, a.pk, "Of course, which day suits you?")
    c.advance(seconds=30)
    b = text_in(world, phone="+15555550102", body="Question about my bill", topic="bill")
    c.advance(seconds=30)
    conversations.resolve(alice, a.pk)
    c.advance(seconds=270)
    outbound.send_message(bob, b.pk, "Let me look at that for you.")
    c.advance(seconds=40)
    waiting = text_in(world, phone="+15555550103", body="Are you open Saturday?")
    return {"answered_fast": a, "answered_slow": b, "waiting": waiting}


def history(world, today: datetime, days: int = 14) -> None:
    """`days` days of traffic up to `today` (a local midnight; a little of
    today itself, one patient still waiting), varied enough to fill every
    chart: patients who come back (first-contact resolution), transfers,
    web chats, agents' presence through the day, and shifts for the staffing
    forecast."""
    from hub.actions import presence

    alice, bob, sam = (access.viewer_for(u) for u in (world.alice, world.bob, world.sam))
    for back in range(days - 1, -1, -1):
        opens = today - timedelta(days=back) + timedelta(hours=8 + back % 4, minutes=back * 7)
        with clock_at(opens) as c:
            presence.set_presence(world.alice.pk, "available")
            presence.set_presence(world.bob.pk, "available")
            c.advance(minutes=5)
            for n in range(3 + back % 3):
                # Patients write again every few days: some recontacts.
                phone = f"+1555555{back % 5:02d}{n:02d}"
                convo = text_in(world, phone=phone, topic="bill" if n % 3 == 2 else "",
                                body="Could someone get back to me?")
                c.advance(seconds=15 + 40 * n + 25 * (back % 7))
                agent = bob if n % 3 == 2 else alice
                if back == 0 and n == 0:
                    c.advance(minutes=5)
                    continue  # today: one still waiting
                if n == 1 and back % 2 == 0:
                    conversations.transfer(alice, convo.pk, department_id=world.billing.pk,
                                           reason="Billing handles this")
                    c.advance(seconds=60)
                    agent = bob
                outbound.send_message(agent, convo.pk, "Thanks for getting in touch, happy to help.")
                c.advance(minutes=3)
                conversations.resolve(agent, convo.pk)
                c.advance(minutes=20)
            presence.set_presence(world.bob.pk, "away")
            chat = chat_in(world, visitor=f"visitor-{back}", body="Do you take new patients?")
            c.advance(seconds=45 + 30 * (back % 6))
            outbound.send_message(sam, chat.pk, "We do! Shall I book you in?")
            c.advance(minutes=2)
            conversations.resolve(sam, chat.pk)
            if back:
                c.advance(hours=1)
                presence.set_presence(world.alice.pk, "offline")
                presence.set_presence(world.bob.pk, "offline")
    presence.set_presence(world.bob.pk, "busy")
    for user, ends in ((world.alice, time(17, 0)), (world.bob, time(12, 0))):
        for weekday in range(7):
            Shift.objects.create(practice=world.practice, agent=user, weekday=weekday, starts=time(8, 0), ends=ends)


def this_morning(world, start: datetime) -> None:
    """Half an hour of today from `start`: answered texts and chats (quick
    and slow), a transfer, and a billing question still waiting."""
    alice, bob, sam = (access.viewer_for(u) for u in (world.alice, world.bob, world.sam))
    with clock_at(start) as c:
        for n, wait in enumerate((25, 70, 240, 40)):
            convo = text_in(world, phone=f"+15555557{n:03d}", body="Could someone get back to me?")
            c.advance(seconds=wait)
            agent = alice
            if n == 2:
                conversations.transfer(alice, convo.pk, department_id=world.billing.pk, reason="Billing handles this")
                c.advance(seconds=30)
                agent = bob
            outbound.send_message(agent, convo.pk, "Thanks for getting in touch, happy to help.")
            c.advance(minutes=2)
            conversations.resolve(agent, convo.pk)
        chat = chat_in(world, visitor="visitor-today", body="Do you take new patients?")
        c.advance(seconds=50)
        outbound.send_message(sam, chat.pk, "We do! Shall I book you in?")
        c.advance(minutes=1)
        text_in(world, phone="+15555557900", topic="bill", body="Question about my statement")
