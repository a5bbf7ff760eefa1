from django.contrib import admin

from kpi.models import Shift


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    """The weekly roster the staffing forecast compares against."""

    list_display = ("agent", "practice", "weekday", "starts", "ends")
    list_filter = ("practice", "weekday")
    search_fields = ("agent__username", "agent__first_name", "agent__last_name")
    ordering = ("practice", "weekday", "starts")
