from hub.models.agents import AgentProfile
from hub.models.api_tokens import ApiToken
from hub.models.audit import AuditEntry
from hub.models.contact_points import ContactPoint
from hub.models.conversations import Conversation
from hub.models.departments import Department
from hub.models.events import Event
from hub.models.patients import Patient
from hub.models.practices import Practice
from hub.models.streams import StreamCounter, StreamEntry
from hub.models.topics import Topic

__all__ = [
    "AgentProfile",
    "ApiToken",
    "AuditEntry",
    "ContactPoint",
    "Conversation",
    "Department",
    "Event",
    "Patient",
    "Practice",
    "StreamCounter",
    "StreamEntry",
    "Topic",
]
