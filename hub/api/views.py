"""/api/v1/: the REST API for integrations and the console. Views decode,
call one access query or action, and answer; rules live in hub.actions."""

import logging

from django.db import InterfaceError, OperationalError
from django.db.models import Prefetch
from ninja import NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from hub.actions import assignment
from hub.actions import conversations as conversation_actions
from hub.actions import outbound, presence
from hub.actions.errors import ActionError, InvalidInput
from hub.actions.ingest import InboundEvent, ingest
from hub.api.auth import api_auth
from hub.api.requests import via as _via, viewer as _viewer
from hub.api.schemas import (
    ActionOut, AssignIn, CannedOut, ConversationDetail, ConversationList, ConversationOut, ConversationSummary, DirectoryOut,
    ErrorOut, EventOut, InboundIn, InboundOut, MessageIn, NoteIn, PatientList, PatientOut, PresenceIn, ResolveIn,
    SnoozeIn, TimelineOut, TransferIn,
)
from hub.api.schemas import Id, Offset, Text
from hub.lib import access, audit, canned, directory, phone, queue
from hub.lib.event_types import conversation_out, event_out
from django.db.models import Count, Q

from hub.lib.event_types import OfferOut
from hub.models import AgentProfile, CannedResponse, ContactPoint, Conversation, Department, Offer, Practice, Topic

api = NinjaAPI(
    title="Patient messaging hub API",
    version="1",
    urls_namespace="api-v1",
    auth=api_auth,
    description="Patients, conversations and their timelines; replies; and an inbound endpoint for custom channels. "
                "Authenticate with `Authorization: Bearer <token>` (`python manage.py create_api_token USERNAME`).",
)

log = logging.getLogger(__name__)
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


@api.exception_handler(ActionError)
def on_action_error(request, exc: ActionError):
    return api.create_response(request, {"detail": exc.message, "code": exc.code}, status=exc.status)


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def on_database_unavailable(request, exc):
    """A deadlock, a serialization failure or a database that went away: the
    transaction rolled back and nothing of the request was stored, so the
    client can send it again (the console does, once)."""
    log.warning("API request deferred: database error (%s) path=%s", type(exc).__name__, request.path)
    response = api.create_response(
        request, {"detail": "The hub was too busy to store this. Nothing was saved; send it again.",
                  "code": "retry"}, status=503)
    response["Retry-After"] = "1"
    return response


@api.exception_handler(access.NotVisible)
def on_not_visible(request, exc):
    return api.create_response(request, {"detail": "Not found.", "code": "not_found"}, status=404)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return api.create_response(request, {"detail": "Authentication required.", "code": "unauthenticated"}, status=401)


@api.exception_handler(NinjaValidationError)
def on_invalid(request, exc: NinjaValidationError):
    first = exc.errors[0] if exc.errors else {}
    loc = list(first.get("loc", ()))
    # ("body", <parameter name>, field...) or ("query", field): name the field.
    where = ".".join(str(p) for p in (loc[2:] if loc[:1] == ["body"] else loc[1:]))
    message = first.get("msg", "invalid request")
    return api.create_response(
        request, {"detail": f"{where}: {message}" if where else message, "code": "invalid", "errors": exc.errors},
        status=422,
    )


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    return api.create_response(request, {"detail": str(exc), "code": "error"}, status=exc.status_code)


def _audit(request, viewer, action, obj, **detail):
    audit.record(user_id=viewer.user_id, practice_id=viewer.practice_id, action=action, obj=obj,
                 via=_via(request), ip=audit.client_ip(request.META), detail=detail)


def _patient_out(patient) -> PatientOut:
    return PatientOut(
        id=patient.pk, display_name=patient.display_name, first_name=patient.first_name,
        last_name=patient.last_name, date_of_birth=patient.date_of_birth, created_at=patient.created_at,
        contact_points=[{"kind": c.kind, "address": c.address, "sms_opted_out": c.sms_opted_out}
                        for c in patient.contact_points.all()],
    )


class Page(Schema):
    limit: int = 50
    offset: Offset = 0


def _page(page: Page) -> tuple[int, int]:
    if not 1 <= page.limit <= 200 or page.offset < 0:
        raise InvalidInput("limit must be 1 to 200 and offset 0 or more")
    return page.limit, page.offset


