from django.urls import path

from django.urls import include

from channels_app.sms import views as sms

urlpatterns = [
    path("", include("channels_app.voice.urls")),
    path("twilio/sms", sms.incoming_message, name="twilio-sms"),
    path("twilio/sms/status", sms.message_status, name="twilio-sms-status"),
]
