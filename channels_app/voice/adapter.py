"""The voice channel as the outbound path sees it: callers are answered by
text (replies on a call's conversation go by SMS) and called back by
phone; what the channel holds are voicemail recordings."""

from __future__ import annotations

from django.conf import settings

from channels_app.base import AdapterError, ChannelAdapter, SendResult
from channels_app.registry import register
from channels_app.voice.backends import get_backend
from hub.actions.errors import NotDeliverable


@register
class VoiceAdapter(ChannelAdapter):
    kind = "voice"
    label = "Phone"
    attachment_types = ["audio/wav", "audio/mpeg"]

    @property
    def attachment_max_bytes(self) -> int:
        return settings.RECORDING_MAX_BYTES

    def recipient(self, conversation) -> str:
        raise NotDeliverable("Messages to a caller go by text message; choose SMS.", code="voice_is_not_text")

    def send(self, event) -> SendResult:
        raise NotDeliverable("Messages to a caller go by text message; choose SMS.", code="voice_is_not_text")

    def download(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        return get_backend().download(url, max_bytes)

    def delete_recording(self, recording_sid: str) -> None:
        """Delete the provider's copy of a recording (retention purge).
        Raises AdapterError; `permanent` says whether retrying can help."""
        get_backend().delete_recording(recording_sid)

    def take_call(self, call, agent_user_id: int) -> None:
        """Take a holding caller off hold and ring the agent who picked it up."""
        from channels_app.voice.twiml import url

        if not call.queue_sid and settings.VOICE_BACKEND == "twilio":
            raise AdapterError("The call's queue is not known yet; try again in a moment.")
        get_backend().dequeue(queue_sid=call.queue_sid, call_sid=call.call_sid,
                              url=url("/connect", agent=agent_user_id))
