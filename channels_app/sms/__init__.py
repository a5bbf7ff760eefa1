"""SMS and MMS through Twilio (or its sandbox)."""
