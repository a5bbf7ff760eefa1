from datetime import date, datetime
from typing import Annotated

from ninja import Field, Schema
from pydantic import AfterValidator, model_validator

from hub.lib.event_types import ConversationOut, EventOut

__all__ = ["ConversationOut", "EventOut"]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


# Text from a request that the hub stores or looks up. PostgreSQL cannot
# hold NUL in text, so it is refused here with a 422 naming the field.
Text = Annotated[str, AfterValidator(_no_nul), Field(json_schema_extra={"pattern": "^[^\\x00]*$"})]

# Ids sent in a body or query that the hub looks up: the range a database
# integer holds (SQLite and PostgreSQL's bigint), so a larger number is a
# 422 rather than an overflow.
DB_INT_MAX = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=DB_INT_MAX)]

# Page offsets: at most the largest integer every JSON client holds exactly
# (far past any table's end, and safe from overflow in SQL and in Python).
MAX_OFFSET = 2**53 - 1
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]


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
    body: Text = Field(min_length=1, max_length=20000)
    channel: Text | None = Field(default=None, description="Channel to reply on; default: the conversation's.")


class NoteIn(Schema):
    body: Text = Field(min_length=1, max_length=20000)


class InboundContact(Schema):
    phone: Text | None = Field(default=None, max_length=40, description="Any format; stored in E.164.")
    external_id: Text | None = Field(default=None, max_length=200, description="The integration's own id for the contact.")
    first_name: Text = Field(default="", max_length=100)
    last_name: Text = Field(default="", max_length=100)

    @model_validator(mode="after")
    def one_address(self):
        if not self.phone and not self.external_id:
            raise ValueError("contact needs a phone or an external_id")
        return self


class InboundIn(Schema):
    source_id: Text = Field(min_length=1, max_length=128, description="The integration's id for this message; a repeat is ignored.")
    contact: InboundContact
    body: Text = Field(min_length=1, max_length=20000)
    department: Text = Field(default="", max_length=64, description="Department slug, as a routing hint.")
    topic: Text = Field(default="", max_length=64, description="Topic slug, as a routing hint.")


class InboundOut(Schema):
    created: bool
    event: EventOut
    conversation_id: int


class ActionOut(Schema):
    conversation: ConversationOut


class TransferIn(Schema):
    reason: Text = Field(min_length=1, max_length=500)
    department_id: Id | None = None
    agent_id: Id | None = None


class AssignIn(Schema):
    agent_id: Id


class SnoozeIn(Schema):
    until: datetime = Field(description="ISO 8601 with a time zone offset.")


class ResolveIn(Schema):
    disposition: Text = Field(default="resolved", description="resolved or follow_up")
    topic_id: Id | None = None


class PresenceIn(Schema):
    presence: Text = Field(description="available, busy, away or offline")
    reason: Text = Field(default="manual", max_length=32)


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
