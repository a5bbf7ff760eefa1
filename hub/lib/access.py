"""Who may see what. Views, the REST API and websockets all ask here.

A staff member belongs to one practice. Agents see the conversations of their
own departments plus any conversation assigned to them; supervisors and
practice admins see their whole practice. Nobody sees another practice.
"""

from __future__ import annotations

from functools import cached_property

from django.db.models import Q

from hub.lib import fastsql
from hub.lib.events import agent_stream, dept_stream, practice_stream
from hub.models import AgentProfile, Conversation, Department, Event, Patient


class NotVisible(Exception):
    """The object does not exist for this viewer (reported as 404, so that
    existence itself does not leak)."""


class Viewer:
    """A signed-in staff member as access sees them: their practice, role
    and the departments they follow."""

    def __init__(self, profile: AgentProfile):
        self.user = profile.user
        self.user_id = profile.user_id
        self.practice_id = profile.practice_id
        self.role = profile.role
        self.display_name = profile.display_name
        self._profile = profile

    def __repr__(self) -> str:
        return f"<Viewer user={self.user_id} practice={self.practice_id} role={self.role}>"

    @property
    def sees_all_departments(self) -> bool:
        return self.role in (AgentProfile.Role.SUPERVISOR, AgentProfile.Role.ADMIN, AgentProfile.Role.INTEGRATION)

    @property
    def may_post_inbound(self) -> bool:
        return self.role in (AgentProfile.Role.ADMIN, AgentProfile.Role.INTEGRATION)

    # Capabilities by role. Every page, API endpoint, socket and export
    # asks one of these rather than comparing roles itself.

    @property
    def is_person(self) -> bool:
        """A human staff member (integrations are tokens, not people)."""
        return self.role != AgentProfile.Role.INTEGRATION

    @property
    def may_supervise(self) -> bool:
        """Supervisors and practice admins: the wallboard, the dashboard, the
        whole practice's queue, alerts."""
        return self.role in (AgentProfile.Role.SUPERVISOR, AgentProfile.Role.ADMIN)

    @property
    def may_read_kpis(self) -> bool:
        """The KPI REST tables: supervisors, admins and integrations."""
        return self.may_supervise or self.role == AgentProfile.Role.INTEGRATION

    @property
    def is_practice_admin(self) -> bool:
        """Practice admins: the audit trail, retention and legal holds."""
        return self.role == AgentProfile.Role.ADMIN

    @cached_property
    def department_ids(self) -> frozenset[int]:
        if self.sees_all_departments:
            departments = Department.objects.in_practice(self.practice_id).values_list("pk", flat=True)
        else:
            departments = self._profile.departments.values_list("pk", flat=True)
        return frozenset(departments)

    @property
    def streams(self) -> list[str]:
        streams = [dept_stream(d) for d in sorted(self.department_ids)]
        streams.append(agent_stream(self.user_id))
        streams.append(practice_stream(self.practice_id))
        return streams


def may_receive(viewer: Viewer, stream: str, payload: dict, department_id: int | None) -> bool:
    """Whether one stream entry reaches this viewer's socket. Department and
    personal streams are joined only by those who may read them; the
    practice stream (presence, alerts) is joined by everyone, so what it
    carries about a conversation reaches only those who cover that
    conversation's department."""
    if not stream.startswith("practice.") or viewer.sees_all_departments:
        return True
    department = department_id if department_id is not None else payload.get("department_id")
    if department is None:
        return "conversation_id" not in payload  # e.g. presence: about staff, not patients
    return department in viewer.department_ids


def practice_of(user) -> int | None:
    """The practice a user is staff of (None for superusers without a
    profile, and for anyone else)."""
    profile = getattr(user, "agent", None)  # no profile: RelatedObjectDoesNotExist, an AttributeError
    return profile.practice_id if profile is not None else None


def viewer_for(user) -> Viewer | None:
    """The access profile of a signed-in user, or None for users who are not
    staff of any practice. Its department list loads on first use; in async
    code, load it in the same sync call (`viewer.streams`)."""
    if user is None or not user.is_authenticated:
        return None
    try:
        profile = user.agent  # cached when the user was loaded with select_related("agent")
    except AgentProfile.DoesNotExist:
        return None
    return Viewer(profile)


def conversations(viewer: Viewer):
    return _visible(viewer.practice_id, viewer.sees_all_departments, viewer.department_ids, viewer.user_id)


def _visible(practice_id: int, everything: bool, department_ids, user_id: int):
    """The conversations of a practice that someone sees: all of them, or
    those of their departments and those assigned to them."""
    qs = Conversation.objects.in_practice(practice_id)
    if everything:
        return qs
    return qs.filter(Q(department_id__in=department_ids) | Q(assignee_id=user_id))


def can_see_conversation(viewer: Viewer, conversation: Conversation) -> bool:
    if conversation.practice_id != viewer.practice_id:
        return False
    return (
        viewer.sees_all_departments
        or conversation.department_id in viewer.department_ids
        or conversation.assignee_id == viewer.user_id
    )


def get_conversation(viewer: Viewer, conversation_id: int, *, for_update: bool = False) -> Conversation:
    """One conversation the viewer may see, with its patient, department,
    assignee and topic. Every reply and most console actions start here, so
    its SQL is compiled once per shape (hub.lib.fastsql.objects)."""
    try:
        conversation_id = int(conversation_id)
    except (ValueError, TypeError):
        raise NotVisible(f"conversation {conversation_id}") from None
    everything = viewer.sees_all_departments
    departments = [] if everything else sorted(viewer.department_ids)

    def build(params):
        if everything:
            (practice_id, pk), department_ids, user_id = params, [], None
        else:
            practice_id, *department_ids, user_id, pk = params
        qs = _visible(practice_id, everything, department_ids, user_id).select_related(
            "patient", "department", "assignee", "topic")
        if for_update:
            qs = qs.select_for_update(no_key=True, of=("self",))
        return qs.filter(pk=pk)[:2]

    params = ([viewer.practice_id, conversation_id] if everything
              else [viewer.practice_id, *departments, viewer.user_id, conversation_id])
    shape = ("access.get_conversation", everything, len(departments), for_update)
    found = fastsql.objects(shape, build, params)
    if len(found) != 1:
        raise NotVisible(f"conversation {conversation_id}")
    return found[0]


def patients(viewer: Viewer):
    """Patients with at least one conversation the viewer may see."""
    qs = Patient.objects.in_practice(viewer.practice_id)
    if viewer.sees_all_departments:
        return qs
    visible = conversations(viewer).values("patient_id")
    return qs.filter(pk__in=visible)


def get_patient(viewer: Viewer, patient_id: int) -> Patient:
    try:
        return patients(viewer).get(pk=patient_id)
    except (Patient.DoesNotExist, ValueError, TypeError):
        raise NotVisible(f"patient {patient_id}") from None


def timeline(viewer: Viewer, patient: Patient):
    """A patient's events across the conversations this viewer may see."""
    visible = conversations(viewer).filter(patient=patient).values("pk")
    return Event.objects.in_practice(viewer.practice_id).filter(conversation_id__in=visible)
