"""Twilio's incoming-message and status-callback parameters, turned into
the hub's terms. Provider field names stop here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hub.lib import phone

MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")
SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
MAX_MEDIA = 10

OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
OPT_IN_WORDS = {"START", "UNSTOP", "YES"}
HELP_WORDS = {"HELP", "INFO"}


class BadPayload(ValueError):
    pass


@dataclass(frozen=True)
class IncomingSms:
    sid: str
    from_: str
    to: str
    body: str
    messaging_service_sid: str = ""
    media: tuple[tuple[str, str], ...] = ()  # (url, declared content type)
    keyword: str = ""  # "opt_out", "opt_in", "help" or ""
    keyword_text: str = ""
    provider_answered_keyword: bool = False  # Twilio Advanced Opt-Out replied already
    segments: int = 1
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class StatusReport:
    sid: str
    status: str
    error_code: str
    from_: str
    to: str


def _number(post, name: str) -> str:
    raw = post.get(name, "")
    try:
        return phone.normalize(raw, "US")
    except phone.InvalidPhoneNumber:
        raise BadPayload(f"{name} is not a phone number") from None


def keyword_of(body: str, opt_out_type: str = "") -> tuple[str, str, bool]:
    """(kind, word, answered by the provider). Twilio's Advanced Opt-Out
    sends OptOutType and has answered the patient itself; otherwise the
    whole message, trimmed and in any case, is the keyword."""
    if opt_out_type:
        kind = {"STOP": "opt_out", "START": "opt_in", "HELP": "help"}.get(opt_out_type.upper(), "")
        return kind, body.strip()[:30], bool(kind)
    word = body.strip().upper()
    if word in OPT_OUT_WORDS:
        return "opt_out", word, False
    if word in OPT_IN_WORDS:
        return "opt_in", word, False
    if word in HELP_WORDS:
        return "help", word, False
    return "", "", False


def parse_incoming(post) -> IncomingSms:
    sid = post.get("MessageSid", "")
    if not MESSAGE_SID.match(sid):
        raise BadPayload("MessageSid is missing or malformed")
    service = post.get("MessagingServiceSid", "")
    if service and not SERVICE_SID.match(service):
        raise BadPayload("MessagingServiceSid is malformed")
    try:
        num_media = int(post.get("NumMedia", "0") or 0)
    except ValueError:
        raise BadPayload("NumMedia is not a number") from None
    if not 0 <= num_media <= MAX_MEDIA:
        raise BadPayload(f"NumMedia must be 0 to {MAX_MEDIA}")
    media = []
    for i in range(num_media):
        url = post.get(f"MediaUrl{i}", "")
        if not url.startswith(("https://", "http://")):
            raise BadPayload(f"MediaUrl{i} is missing")
        media.append((url, post.get(f"MediaContentType{i}", "")))
    body = post.get("Body", "")
    kind, word, answered = keyword_of(body, post.get("OptOutType", ""))
    try:
        segments = max(1, int(post.get("NumSegments", "1") or 1))
    except ValueError:
        segments = 1
    return IncomingSms(
        sid=sid, from_=_number(post, "From"), to=_number(post, "To"), body=body, messaging_service_sid=service,
        media=tuple(media), keyword=kind, keyword_text=word, provider_answered_keyword=answered, segments=segments,
    )


def parse_status(post) -> StatusReport:
    sid = post.get("MessageSid", "") or post.get("SmsSid", "")
    if not MESSAGE_SID.match(sid):
        raise BadPayload("MessageSid is missing or malformed")
    status = (post.get("MessageStatus", "") or post.get("SmsStatus", "")).lower()
    if not status or len(status) > 32:
        raise BadPayload("MessageStatus is missing")
    error_code = post.get("ErrorCode", "")
    if error_code and not error_code.isdigit():
        raise BadPayload("ErrorCode is malformed")
    return StatusReport(sid=sid, status=status, error_code=error_code, from_=post.get("From", ""),
                        to=post.get("To", ""))
