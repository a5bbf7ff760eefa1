"""A known day at Riverside Family Medicine, and every KPI worked out by hand.

The day is driven through the hub's public surfaces: Twilio-signed SMS and
voice webhooks, the chat widget's socket, the REST API agents' consoles use
and the Celery tasks beat runs. The figures are read back from
/api/v1/kpi/ (what the dashboard and the CSV export show).

All three departments are open around the clock, so business seconds are
plain seconds. The practice's SLA promises a first response within 4
minutes. Times are America/New_York, Tuesday 24 November 2026.

  09:00:00  P1 texts. Alice picks up 09:00:30, replies 09:01:00 (waited 60),
            resolves 09:05:00.
  09:10:00  P2 texts about a bill. Alice picks up 09:11, transfers to Billing
            09:12; Bob picks up 09:13; the SLA breaches at 09:14; Bob replies
            09:15:00 (waited 300), resolves 09:20 with the topic "Bill
            question".
  10:00:00  P3 calls, presses 2 (Billing). Bob takes the call at 10:00:15
            (15 s on hold), talks 120 s, resolves 10:03:00.
  10:30:00  P4 calls, presses 1, hangs up after 45 s on hold (abandoned; the
            hub texts them back automatically, which is no response). The
            SLA breaches at 10:34. Alice resolves 10:50 for follow-up.
  11:00:00  P5 calls, presses 1, hangs up after 3 s (a short abandon). Alice
            resolves 11:02.
  11:30:00  Wendy starts a web chat and leaves at 11:32:00 (abandoned after
            120 s). The SLA breaches at 11:34. Alice picks up 11:40, replies
            11:41, resolves 11:45.
  12:00:00  Will chats. Alice picks up 12:00:20, replies 12:00:50 (waited 50);
            Will writes again 12:02:00, Alice replies 12:03:00; resolved 12:05.
  13:00:00  P6 texts; Alice replies 13:01 without picking up first (waited
            60), resolves 13:02. P6 texts "Thanks!" at 13:03, inside the
            10-minute reopen window; Alice resolves 13:04 with no reply.
  16:00:00  P1 texts again (a re-contact: a new conversation). Alice picks up
            16:01, replies 16:02 (waited 120), resolves 16:10.

Presence: Alice available 08:55 to 17:00; Bob 09:00 to 12:05.
"""

import time as time_module
import xml.etree.ElementTree as ET
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.management import call_command
from django.test import Client

from channels_app.webchat.tasks import check_visitor_left
from hub.asgi import application
from hub.models import AgentProfile, Conversation, Patient, SlaPolicy, Topic
from hub.tasks import sweep_sla
from kpi.tasks import refresh
from tests.channels_app.twilio_helpers import fixture, post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("twilio_settings")]

NY = ZoneInfo("America/New_York")
DAY = "2026-11-24"
V = "/webhooks/twilio/voice"
P1, P2, P3, P4, P5, P6 = (f"+1555555010{i}" for i in range(1, 7))


@pytest.fixture(autouse=True)
def _backends(settings):
    settings.VOICE_BACKEND = "sandbox"
    settings.SMS_BACKEND = "sandbox"
    settings.WIDGET_ALIVE_SECONDS = 1