@api.get("/patients", response={200: PatientList, **ERRORS}, tags=["patients"])
def list_patients(request, page: Query[Page], q: Text = ""):
    viewer = _viewer(request)
    limit, offset = _page(page)
    qs = access.patients(viewer)
    if q:
        if len(q) > 100:
            raise InvalidInput("q is at most 100 characters")
        qs = qs.filter(last_name__istartswith=q) | qs.filter(first_name__istartswith=q)
    qs = qs.order_by("last_name", "first_name", "pk").prefetch_related(
        Prefetch("contact_points", queryset=ContactPoint.objects.order_by("kind", "pk")))
    items = list(qs[offset:offset + limit])
    _audit(request, viewer, "patient.listed", ("patient", "*"), count=len(items))
    return {"count": qs.count(), "items": [_patient_out(p) for p in items]}


@api.get("/patients/{patient_id}", response={200: PatientOut, **ERRORS}, tags=["patients"])
def get_patient(request, patient_id: int):
    viewer = _viewer(request)
    patient = access.get_patient(viewer, patient_id)
    _audit(request, viewer, "patient.viewed", patient)
    return _patient_out(patient)


@api.get("/patients/{patient_id}/timeline", response={200: TimelineOut, **ERRORS}, tags=["patients"])
def patient_timeline(request, patient_id: int, before_id: int | None = None, limit: int = 50):
    """Every event of the patient across channels and conversations, newest last."""
    viewer = _viewer(request)
    if not 1 <= limit <= 200:
        raise InvalidInput("limit must be 1 to 200")
    patient = access.get_patient(viewer, patient_id)
    qs = access.timeline(viewer, patient).select_related("author")
    if before_id is not None:
        qs = qs.filter(pk__lt=before_id)
    rows = list(qs.order_by("-created_at", "-pk")[: limit + 1])
    _audit(request, viewer, "patient.timeline_viewed", patient)
    return {"events": [event_out(e) for e in reversed(rows[:limit])], "has_more": len(rows) > limit}


@api.get("/conversations", response={200: ConversationList, **ERRORS}, tags=["conversations"])
def list_conversations(request, page: Query[Page], status: str = "open", department_id: Id | None = None):
    viewer = _viewer(request)
    limit, offset = _page(page)
    qs = access.conversations(viewer).select_related("patient", "department", "assignee", "topic")
    if status == "open":
        qs = qs.exclude(status=Conversation.Status.RESOLVED)
    elif status in Conversation.Status.values:
        qs = qs.filter(status=status)
    elif status != "all":
        raise InvalidInput("status is open, all, or one of " + ", ".join(Conversation.Status.values))
    if department_id is not None:
        qs = qs.filter(department_id=department_id)
    qs = qs.order_by("-priority", "waiting_since", "pk")
    items = list(qs[offset:offset + limit])
    _audit(request, viewer, "conversation.listed", ("conversation", "*"), count=len(items))
    return {"count": qs.count(), "items": [conversation_out(c) for c in items]}


@api.get("/conversations/{conversation_id}", response={200: ConversationDetail, **ERRORS}, tags=["conversations"])
def get_conversation(request, conversation_id: int, before_seq: int | None = None, limit: int = 50):
    """The conversation and its timeline (the latest `limit` events, or those before `before_seq`)."""
    viewer = _viewer(request)
    if not 1 <= limit <= 200:
        raise InvalidInput("limit must be 1 to 200")
    conversation = access.get_conversation(viewer, conversation_id)
    events = conversation.events.select_related("author")
    if before_seq is not None:
        events = events.filter(seq__lt=before_seq)
    rows = list(events.order_by("-seq")[: limit + 1])
    _audit(request, viewer, "conversation.viewed", conversation)
    if _via(request) == "console" and before_seq is None:
        conversation_actions.mark_seen(viewer, conversation)
    return {
        "conversation": conversation_out(conversation),
        "events": [event_out(e) for e in reversed(rows[:limit])],
        "has_more": len(rows) > limit,
    }


@api.post("/conversations/{conversation_id}/messages", response={201: EventOut, **ERRORS}, tags=["conversations"])
def send_message(request, conversation_id: int, message: MessageIn):
    """Reply to the patient. Delivery is asynchronous: the message starts `pending`
    and its `delivery_status` moves forward as the channel reports."""
    viewer = _viewer(request)
    event = outbound.send_message(viewer, conversation_id, message.body, channel=message.channel,
                                  via=_via(request), ip=audit.client_ip(request.META))
    return Status(201, event_out(event))


@api.post("/conversations/{conversation_id}/notes", response={201: EventOut, **ERRORS}, tags=["conversations"])
def add_note(request, conversation_id: int, note: NoteIn):
    """An internal note: staff see it on the timeline; it never reaches the patient."""
    viewer = _viewer(request)
    event = outbound.add_note(viewer, conversation_id, note.body, via=_via(request), ip=audit.client_ip(request.META))
    return Status(201, event_out(event))


