from hub.models import PhoneNumber, Practice


def practice_for(number: str, messaging_service_sid: str = "") -> int | None:
    """The practice that owns the number Twilio called or texted."""
    practice_id = PhoneNumber.objects.filter(number=number).values_list("practice_id", flat=True).first()
    if practice_id is None and messaging_service_sid:
        practice_id = (Practice.objects.filter(messaging_service_sid=messaging_service_sid)
                       .values_list("pk", flat=True).first())
    return practice_id
