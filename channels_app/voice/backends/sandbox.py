"""Call control with no Twilio account: the commands are recorded for the
simulate_call command, which plays Twilio's part against the real webhooks."""

from __future__ import annotations

from channels_app.sms.backends.sandbox import SandboxBackend


class SandboxVoiceBackend:
    def dequeue(self, *, queue_sid: str, call_sid: str, url: str) -> None:
        from channels_app.models import SandboxCallCommand

        SandboxCallCommand.objects.create(call_sid=call_sid, action="dequeue", url=url)

    def redirect(self, *, call_sid: str, url: str) -> None:
        from channels_app.models import SandboxCallCommand

        SandboxCallCommand.objects.create(call_sid=call_sid, action="redirect", url=url)

    def hang_up(self, *, call_sid: str) -> None:
        from channels_app.models import SandboxCallCommand

        SandboxCallCommand.objects.create(call_sid=call_sid, action="hangup", url="")

    def recording(self, recording_sid: str) -> dict:
        return {"sid": recording_sid, "call_sid": "", "duration": None}

    def delete_recording(self, recording_sid: str) -> None:
        """The sandbox keeps no recordings of its own: nothing to delete."""

    def download(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        return SandboxBackend().download(url, max_bytes)
