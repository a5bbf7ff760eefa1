from datetime import date, datetime

from ninja import Field, Schema
from pydantic import model_validator

from hub.lib.event_types import ConversationOut, EventOut

__all__ = ["ConversationOut", "EventOut"]


class ErrorOut(Schema):
    detail: str
    code: str


class ContactPointOut(Schema):
    kind: str
    address: str
    sms_opted_out: bool


class PatientOut(Schema):
    id: int
    display_name: str
    first_name: str
    last_name: str
    date_of_birth: date | None
    created_at: datetime
    contact_points: list[ContactPointOut]


class PatientList(Schema):
    count: int
    items: list[PatientOut]


class ConversationList(Schema):
    count: int
    items: list[ConversationOut]


class ConversationDetail(Schema):
    conversation: ConversationOut
    events: list[EventOut]
    has_more: bool = Field(description="True when older events exist before the first one returned.")


class TimelineOut(Schema):
    events: list[EventOut]
    has_more: bool


class MessageIn(Schema):
    body: str = Field(min_length=1, max_length=20000)
    channel: str | None = Field(default=None, description="Channel to reply on; default: the conversation's.")


class NoteIn(Schema):
    body: str = Field(min_length=1, max_length=20000)


class InboundContact(Schema):
    phone: str | None = Field(default=None, max_length=40, description="Any format; stored in E.164.")
    external_id: str | None = Field(default=None, max_length=200, description="The integration's own id for the contact.")
    first_name: str = Field(default="", max_length=100)
    last_name: str = Field(default="", max_length=100)

    @model_validator(mode="after")
    def one_address(self):
        if not self.phone and not self.external_id:
            raise ValueError("contact needs a phone or an external_id")
        return self


class InboundIn(Schema):
    source_id: str = Field(min_length=1, max_length=128, description="The integration's id for this message; a repeat is ignored.")
    contact: InboundContact
    body: str = Field(min_length=1, max_length=20000)
    department: str = Field(default="", max_length=64, description="Department slug, as a routing hint.")
    topic: str = Field(default="", max_length=64, description="Topic slug, as a routing hint.")


class InboundOut(Schema):
    created: bool
    event: EventOut
    conversation_id: int


class ActionOut(Schema):
    conversation: ConversationOut


class TransferIn(Schema):
    reason: str = Field(min_length=1, max_length=500)
    department_id: int | None = None
    agent_id: int | None = None


class AssignIn(Schema):
    agent_id: int


class SnoozeIn(Schema):
    until: datetime = Field(description="ISO 8601 with a time zone offset.")


class ResolveIn(Schema):
    disposition: str = Field(default="resolved", description="resolved or follow_up")
    topic_id: int | None = None


class PresenceIn(Schema):
    presence: str = Field(description="available, busy, away or offline")
    reason: str = Field(default="manual", max_length=32)


class DepartmentOut(Schema):
    id: int
    name: str
    slug: str
    is_clinical: bool
    waiting: int


class TopicOut(Schema):
    id: int
    name: str
    department_id: int


class StaffOut(Schema):
    user_id: int
    name: str
    role: str
    presence: str
    department_ids: list[int]
    capacity: int
    load: int


class DirectoryOut(Schema):
    practice_name: str
    departments: list[DepartmentOut]
    topics: list[TopicOut]
    staff: list[StaffOut]


class CannedOut(Schema):
    id: int
    shortcut: str
    title: str
    body: str


class ConversationSummary(Schema):
    id: int
    status: str
    channel: str
    department_name: str
    topic_name: str | None
    disposition: str
    created_at: datetime
    resolved_at: datetime | None
