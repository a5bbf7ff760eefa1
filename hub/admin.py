from django.contrib import admin

from hub.admin_site import ReadOnlyAdmin
from hub.models import (
    AgentProfile, ApiToken, AuditEntry, BusinessHours, CannedResponse, ConsentChange, Department, Holiday, PhoneNumber,
    Practice, RedFlagPhrase, RoutingRule, SlaPolicy, Topic,
)


class PhoneNumberInline(admin.TabularInline):
    model = PhoneNumber
    extra = 0


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "timezone")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [PhoneNumberInline]


@admin.register(ConsentChange)
class ConsentChangeAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "contact_point", "channel", "opted_in", "source", "detail")
    list_filter = ("channel", "opted_in", "source")


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    extra = 0


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "practice", "ivr_digit", "is_clinical", "assignment", "position")
    list_filter = ("practice", "assignment")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [BusinessHoursInline]
    exclude = ("last_offered_to",)


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "pattern", "department", "topic", "channels", "position", "active")
    list_filter = ("practice", "department", "active")
    list_editable = ("position", "active")


@admin.register(RedFlagPhrase)
class RedFlagPhraseAdmin(admin.ModelAdmin):
    list_display = ("phrase", "category", "practice", "active")
    list_filter = ("practice", "category", "active")
    search_fields = ("phrase",)


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("date", "name", "department", "practice")
    list_filter = ("practice",)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "department", "priority", "first_response_seconds", "next_response_seconds",
                    "resolution_seconds", "business_hours_only")
    list_filter = ("practice", "department")


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("name", "department", "practice")
    list_filter = ("practice", "department")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ("shortcut", "title", "department", "practice")
    list_filter = ("practice", "department")
    search_fields = ("shortcut", "title", "body")


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "practice", "role", "capacity", "presence")
    list_filter = ("practice", "role")
    filter_horizontal = ("departments",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "name", "user", "created_at", "last_used_at", "revoked")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Read-only: audit rows are append-only (docs/audit.md)."""

    list_display = ("created_at", "practice", "sequence", "user", "action", "object_type", "object_id",
                    "patient_id", "via", "ip")
    list_filter = ("action", "via")
    actions = None