@api.post("/inbound", response={200: InboundOut, 201: InboundOut, **ERRORS}, tags=["custom channel"])
def inbound(request, message: InboundIn):
    """A message from a patient through a custom channel. Idempotent on `source_id`:
    a repeat answers 200 with the event first stored."""
    viewer = _viewer(request)
    if not viewer.may_post_inbound:
        raise HttpError(403, "Only integration and practice admin accounts may post inbound messages.")
    contact = message.contact
    if contact.phone:
        region = directory.get(viewer.practice_id).phone_region
        try:
            kind, address = ContactPoint.Kind.PHONE, phone.normalize(contact.phone, region)
        except phone.InvalidPhoneNumber:
            raise InvalidInput("contact.phone is not a valid phone number", code="invalid_phone") from None
    else:
        kind, address = ContactPoint.Kind.EXTERNAL, contact.external_id
    result = ingest(InboundEvent(
        practice_id=viewer.practice_id, channel="api", provider_id=message.source_id, contact_kind=kind,
        contact_address=address, body=message.body, first_name=contact.first_name, last_name=contact.last_name,
        department_slug=message.department, topic_slug=message.topic,
    ))
    if result.created:
        _audit(request, viewer, "message.received", result.event, conversation=result.conversation.pk)
    body = {"created": result.created, "event": event_out(result.event), "conversation_id": result.conversation.pk}
    return Status(201 if result.created else 200, body)


# --- Console verbs ------------------------------------------------------------

def _act(request, verb, conversation_id, **kwargs):
    viewer = _viewer(request)
    conversation = verb(viewer, conversation_id, via=_via(request), ip=audit.client_ip(request.META), **kwargs)
    return {"conversation": conversation_out(conversation)}


@api.post("/conversations/{conversation_id}/pick-up", response={200: ActionOut, **ERRORS}, tags=["console"])
def pick_up(request, conversation_id: int):
    """Take a waiting conversation. 409 `taken` when someone else was first,
    409 `at_capacity` when you are at your limit."""
    return _act(request, conversation_actions.pick_up, conversation_id)


@api.post("/conversations/{conversation_id}/assign", response={200: ActionOut, **ERRORS}, tags=["console"])
def assign(request, conversation_id: int, body: AssignIn):
    """Supervisors: give the conversation to an agent."""
    return _act(request, conversation_actions.assign, conversation_id, agent_id=body.agent_id)


@api.post("/conversations/{conversation_id}/transfer", response={200: ActionOut, **ERRORS}, tags=["console"])
def transfer(request, conversation_id: int, body: TransferIn):
    """Hand on to a department's queue or to an agent, with the reason."""
    return _act(request, conversation_actions.transfer, conversation_id, reason=body.reason,
                department_id=body.department_id, agent_id=body.agent_id)


@api.post("/conversations/{conversation_id}/snooze", response={200: ActionOut, **ERRORS}, tags=["console"])
def snooze(request, conversation_id: int, body: SnoozeIn):
    return _act(request, conversation_actions.snooze, conversation_id, until=body.until)


@api.post("/conversations/{conversation_id}/resolve", response={200: ActionOut, **ERRORS}, tags=["console"])
def resolve(request, conversation_id: int, body: ResolveIn):
    return _act(request, conversation_actions.resolve, conversation_id, disposition=body.disposition,
                topic_id=body.topic_id)


@api.post("/conversations/{conversation_id}/reopen", response={200: ActionOut, **ERRORS}, tags=["console"])
def reopen(request, conversation_id: int):
    return _act(request, conversation_actions.reopen, conversation_id)


@api.get("/conversations/{conversation_id}/canned-responses", response={200: list[CannedOut], **ERRORS},
         tags=["console"])
def canned_responses(request, conversation_id: int, q: Text = ""):
    """Canned responses, with their variables filled in for this conversation."""
    viewer = _viewer(request)
    if len(q) > 100:
        raise InvalidInput("q is at most 100 characters")
    conversation = access.get_conversation(viewer, conversation_id)
    qs = CannedResponse.objects.in_practice(viewer.practice_id).filter(
        Q(department__isnull=True) | Q(department_id=conversation.department_id))
    if q:
        qs = qs.filter(Q(shortcut__icontains=q) | Q(title__icontains=q) | Q(body__icontains=q))
    practice_name = Practice.objects.values_list("name", flat=True).get(pk=viewer.practice_id)
    return [{"id": c.pk, "shortcut": c.shortcut, "title": c.title,
             "body": canned.render(c.body, patient_first_name=conversation.patient.first_name,
                                   agent_name=viewer.display_name, practice_name=practice_name)}
            for c in qs[:50]]


