from django.contrib import admin

from channels_app.models import ApiInbox


@admin.register(ApiInbox)
class ApiInboxAdmin(admin.ModelAdmin):
    list_display = ("name", "practice", "webhook_url")
