import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

app = Celery("hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _log_through_the_hubs_handlers(loglevel=None, **kwargs):
    """The worker and beat log through settings.LOGGING, whose handlers
    redact patient data and quiet the periodic sweeps (docs/hardening.md),
    instead of Celery's own handlers. --loglevel still sets the level."""
    import logging
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)
