"""What the SMS and voice channels share about Twilio: webhook signatures,
the REST client, and what its error codes mean."""
