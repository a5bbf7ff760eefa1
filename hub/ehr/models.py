"""The hub's side of the EHR integration: how a practice reaches its EHR,
which EHR record a patient is, and whether the person in a conversation
proved to be that patient."""

from django.conf import settings
from django.db import models

from hub.models.base import PracticeScoped


class EhrConnection(models.Model):
    """A practice's EHR, reached over FHIR R4. Secrets are not stored here:
    `secret_env` names the environment variable that holds the bearer token,
    the client secret or the private key (PEM)."""

    class Auth(models.TextChoices):
        NONE = "none", "None (a server on a private network)"
        BEARER = "bearer", "Bearer token"
        CLIENT_SECRET = "client_secret", "OAuth2 client credentials, client secret"
        SMART_BACKEND = "smart_backend", "SMART Backend Services (private key JWT)"

    practice = models.OneToOneField("hub.Practice", on_delete=models.CASCADE, related_name="ehr_connection")
    label = models.CharField(max_length=100, default="EHR", help_text="What agents see the EHR called.")
    base_url = models.URLField(
        max_length=500, blank=True, default="",
        help_text="The FHIR R4 base URL. Empty: the embedded demo EHR (when this deployment runs one).",
    )
    auth = models.CharField(max_length=16, choices=Auth.choices, default=Auth.NONE)
    client_id = models.CharField(max_length=200, blank=True, default="")
    scope = models.CharField(
        max_length=500, blank=True,
        default="system/Patient.read system/Coverage.read system/Schedule.read system/Slot.read "
                "system/Appointment.read system/Appointment.write system/CoverageEligibilityRequest.write",
    )
    token_url = models.URLField(max_length=500, blank=True, default="",
                                help_text="Empty: discovered from .well-known/smart-configuration.")
    key_id = models.CharField(max_length=200, blank=True, default="", help_text="The JWT 'kid' of the hub's key.")
    secret_env = models.CharField(
        max_length=100, blank=True, default="",
        help_text="Name of the environment variable holding the token, client secret or private key (PEM).",
    )
    timeout_seconds = models.FloatField(default=5.0)
    enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.label} for practice #{self.practice_id}"


class EhrLink(PracticeScoped):
    """This hub patient is that EHR patient: stored once an agent verified
    the person's identity against the EHR record."""

    patient = models.OneToOneField("hub.Patient", on_delete=models.CASCADE, related_name="ehr_link")
    ehr_patient_id = models.CharField(max_length=128)
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    linked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"EHR link of patient #{self.patient_id}"


class IdentityCheck(PracticeScoped):
    """Whether the person in one conversation proved to be an EHR patient.
    Verification holds for this conversation only: a new conversation from
    the same number may be someone else in the household."""

    class Method(models.TextChoices):
        DETAILS = "details", "Name and date of birth"
        SMS_CODE = "sms_code", "Code sent by text"

    conversation = models.OneToOneField("hub.Conversation", on_delete=models.CASCADE, related_name="identity_check")
    patient = models.ForeignKey("hub.Patient", on_delete=models.CASCADE, related_name="+")
    ehr_patient_id = models.CharField(max_length=128, blank=True, default="")
    method = models.CharField(max_length=16, choices=Method.choices, blank=True, default="")
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    verified_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveIntegerField(default=0)
    # A code sent by text: its hash, for whom, until when.
    code_hash = models.CharField(max_length=128, blank=True, default="")
    code_for = models.CharField(max_length=128, blank=True, default="")
    code_sent_at = models.DateTimeField(null=True, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    def __str__(self) -> str:
        return f"Identity check of conversation #{self.conversation_id}"
