from django.apps import AppConfig


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "Patient messaging hub"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from hub import signals  # noqa: F401  (installs the receivers)
