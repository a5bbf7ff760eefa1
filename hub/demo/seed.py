"""The demo practice that `make run` starts with: departments, staff with
printed logins, and a few patients with history on several channels."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from hub.actions import timeline
from hub.demo.staff import STAFF
from hub.ehr.models import EhrConnection
from hub.knowledge.seed import seed_articles
from hub.actions.ingest import InboundEvent, ingest
from hub.lib import clock
from hub.models import AgentProfile, CannedResponse, Conversation, Department, Event, PhoneNumber, Practice, Topic

PRACTICE_SLUG = "riverside"

CANNED = [
    ("hello", "Greeting", "Hi {patient_first_name}, this is {agent_name} at {practice_name}. How can I help?", None),
    ("hours", "Opening hours", "{practice_name} is open Monday to Friday, 8am to 6pm. "
     "For anything urgent after hours, call our main line and press 4 for the nurse line.", None),
    ("verify", "Verify identity", "Before I look at your records, could you confirm your date of birth?", None),
    ("emergency", "Emergency", "If this is a medical emergency, please call 911 now.", None),
    ("slots", "Offer appointment times", "I have openings on {patient_first_name}'s preferred days. "
     "Would Tuesday at 9:00 or Thursday at 2:30 work?", "scheduling"),
    ("payplan", "Payment plan", "We can split your balance into monthly payments with no interest. "
     "Would you like me to set that up?", "billing"),
]

DEPARTMENTS = [
    # name, slug, ivr digit, clinical, topics
    ("Scheduling", "scheduling", "1", False, [("Appointment request", "appointment"), ("Reschedule or cancel", "reschedule")]),
    ("Billing", "billing", "2", False, [("Bill question", "bill"), ("Insurance question", "insurance")]),
    ("New Patient Intake", "intake", "3", False, [("Becoming a new patient", "new-patient")]),
    ("Nurse Line", "nurse", "4", True, [("Symptoms or medical question", "symptoms"), ("Prescription refill", "refill")]),
]

def seed() -> Practice:
    practice = Practice.objects.filter(slug=PRACTICE_SLUG).first()
    if practice is None:
        with transaction.atomic():
            practice = _practice()
            _history(practice)
    # The demo EHR (hub.ehr.demo, started by `make run`): an empty base URL
    # means settings.EHR_DEMO_URL. Added to databases seeded before it existed.
    EhrConnection.objects.get_or_create(practice=practice, defaults={"label": "Demo EHR"})
    seed_articles(practice)  # the knowledge base's starter articles, those not there yet
    return practice


def _practice() -> Practice:
    public = settings.PUBLIC_BASE_URL
    practice = Practice.objects.create(
        name="Riverside Family Medicine",
        slug=PRACTICE_SLUG,
        timezone="America/New_York",
        
        allowed_origins=[public],
        help_text="Riverside Family Medicine: call (555) 010-0100, Mon-Fri 8am-6pm. For emergencies call 911.",
    )
    PhoneNumber.objects.create(practice=practice, number="+15550100100", label="Main line")
    departments = {}
    for position, (name, slug, digit, clinical, topics) in enumerate(DEPARTMENTS):
        dept = Department.objects.create(practice=practice, name=name, slug=slug, ivr_digit=digit,
                                         is_clinical=clinical, position=position)
        departments[slug] = dept
        for tpos, (tname, tslug) in enumerate(topics):
            Topic.objects.create(practice=practice, department=dept, name=tname, slug=tslug, position=tpos)
    practice.default_department = departments["scheduling"]
    practice.save(update_fields=["default_department"])
    _routing_and_sla(practice, departments)
    for shortcut, title, body, dept in CANNED:
        CannedResponse.objects.create(practice=practice, shortcut=shortcut, title=title, body=body,
                                      department=departments.get(dept))

    User = get_user_model()
    for username, first, last, role, dept_slugs, password in STAFF:
        user = User.objects.filter(username=username).first() or User(username=username)
        user.first_name, user.last_name = first, last
        user.email = f"{username}@riverside.example"
        if username == "admin":
            user.is_staff = user.is_superuser = True
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        profile = AgentProfile.objects.create(practice=practice, user=user, role=role,
                                              voice_endpoint=f"client:{username}" if role == "agent" else "")
        profile.departments.set([departments[s] for s in dept_slugs])
    return practice


def _routing_and_sla(practice: Practice, departments: dict) -> None:
    """Keyword rules, red-flag phrases, office hours and SLA targets a
    practice would start from."""
    from datetime import time

    from hub.lib.redflags import DEFAULT_PHRASES
    from hub.models import BusinessHours, RedFlagPhrase, RoutingRule, SlaPolicy

    rules = [
        ("Billing words", "bill|billing|invoice|statement|copay|balance|payment|charged", "billing", "bill"),
        ("Insurance", "insurance|coverage|covered|deductible|in network", "billing", "insurance"),
        ("New patients", "new patient|first visit|accepting patients|become a patient", "intake", "new-patient"),
        ("Refills", "refill|prescription|pharmacy|medication", "nurse", "refill"),
        ("Appointments", "appointment|reschedule|cancel my|book|available times", "scheduling", "appointment"),
    ]
    topics = {t.slug: t for t in Topic.objects.in_practice(practice)}
    for position, (name, pattern, dept, topic) in enumerate(rules):
        RoutingRule.objects.create(practice=practice, name=name, pattern=pattern, department=departments[dept],
                                   topic=topics.get(topic), position=position)
    RedFlagPhrase.objects.bulk_create([RedFlagPhrase(practice=practice, phrase=p, category=c)
                                       for p, c in DEFAULT_PHRASES])
    for dept in departments.values():
        for weekday in range(5):
            BusinessHours.objects.create(department=dept, weekday=weekday, opens=time(8), closes=time(18))
    departments["billing"].assignment = "round_robin"
    departments["billing"].save(update_fields=["assignment"])
    SlaPolicy.objects.create(practice=practice, name="Messages: answer within 10 minutes",
                             first_response_seconds=600, next_response_seconds=900, resolution_seconds=8 * 3600)
    SlaPolicy.objects.create(practice=practice, name="Nurse line: answer within 5 minutes",
                             department=departments["nurse"], first_response_seconds=300,
                             next_response_seconds=600, resolution_seconds=4 * 3600)
    SlaPolicy.objects.create(practice=practice, name="Urgent: answer within 2 minutes", priority=2,
                             first_response_seconds=120, next_response_seconds=300, resolution_seconds=3600)


def _at(moment):
    clock.set_source(lambda: moment)


def _reply(conversation_id: int, author_username: str, body: str, channel: str) -> None:
    """History only: a reply that was delivered long ago."""
    author = get_user_model().objects.get(username=author_username)
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update(no_key=True, of=("self",)).select_related(
            "patient", "department", "topic").get(pk=conversation_id)
        events = []
        if conversation.assignee_id is None:
            conversation.assignee = author
            conversation.status = Conversation.Status.ASSIGNED
            events.append(timeline.system_notice(conversation, Event.Kind.ASSIGNMENT,
                                                 f"Taken by {author.get_full_name()}", author=author))
        events.append(timeline.append(conversation, kind=Event.Kind.MESSAGE, channel=channel,
                                      direction=Event.Direction.OUT, body=body, author=author,
                                      delivery_status=Event.Delivery.DELIVERED))
        conversation.first_response_at = conversation.first_response_at or clock.now()
        conversation.waiting_since = None
        conversation.last_activity_at = clock.now()
        conversation.save()
        timeline.publish_changes(conversation, events)


def _resolve(conversation_id: int) -> None:
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update(no_key=True, of=("self",)).select_related(
            "patient", "department", "assignee", "topic").get(pk=conversation_id)
        conversation.status = Conversation.Status.RESOLVED
        conversation.resolved_at = clock.now()
        conversation.disposition = "resolved"
        event = timeline.system_notice(conversation, Event.Kind.STATUS, "Resolved", author=conversation.assignee)
        conversation.save()
        timeline.publish_changes(conversation, [event])


def _history(practice: Practice) -> None:
    now = clock.now()
    try:
        # Pat: texted last week about a bill (resolved), and again this morning.
        _at(now - timedelta(days=6, hours=3))
        first = ingest(InboundEvent(
            practice_id=practice.pk, channel="sms", provider_id="SMdemo0pat1", contact_kind="phone",
            contact_address="+15555550101", first_name="Pat", last_name="Jones",
            body="Hi, I got a statement for $85 but I thought my copay was $25?", topic_slug="bill"))
        _at(now - timedelta(days=6, hours=2, minutes=50))
        _reply(first.conversation.pk, "bob", "Hi Pat, I see the visit was billed as a specialist visit. "
               "I've sent it back for review and you'll get a corrected statement.", "sms")
        _at(now - timedelta(days=6, hours=2, minutes=40))
        _resolve(first.conversation.pk)
        _at(now - timedelta(minutes=7))
        ingest(InboundEvent(
            practice_id=practice.pk, channel="sms", provider_id="SMdemo0pat2", contact_kind="phone",
            contact_address="+15555550101", body="Could I book a check-up for next week? Mornings are best."))

        # Maria: a new patient asking about insurance.
        _at(now - timedelta(minutes=4))
        ingest(InboundEvent(
            practice_id=practice.pk, channel="api", provider_id="demo-maria-1", contact_kind="phone",
            contact_address="+15555550123", first_name="Maria", last_name="Garcia", topic_slug="new-patient",
            body="Hola! Do you accept new patients with Blue Cross PPO?"))

        # Joe: a refill request the nurse line is already working.
        _at(now - timedelta(minutes=25))
        joe = ingest(InboundEvent(
            practice_id=practice.pk, channel="sms", provider_id="SMdemo0joe1", contact_kind="phone",
            contact_address="+15555550188", first_name="Joe", last_name="Miller", topic_slug="refill",
            body="I need a refill of my blood pressure medication, lisinopril 10mg."))
        _at(now - timedelta(minutes=18))
        _reply(joe.conversation.pk, "nina", "Hi Joe, I've sent the request to Dr. Patel. "
               "Which pharmacy should we use?", "sms")
        _at(now - timedelta(minutes=2))
        ingest(InboundEvent(
            practice_id=practice.pk, channel="sms", provider_id="SMdemo0joe2", contact_kind="phone",
            contact_address="+15555550188", body="The CVS on Main Street, thanks."))
    finally:
        clock.set_source(None)
