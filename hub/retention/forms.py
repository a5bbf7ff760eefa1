"""The practice admin's forms: the policy and placing a legal hold."""

from __future__ import annotations

from django import forms

from hub.models import Conversation, Patient
from hub.retention.models import KINDS, MAX_DAYS, MIN_DAYS

DAYS_ERROR = f"Enter a whole number of days from {MIN_DAYS} to {MAX_DAYS}, or leave it empty to keep forever."
BIGINT_MAX = 2**63 - 1


def _days_field(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, required=False, min_value=MIN_DAYS, max_value=MAX_DAYS,
        help_text=f"Days, {MIN_DAYS}–{MAX_DAYS}; empty keeps forever.",
        error_messages={"invalid": DAYS_ERROR, "min_value": DAYS_ERROR, "max_value": DAYS_ERROR},
        widget=forms.NumberInput(attrs={"min": MIN_DAYS, "max": MAX_DAYS, "step": 1, "inputmode": "numeric"}),
    )


class PolicyForm(forms.Form):
    message_days = _days_field("Messages and notes")
    attachment_days = _days_field("Attachments (files)")
    recording_days = _days_field("Call recordings")
    transcript_days = _days_field("Voicemail transcripts")

    FIELDS = tuple(field for _, field, _ in KINDS)

    def days(self) -> dict[str, int | None]:
        return {name: self.cleaned_data.get(name) for name in self.FIELDS}


class HoldForm(forms.Form):
    TARGETS = (("conversation", "Conversation"), ("patient", "Patient (all their conversations)"))

    target = forms.ChoiceField(label="Hold", choices=TARGETS)
    object_id = forms.IntegerField(
        label="Id", min_value=1, max_value=BIGINT_MAX,
        error_messages={"invalid": "Enter the conversation's or patient's number (digits only).",
                        "min_value": "Enter the conversation's or patient's number (digits only).",
                        "max_value": "Enter the conversation's or patient's number (digits only)."},
        widget=forms.NumberInput(attrs={"min": 1, "step": 1, "inputmode": "numeric"}),
    )
    reason = forms.CharField(label="Reason", max_length=1000, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Why this data must be kept (a matter, a records request).",
                             error_messages={"required": "Say why the data must be kept."})

    def __init__(self, *args, practice_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.practice_id = practice_id

    def clean(self):
        cleaned = super().clean()
        target, object_id = cleaned.get("target"), cleaned.get("object_id")
        if target and object_id:
            model = Conversation if target == "conversation" else Patient
            if not model.objects.in_practice(self.practice_id).filter(pk=object_id).exists():
                self.add_error("object_id", f"There is no {target} #{object_id} in your practice.")
        return cleaned

    def target_ids(self) -> dict[str, int | None]:
        target, object_id = self.cleaned_data["target"], self.cleaned_data["object_id"]
        return {"patient_id": object_id if target == "patient" else None,
                "conversation_id": object_id if target == "conversation" else None}
