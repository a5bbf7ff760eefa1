from django.core.management import call_command

from hub.models import AgentProfile, Conversation, Department, Event, Practice


def test_the_demo_seed_builds_a_working_practice_once(db, capsys):
    call_command("seed_demo")
    call_command("seed_demo")  # a second run changes nothing
    practice = Practice.objects.get()
    assert sorted(Department.objects.values_list("name", flat=True)) == [
        "Billing", "New Patient Intake", "Nurse Line", "Scheduling"]
    assert AgentProfile.objects.filter(role="agent").count() == 3
    assert Conversation.objects.exclude(status="resolved").count() == 3
    assert Event.objects.filter(direction="in").count() >= 5
    assert practice.default_department.name == "Scheduling"
    out = capsys.readouterr().out
    assert "alice" in out and "hub-alice-demo" in out
