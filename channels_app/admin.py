from django.contrib import admin

from channels_app.models import ApiInbox, SandboxMessage


@admin.register(ApiInbox)
class ApiInboxAdmin(admin.ModelAdmin):
    list_display = ("name", "practice", "webhook_url")


@admin.register(SandboxMessage)
class SandboxMessageAdmin(admin.ModelAdmin):
    list_display = ("sid", "to", "status", "created_at")
    readonly_fields = [f.name for f in SandboxMessage._meta.fields]

    def has_add_permission(self, request):
        return False
