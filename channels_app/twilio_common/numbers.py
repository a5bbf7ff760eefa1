from django.db import connection

from hub.models import PhoneNumber, Practice


def practice_for(number: str, messaging_service_sid: str = "") -> int | None:
    """The practice that owns the number Twilio called or texted. Every
    webhook asks, so the common case is one plain statement (the ORM's
    compiling costs more than the database's answer); the number is unique."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT practice_id FROM {PhoneNumber._meta.db_table} WHERE number = %s", [number])
        row = cursor.fetchone()
    if row is None and messaging_service_sid:
        return (Practice.objects.filter(messaging_service_sid=messaging_service_sid)
                .values_list("pk", flat=True).first())
    return row[0] if row else None
