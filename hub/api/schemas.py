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
