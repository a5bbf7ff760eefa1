"""Phone numbers, always stored in E.164 (+15551234567)."""

from functools import lru_cache

import phonenumbers


class InvalidPhoneNumber(ValueError):
    pass


def normalize(raw: str, region: str = "US") -> str:
    """E.164 form of `raw`, read as a local number of `region` when it has no
    country code. Raises InvalidPhoneNumber for anything that is not a number."""
    return _normalize(raw, region)


@lru_cache(maxsize=4096)
def _normalize(raw: str, region: str) -> str:
    # Every inbound text and call asks for the same few thousand numbers,
    # and parsing one costs more than the rest of the webhook's checks.
    if not raw or not raw.strip():
        raise InvalidPhoneNumber("empty phone number")
    try:
        parsed = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber("not a phone number") from None
    # is_possible rather than is_valid: fictional 555 numbers are possible,
    # and test numbers and new ranges must not be refused.
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumber("not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def masked(e164: str) -> str:
    """A form safe for logs and lists: +1•••••••4567."""
    if len(e164) <= 4:
        return "•" * len(e164)
    return e164[:2] + "•" * (len(e164) - 6) + e164[-4:]
