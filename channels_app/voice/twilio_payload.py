"""Twilio's voice webhook parameters, in the hub's terms."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hub.lib import phone

CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")
QUEUE_SID = re.compile(r"^QU[0-9a-fA-F]{32}$")
RECORDING_SID = re.compile(r"^RE[0-9a-fA-F]{32}$")


class BadPayload(ValueError):
    pass


@dataclass(frozen=True)
class CallInfo:
    call_sid: str
    from_: str
    to: str


def call_sid(post) -> str:
    sid = post.get("CallSid", "")
    if not CALL_SID.match(sid):
        raise BadPayload("CallSid is missing or malformed")
    return sid


def call_info(post) -> CallInfo:
    sid = call_sid(post)
    numbers = []
    for name in ("From", "To"):
        raw = post.get(name, "")
        try:
            numbers.append(phone.normalize(raw, "US"))
        except phone.InvalidPhoneNumber:
            # Withheld numbers ("anonymous", "+266696687") still ring: keep the
            # call, under a placeholder contact, rather than refuse it.
            if name == "From" and raw:
                numbers.append("withheld")
            else:
                raise BadPayload(f"{name} is not a phone number") from None
    return CallInfo(call_sid=sid, from_=numbers[0], to=numbers[1])


def integer(post, name: str, default: int = 0) -> int:
    raw = post.get(name, "")
    if raw == "":
        return default
    try:
        value = int(float(raw))
    except ValueError:
        raise BadPayload(f"{name} is not a number") from None
    if value < 0:
        raise BadPayload(f"{name} is negative")
    return value


def recording(post) -> tuple[str, str, int]:
    sid = post.get("RecordingSid", "")
    if not RECORDING_SID.match(sid):
        raise BadPayload("RecordingSid is missing or malformed")
    url = post.get("RecordingUrl", "")
    if not url.startswith(("https://", "http://")):
        raise BadPayload("RecordingUrl is missing")
    return sid, url, integer(post, "RecordingDuration")
