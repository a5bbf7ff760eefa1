"""Phone calls through Twilio Voice (or its sandbox): the phone menu, hold
queues, voicemail, and agents taking calls from the console."""
