"""Rubrics and reviews in the Django admin, read-only: a rubric is changed
on its page (/console/qa/rubric/, a new version each time) and a review by
its author, both audited there."""

from django.contrib import admin

from hub.admin_site import ReadOnlyAdmin
from hub.qa.models import Review, Rubric


@admin.register(Rubric)
class RubricAdmin(ReadOnlyAdmin):
    list_display = ("id", "practice", "name", "is_active", "created_at", "created_by")
    list_filter = ("practice", "is_active")


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ("id", "practice", "conversation_id", "agent", "reviewer", "percent", "created_at",
                    "acknowledged_at")
    list_filter = ("practice",)
    raw_id_fields = ("conversation",)
