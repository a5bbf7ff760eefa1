from django.apps import AppConfig


class QaConfig(AppConfig):
    name = "hub.qa"
    label = "qa"
    verbose_name = "Quality reviews and training signals"
    default_auto_field = "django.db.models.BigAutoField"
