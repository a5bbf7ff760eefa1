from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "hub.retention"
    label = "retention"
    verbose_name = "Retention and legal holds"
    default_auto_field = "django.db.models.BigAutoField"
