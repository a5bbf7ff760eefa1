"""What Twilio's error codes mean for the agent and for retrying."""

MESSAGES = {
    20003: "Twilio refused the hub's credentials; an administrator must check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.",
    21211: "This is not a valid phone number.",
    21408: "Texting this country is not enabled for the practice's account.",
    21610: "The patient has opted out of texts (they replied STOP).",
    21612: "The practice's number cannot text this number.",
    21614: "This number cannot receive texts (not a mobile number).",
    21617: "The message is too long.",
    30003: "The patient's phone is unreachable (off or out of coverage).",
    30004: "The message was blocked by the patient's carrier or phone.",
    30005: "The number does not exist or is no longer in service.",
    30006: "This number is a landline or cannot receive texts.",
    30007: "The carrier filtered the message as spam.",
    30008: "The carrier reported an unknown delivery error.",
    30034: "The practice's number is not registered for A2P texting.",
}

# Errors that also mean the patient has withdrawn consent.
OPTED_OUT = {21610}


def describe(code) -> str:
    try:
        return MESSAGES.get(int(code), f"Twilio error {code}.")
    except (TypeError, ValueError):
        return "Delivery failed."