@api.get("/patients/{patient_id}/conversations", response={200: list[ConversationSummary], **ERRORS},
         tags=["patients"])
def patient_conversations(request, patient_id: int):
    """The patient's conversations you may see, newest first."""
    viewer = _viewer(request)
    patient = access.get_patient(viewer, patient_id)
    rows = list(access.conversations(viewer).filter(patient=patient).order_by("-created_at")[:50])
    _audit(request, viewer, "patient.conversations_viewed", patient, count=len(rows))
    return [{"id": c.pk, "status": c.status, "channel": c.channel,
             "department_name": directory.department_name(viewer.practice_id, c.department_id),
             "topic_name": directory.topic_name(viewer.practice_id, c.topic_id), "disposition": c.disposition,
             "created_at": c.created_at, "resolved_at": c.resolved_at} for c in rows]


@api.get("/directory", response={200: DirectoryOut, **ERRORS}, tags=["console"])
def practice_directory(request):
    """Departments (with how many wait in each), topics and staff (with
    presence and load): what the console's transfer and filter menus show."""
    viewer = _viewer(request)
    waiting = queue.waiting_counts(viewer.practice_id)
    departments = [{"id": d.pk, "name": d.name, "slug": d.slug, "is_clinical": d.is_clinical,
                    "waiting": waiting.get(d.pk, 0)}
                   for d in Department.objects.in_practice(viewer.practice_id)]
    topics = list(Topic.objects.in_practice(viewer.practice_id).values("id", "name", "department_id"))
    loads = dict(Conversation.objects.in_practice(viewer.practice_id).filter(status=Conversation.Status.ASSIGNED)
                 .values("assignee_id").annotate(n=Count("id")).values_list("assignee_id", "n"))
    staff = []
    for profile in (AgentProfile.objects.in_practice(viewer.practice_id).select_related("user")
                    .prefetch_related("departments").exclude(role=AgentProfile.Role.INTEGRATION)
                    .filter(user__is_active=True).order_by("user__first_name", "user__username")):
        staff.append({"user_id": profile.user_id, "name": profile.display_name, "role": profile.role,
                      "presence": profile.presence, "department_ids": [d.pk for d in profile.departments.all()],
                      "capacity": profile.capacity, "load": loads.get(profile.user_id, 0)})
    name = Practice.objects.values_list("name", flat=True).get(pk=viewer.practice_id)
    return {"practice_name": name, "departments": departments, "topics": topics, "staff": staff}


@api.put("/me/presence", response={200: dict, **ERRORS}, tags=["console"])
def set_my_presence(request, body: PresenceIn):
    viewer = _viewer(request)
    # Automatic changes must not override a deliberate one: idle turns only
    # "available" into "away", and coming back undoes only that.
    only_if = {"idle": ("available",), "back": ("away",)}.get(body.reason, ())
    profile = presence.set_presence(viewer.user_id, body.presence, reason=body.reason, only_if=only_if)
    return {"presence": profile.presence}


@api.get("/offers", response={200: list[OfferOut], **ERRORS}, tags=["console"])
def my_offers(request):
    """Conversations offered to me by automatic assignment, still open."""
    viewer = _viewer(request)
    rows = (Offer.objects.filter(agent_id=viewer.user_id, status=Offer.Status.PENDING)
            .select_related("conversation__patient").order_by("expires_at"))
    return [assignment.offer_out(o) for o in rows]


@api.post("/offers/{offer_id}/accept", response={200: ActionOut, **ERRORS}, tags=["console"])
def accept_offer(request, offer_id: int):
    viewer = _viewer(request)
    conversation = assignment.accept(viewer, offer_id, via=_via(request), ip=audit.client_ip(request.META))
    return {"conversation": conversation_out(conversation)}


@api.post("/offers/{offer_id}/decline", response={204: None, **ERRORS}, tags=["console"])
def decline_offer(request, offer_id: int):
    viewer = _viewer(request)
    assignment.decline(viewer, offer_id, via=_via(request), ip=audit.client_ip(request.META))
    return Status(204, None)


from kpi.api import router as kpi_router  # noqa: E402  (the KPI tables, read-only)

api.add_router("/kpi", kpi_router)

from hub.ehr.api import router as ehr_router  # noqa: E402  (the EHR panel: patient match, insurance, scheduling)

api.add_router("", ehr_router)

from hub.knowledge.api import router as knowledge_router  # noqa: E402  (articles, search, assignments)
from hub.qa.api import router as qa_router  # noqa: E402  (quality reviews, training signals)
from hub.training.api import router as training_router  # noqa: E402  (role-play practice)

api.add_router("", knowledge_router)
api.add_router("", training_router)
api.add_router("", qa_router)
