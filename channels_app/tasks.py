"""Celery discovers each app's `tasks` module; the channels' tasks live in
their own packages."""

from channels_app.sms.tasks import play_sandbox_status  # noqa: F401