class Day:
    def __init__(self, world, clock):
        self.world, self.clock = world, clock
        self.twilio = Client()
        self.agents = {}
        for user in (world.alice, world.bob):
            client = Client()
            client.force_login(user)
            self.agents[user.username] = client
        self.api = Client(HTTP_AUTHORIZATION=f"Bearer {world.token}")
        clock.set(datetime(2026, 11, 24, 0, 0, tzinfo=NY))

    def at(self, hh_mm_ss: str) -> None:
        """Move the clock on; beat's SLA sweep runs, as it does every second."""
        h, m, s = (int(x) for x in hh_mm_ss.split(":"))
        moment = datetime(2026, 11, 24, h, m, s, tzinfo=NY)
        assert moment >= self.clock.now
        self.clock.set(moment)
        sweep_sla()

    # --- patients ---------------------------------------------------------------

    def text(self, phone: str, body: str) -> Conversation:
        sid = "SM" + uuid.uuid4().hex
        params = fixture("sms_incoming")
        params.update({"From": phone, "Body": body, "MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid})
        assert post(self.twilio, "/webhooks/twilio/sms", params).status_code == 200
        return self.open_conversation(phone)

    def voice(self, path: str, name: str, sid: str, phone: str, **subs):
        params = fixture(name, call_sid=sid, **{"from": phone}, **{k: str(v) for k, v in subs.items()})
        response = post(self.twilio, V + path, params)
        assert response.status_code in (200, 204), response.content
        return response

    def ring_and_choose(self, phone: str, digit: str) -> str:
        sid = "CA" + uuid.uuid4().hex
        self.voice("", "voice_incoming", sid, phone)
        params = fixture("voice_incoming", call_sid=sid, **{"from": phone})
        params.update(Digits=digit, CallStatus="in-progress")
        assert post(self.twilio, V + "/menu?attempt=1", params).status_code == 200
        return sid

    def hang_up_on_hold(self, sid: str, phone: str, seconds: int) -> None:
        self.voice("/queue-result", "voice_queue_result", sid, phone, result="hangup", seconds=seconds)
        self.voice("/status", "voice_status", sid, phone, status="completed", duration=seconds + 10, sequence=3)

    def open_conversation(self, phone: str) -> Conversation:
        return Conversation.objects.exclude(status="resolved").get(patient__contact_points__address=phone)

    # --- agents ---------------------------------------------------------------------

    def act(self, who, verb: str, conversation, **body):
        response = self.agents[who.username].post(f"/api/v1/conversations/{conversation.pk}/{verb}", body,
                                                  content_type="application/json")
        assert response.status_code in (200, 201), response.content
        return response

    def reply(self, who, conversation, body="Happy to help."):
        return self.act(who, "messages", conversation, body=body)

    def presence(self, who, state: str) -> None:
        response = self.agents[who.username].put("/api/v1/me/presence", {"presence": state},
                                                 content_type="application/json")
        assert response.status_code == 200, response.content

    # --- the figures ------------------------------------------------------------------

    def table(self, name: str, **params) -> dict:
        response = self.api.get(f"/api/v1/kpi/{name}", {"from": DAY, "to": DAY, **params})
        assert response.status_code == 200, response.content
        return response.json()

    def summary(self, **params) -> dict:
        return {metric: value for metric, value in self.table("summary", **params)["rows"]}


class Chat:
    """A visitor on the practice's website, through the widget's socket. A
    socket lives in one event loop: each visitor's whole visit runs in one
    `async_to_sync`, the agents' side in between through `sync_to_async`."""

    def __init__(self, practice, name: str):
        self.practice, self.name = practice, name
        self.socket = None

    async def start(self, text: str) -> Conversation:
        self.socket = WebsocketCommunicator(application, f"/ws/widget/{self.practice.widget_key}/",
                                            headers=[(b"origin", b"http://localhost:8000")])
        assert (await self.socket.connect(timeout=5))[0]
        await self.socket.send_json_to({"type": "start", "name": self.name})
        while (await self.socket.receive_json_from(timeout=5))["type"] != "welcome":
            pass
        await self.say(text)
        return await sync_to_async(Conversation.objects.exclude(status="resolved").get)(patient__first_name=self.name)

    async def say(self, text: str) -> None:
        message_id = uuid.uuid4().hex
        await self.socket.send_json_to({"type": "message", "id": message_id, "body": text})
        while True:
            message = await self.socket.receive_json_from(timeout=5)
            if message["type"] == "ack" and message["id"] == message_id:
                return

    async def leave(self) -> None:
        await self.socket.disconnect()


def live_the_day(world, clock) -> Day:
    SlaPolicy.objects.create(practice=world.practice, name="First response in 4 minutes",
                             first_response_seconds=240)
    AgentProfile.objects.filter(user=world.bob).update(voice_endpoint="+15550109999")
    bill = Topic.objects.get(practice=world.practice, slug="bill")
    d = Day(world, clock)
    alice, bob = world.alice, world.bob

    d.at("08:55:00"); d.presence(alice, "available")
    d.at("09:00:00"); d.presence(bob, "available")
    c = d.text(P1, "Can I move my appointment to Thursday?")
    d.at("09:00:30"); d.act(alice, "pick-up", c)
    d.at("09:01:00"); d.reply(alice, c)
    d.at("09:05:00"); d.act(alice, "resolve", c)

    d.at("09:10:00"); c = d.text(P2, "I have a question about my statement")
    d.at("09:11:00"); d.act(alice, "pick-up", c)
    d.at("09:12:00"); d.act(alice, "transfer", c, reason="Statement question", department_id=world.billing.pk)
    d.at("09:13:00"); d.act(bob, "pick-up", c)
    d.at("09:14:30")  # the first-response SLA breaches
    d.at("09:15:00"); d.reply(bob, c)
    d.at("09:20:00"); d.act(bob, "resolve", c, topic_id=bill.pk)

    d.at("10:00:00"); sid = d.ring_and_choose(P3, "2"); c = d.open_conversation(P3)
    d.at("10:00:15"); d.act(bob, "pick-up", c)
    d.voice("/queue-result", "voice_queue_result", sid, P3, result="redirected", seconds=15)
    dial = ET.fromstring(d.voice(f"/connect?agent={bob.pk}", "voice_wait", sid, P3).content).find("Dial")
    bob_answers = dial.find("Number").get("url").split("hub.example.org")[1]
    leg = {"CallSid": "CA" + uuid.uuid4().hex, "ParentCallSid": sid, "AccountSid": "ACa1b2c3d4e5f60718293a4b5c6d7e8f90"}
    assert post(d.twilio, bob_answers, leg).status_code == 200
    d.at("10:02:15"); d.voice("/status", "voice_status", sid, P3, status="completed", duration=135, sequence=3)
    d.at("10:03:00"); d.act(bob, "resolve", c)

    d.at("10:30:00"); sid = d.ring_and_choose(P4, "1"); c = d.open_conversation(P4)
    d.at("10:30:45"); d.hang_up_on_hold(sid, P4, 45)
    d.at("10:34:30")  # the SLA breaches
    d.at("10:50:00"); d.act(alice, "resolve", c, disposition="follow_up")

    d.at("11:00:00"); sid = d.ring_and_choose(P5, "1"); c = d.open_conversation(P5)
    d.at("11:00:03"); d.hang_up_on_hold(sid, P5, 3)
    d.at("11:02:00"); d.act(alice, "resolve", c)

    @async_to_sync
    async def wendy_visits():
        wendy = Chat(world.practice, "Wendy")
        await sync_to_async(d.at)("11:30:00")
        conversation = await wendy.start("Do you take new patients?")
        await sync_to_async(d.at)("11:32:00")
        await wendy.leave()
        return conversation, clock.now, await sync_to_async(Patient.objects.get)(first_name="Wendy")

    c, left_at, wendy = wendy_visits()
    time_module.sleep(1.2)  # her widget's last ping expires (WIDGET_ALIVE_SECONDS)
    check_visitor_left.delay(wendy.pk, left_at.isoformat())
    d.at("11:40:00"); d.act(alice, "pick-up", c)
    d.at("11:41:00"); d.reply(alice, c, "Yes, we do - call us to register.")
    d.at("11:45:00"); d.act(alice, "resolve", c)

    @async_to_sync
    async def will_visits():
        will, agent = Chat(world.practice, "Will"), sync_to_async
        await agent(d.at)("12:00:00")
        conversation = await will.start("Is parking free?")
        await agent(d.at)("12:00:20"); await agent(d.act)(alice, "pick-up", conversation)
        await agent(d.at)("12:00:50"); await agent(d.reply)(alice, conversation, "Yes, behind the building.")
        await agent(d.at)("12:02:00"); await will.say("And on Saturdays?")
        await agent(d.at)("12:03:00"); await agent(d.reply)(alice, conversation, "Saturdays too.")
        await agent(d.at)("12:05:00"); await agent(d.act)(alice, "resolve", conversation)
        await will.leave()

    will_visits()
    d.presence(bob, "offline")

    d.at("13:00:00"); c = d.text(P6, "Is my prescription ready?")
    d.at("13:01:00"); d.reply(alice, c, "It is.")
    d.at("13:02:00"); d.act(alice, "resolve", c)
    d.at("13:03:00"); c = d.text(P6, "Thanks!")
    d.at("13:04:00"); d.act(alice, "resolve", c)

    d.at("16:00:00"); c = d.text(P1, "One more thing: can I bring my son too?")
    d.at("16:01:00"); d.act(alice, "pick-up", c)
    d.at("16:02:00"); d.reply(alice, c)
    d.at("16:10:00"); d.act(alice, "resolve", c)
    d.at("17:00:00"); d.presence(alice, "offline")
    return d


def approx(value):
    return pytest.approx(value, abs=1e-4)


def test_every_kpi_of_a_known_day(world, frozen_clock):
    d = live_the_day(world, frozen_clock)
    # A week and a day later: every first-contact-resolution window has passed.
    frozen_clock.set(datetime(2026, 12, 2, 12, 0, tzinfo=NY))
    refresh()  # what beat runs every second
    s = d.summary()

    # Ten contacts: six texts and chats that opened an episode (P6's "Thanks!"
    # too), three calls, Wendy's chat.
    assert s["contacts"] == 10
    assert s["offered"] == 10
    # Answered: P1 60, P2 300, P3 15, Will 50, P6 60, P1 again 120.
    assert s["answered"] == 6
    assert s["average_speed_of_answer"] == approx((60 + 300 + 15 + 50 + 60 + 120) / 6)
    # P4 after 45 s and Wendy after 120 s; P5's 3 s is a short abandon.
    assert (s["abandoned"], s["short_abandoned"]) == (2, 1)
    assert s["closed_without_response"] == 1  # P6's "Thanks!"
    assert s["still_waiting"] == 0
    # Out of the queue: the 6 answered and the 2 abandoned.
    assert s["average_wait"] == approx((605 + 45 + 120) / 8)
    # Calls and chats only: P3, P4, Wendy, Will.
    assert s["abandonment_rate"] == approx(2 / 4)
    # Within 20 s (calls) or 120 s (messages): P1, P3, Will, P6, P1 again (120
    # is within); not P2 (300). Abandoned ones count against it.
    assert s["service_level"] == approx(5 / 8)
    assert s["average_talk_time"] == approx(120)

    # Ten episodes, all opened by patients.
    assert s["conversations"] == 10
    # First responses: P1 60, P2 300, P3 15, Wendy 660, Will 50, P6 60, P1 120.
    assert s["first_response_time"] == approx((60 + 300 + 15 + 660 + 50 + 60 + 120) / 7)
    assert s["median_first_response_time"] == approx(60)
    # Patient waits ended by a response: those, plus Will's second (60).
    assert s["average_reply_time"] == approx((60 + 300 + 15 + 660 + 50 + 60 + 60 + 120) / 8)
    assert s["resolved"] == 10
    assert s["resolution_time"] == approx((300 + 600 + 180 + 1200 + 120 + 900 + 300 + 120 + 60 + 600) / 10)
    assert (s["transferred"], s["transfer_rate"]) == (1, approx(0.1))
    # Not at first contact: P1's first (came back at 16:00), P2's (transferred),
    # P4's (follow-up). P6's "Thanks!" needed no response: not a re-contact.
    assert s["first_contact_resolution"] == approx(7 / 10)
    # Held: P1 270, P2 60 + 420, P3 165, Wendy 300, Will 280, P6 60 + 60, P1 540.
    assert s["average_handle_time"] == approx((270 + 480 + 165 + 300 + 280 + 60 + 60 + 540) / 10)
    # First-response clocks: met for P1, P3, Will, P6, P1 again; breached for
    # P2, P4 and Wendy; P5's was cancelled by resolving it.
    assert (s["sla_met"], s["sla_breached"]) == (5, 3)
    assert s["sla_compliance"] == approx(5 / 8)

    # By channel.
    channels = {row[0]: dict(zip(d.table("by-channel")["columns"], row)) for row in d.table("by-channel")["rows"]}
    assert {c: channels[c]["contacts"] for c in channels} == {"sms": 5, "voice": 3, "web": 2}
    assert channels["voice"]["service_level"] == approx(1 / 2)  # P3 within 20 s; P4 abandoned
    assert channels["web"]["abandonment_rate"] == approx(1 / 2)
    assert channels["sms"]["abandonment_rate"] is None  # a text cannot be abandoned

    # Transfer rate by the department an episode landed in, and by topic.
    departments = {row[1]: dict(zip(d.table("by-department")["columns"], row))
                   for row in d.table("by-department")["rows"]}
    assert departments["Scheduling"]["transfer_rate"] == approx(1 / 9)
    assert departments["Billing"]["transfer_rate"] == approx(0.0)
    topics = {row[1]: dict(zip(d.table("by-topic")["columns"], row)) for row in d.table("by-topic")["rows"]}
    assert topics["Bill question"]["transfer_rate"] == approx(1.0)

    # Agents: what they held, transferred and resolved; their occupancy.
    agents = {row[1]: dict(zip(d.table("agents")["columns"], row)) for row in d.table("agents")["rows"]}
    alice, bob = agents["Alice Adams"], agents["Bob Brown"]
    assert (alice["handled"], alice["transferred"], alice["resolved"]) == (9, 1, 8)
    assert alice["transfer_rate"] == approx(1 / 9)
    # Alice resolved P1 (came back), P4 (follow-up), and six at first contact.
    assert alice["first_contact_resolution"] == approx(6 / 8)
    assert (bob["handled"], bob["resolved"], bob["contacts_answered"]) == (2, 2, 2)  # P2 and P3
    assert bob["first_contact_resolution"] == approx(1 / 2)  # P2 was transferred
    assert alice["available_seconds"] == 8 * 3600 + 5 * 60
    assert alice["occupancy"] == approx(1570 / 29100)
    assert bob["occupancy"] == approx((420 + 165) / 11100)

    # One row per contact, with what happened to it.
    contacts = d.table("contacts")
    outcomes = sorted((row[3], row[6]) for row in contacts["rows"])
    assert outcomes == sorted([("sms", "answered"), ("sms", "answered"), ("voice", "answered"),
                               ("voice", "abandoned"), ("voice", "abandoned"), ("web", "abandoned"),
                               ("web", "answered"), ("sms", "answered"), ("sms", "closed"), ("sms", "answered")])


def test_first_contact_resolution_waits_for_its_window(world, frozen_clock):
    d = live_the_day(world, frozen_clock)
    frozen_clock.set(datetime(2026, 11, 26, 12, 0, tzinfo=NY))  # two days on
    refresh()
    s = d.summary()
    # Only P1's first episode is decided (they came back); the rest are pending.
    assert s["first_contact_resolution"] == approx(0.0)
    rows = {(r[0], r[1]): r[15] for r in d.table("conversations")["rows"]}
    assert sorted(rows.values()).count("pending") == 9 and sorted(rows.values()).count("no") == 1


def test_the_facts_rebuilt_from_scratch_are_the_same(world, frozen_clock):
    d = live_the_day(world, frozen_clock)
    frozen_clock.set(datetime(2026, 12, 2, 12, 0, tzinfo=NY))
    refresh()
    before = {name: d.table(name)["rows"] for name in ("summary", "contacts", "conversations", "agents")}
    call_command("kpi_rebuild", stdout=open("/dev/null", "w"))
    assert {name: d.table(name)["rows"] for name in before} == before


def test_the_short_abandon_threshold_is_a_setting(world, frozen_clock, settings):
    d = live_the_day(world, frozen_clock)
    frozen_clock.set(datetime(2026, 12, 2, 12, 0, tzinfo=NY))
    refresh()
    settings.SHORT_ABANDON_SECONDS = 60  # P4's 45 s now counts as short too
    s = d.summary()
    assert (s["abandoned"], s["short_abandoned"]) == (1, 2)
    assert s["abandonment_rate"] == approx(1 / 3)
