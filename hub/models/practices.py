import secrets
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models


def _new_widget_key() -> str:
    return "pk_" + secrets.token_urlsafe(18)


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{value!r} is not a known time zone (use an IANA name such as America/New_York).")


class Practice(models.Model):
    """A medical practice: one deployment can serve several, as a contact-center
    vendor serving many clinics does."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    timezone = models.CharField(max_length=64, default="America/New_York", validators=[validate_timezone])
    phone_region = models.CharField(max_length=2, default="US", help_text="Region used to read local phone numbers.")
    messaging_service_sid = models.CharField(
        max_length=34, blank=True, default="",
        help_text="Twilio Messaging Service (MG...) to send texts from; empty: send from the practice's SMS number.",
    )
    widget_key = models.CharField(max_length=64, unique=True, default=_new_widget_key)
    allowed_origins = models.JSONField(default=list, blank=True, help_text="Origins where the chat widget may run.")
    help_text = models.TextField(blank=True, default="", help_text="Sent to a patient who texts HELP.")
    default_department = models.ForeignKey(
        "hub.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    chat_reply_expectation = models.CharField(
        max_length=200, default="We usually reply within a few minutes.",
        help_text="What the chat widget promises while agents are available.",
    )
    chat_offline_expectation = models.CharField(
        max_length=200, default="Our team is away right now. We'll reply within one business day.",
        help_text="What the chat widget says when no agent is available.",
    )
    reopen_window_minutes = models.PositiveIntegerField(
        default=10,
        help_text="A patient writing again within this many minutes of resolution reopens the same conversation.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)
