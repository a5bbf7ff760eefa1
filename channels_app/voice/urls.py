from django.urls import path

from channels_app.voice import views

urlpatterns = [
    path("twilio/voice", views.incoming_call, name="twilio-voice"),
    path("twilio/voice/menu", views.menu_answer, name="twilio-voice-menu"),
    path("twilio/voice/wait", views.hold, name="twilio-voice-wait"),
    path("twilio/voice/wait-choice", views.hold_choice, name="twilio-voice-wait-choice"),
    path("twilio/voice/queue-result", views.queue_result, name="twilio-voice-queue-result"),
    path("twilio/voice/recording", views.voicemail_recorded, name="twilio-voice-recording"),
    path("twilio/voice/transcription", views.voicemail_transcribed, name="twilio-voice-transcription"),
    path("twilio/voice/status", views.call_status, name="twilio-voice-status"),
    path("twilio/voice/connect", views.connect, name="twilio-voice-connect"),
    path("twilio/voice/agent-answered", views.agent_answered, name="twilio-voice-agent-answered"),
    path("twilio/voice/dial-result", views.dial_result, name="twilio-voice-dial-result"),
]
