"""What every channel adapter provides to the hub's outbound path."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SendResult:
    """What the provider said about a message it accepted (or, from
    `reconcile`, a message it already has)."""

    provider_id: str | None
    status: str  # a delivery status: queued, sending, sent, delivered, ...


class AdapterError(Exception):
    """A send that did not succeed.

    permanent: retrying cannot help (invalid number, recipient opted out);
        the message is marked failed with this error's text.
    maybe_sent: the provider may have accepted it (a timeout after the
        request went out); the next attempt must reconcile, never resend
        blindly.
    """

    def __init__(self, message: str, *, permanent: bool = False, maybe_sent: bool = False,
                 code: str = "", retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.maybe_sent = maybe_sent
        self.code = code
        self.retry_after = retry_after


class ChannelAdapter:
    """Base class: one subclass per channel kind, registered in
    channels_app.registry."""

    kind: str = ""
    label: str = ""
    max_body_length: int = 20_000
    # What files from this channel may be kept (None: settings.ATTACHMENT_TYPES).
    attachment_types: list[str] | None = None
    attachment_max_bytes: int | None = None

    def recipient(self, conversation) -> str:
        """The address to reach this conversation's patient on this channel;
        raises hub.actions.errors.NotDeliverable with a reason if there is none."""
        raise NotImplementedError

    def send(self, event) -> SendResult:
        raise NotImplementedError

    def download(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        """A file the provider holds for an inbound message: (bytes, declared
        content type). Raises AdapterError; reading stops past `max_bytes`
        (the caller rejects what is too large)."""
        raise AdapterError(f"the {self.kind} channel holds no files", permanent=True)

    def reconcile(self, event) -> SendResult | None:
        """After an attempt whose outcome is unknown: the provider's record of
        this message, or None if the provider certainly never received it."""
        return None
