"""Noticing that a chat visitor has gone."""

from datetime import datetime

from celery import shared_task

from channels_app.webchat import service


@shared_task(acks_late=True)
def check_visitor_left(patient_id: int, left_at: str) -> bool:
    """Runs a while after a widget socket closed: if no widget of this
    visitor has been heard from since, they left."""
    if service.still_here(patient_id):
        return False
    from hub.actions import contacts

    return contacts.visitor_left(patient_id, left_at=datetime.fromisoformat(left_at))
