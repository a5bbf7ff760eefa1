from django.apps import AppConfig


class WebchatConfig(AppConfig):
    """An app of its own so the widget's script and demo page live with it."""

    name = "channels_app.webchat"
    label = "webchat"
    verbose_name = "Web chat"
