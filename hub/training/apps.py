from django.apps import AppConfig
from django.core import checks


class TrainingConfig(AppConfig):
    name = "hub.training"
    label = "training"
    verbose_name = "Role-play practice"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        checks.register(check_scenarios)


def check_scenarios(app_configs=None, **kwargs):
    """`manage.py check` (and every server start) refuses a scenario file
    that does not load, naming it and the problem."""
    from hub.training.scenarios import ScenarioError, load_scenarios

    try:
        load_scenarios()
    except ScenarioError as exc:
        return [checks.Error(str(exc), id="training.E001")]
    return []
