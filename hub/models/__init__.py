from hub.models.agents import AgentProfile
from hub.models.api_tokens import ApiToken
from hub.models.attachments import Attachment
from hub.models.audit import AuditChainHead, AuditEntry
from hub.models.calls import Call
from hub.models.canned_responses import CannedResponse
from hub.models.consents import ConsentChange
from hub.models.contact_points import ContactPoint
from hub.models.conversations import Conversation
from hub.models.delivery_reports import DeliveryReport
from hub.models.departments import Department
from hub.models.events import Event
from hub.models.offers import Offer
from hub.models.patients import Patient
from hub.models.phone_numbers import PhoneNumber
from hub.models.practices import Practice
from hub.models.routing import BusinessHours, Holiday, RedFlagPhrase, RoutingRule
from hub.models.sla import SlaClock, SlaPolicy
from hub.models.presence import PresenceChange
from hub.models.streams import StreamCounter, StreamEntry
from hub.models.topics import Topic

__all__ = [
    "Call",
    "BusinessHours",
    "Holiday",
    "Offer",
    "RedFlagPhrase",
    "RoutingRule",
    "SlaClock",
    "SlaPolicy",
    "AgentProfile",
    "ApiToken",
    "Attachment",
    "AuditChainHead",
    "AuditEntry",
    "CannedResponse",
    "ConsentChange",
    "ContactPoint",
    "Conversation",
    "DeliveryReport",
    "Department",
    "Event",
    "Patient",
    "PhoneNumber",
    "Practice",
    "PresenceChange",
    "StreamCounter",
    "StreamEntry",
    "Topic",
]
