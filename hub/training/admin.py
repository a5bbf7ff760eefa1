"""Practice runs (read-only records) and assignments in the Django admin."""

from django.contrib import admin

from hub.admin_site import ReadOnlyAdmin
from hub.training.models import Assignment, PracticeRun


@admin.register(PracticeRun)
class PracticeRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "scenario_slug", "user", "status", "outcome", "score", "review_percent", "started_at")
    list_filter = ("practice", "status", "scenario_slug")
    date_hierarchy = "started_at"


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("id", "scenario_slug", "user", "assigned_by", "assigned_at", "due", "completed_at")
    list_filter = ("practice", "scenario_slug")
    raw_id_fields = ("user", "assigned_by", "completed_run")
