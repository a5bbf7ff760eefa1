from django.db import models

from hub.models.base import PracticeScoped


class RoutingRule(PracticeScoped):
    """Where a new conversation goes, by what the patient first wrote. Rules
    are tried in order; the first whose pattern matches wins. A pattern is a
    list of words and phrases separated by | (case and punctuation do not
    matter), matched on word boundaries: `bill|invoice|statement`."""

    name = models.CharField(max_length=100)
    pattern = models.CharField(max_length=500)
    department = models.ForeignKey("hub.Department", on_delete=models.CASCADE, related_name="+")
    topic = models.ForeignKey("hub.Topic", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channels = models.CharField(max_length=100, blank=True, default="",
                                help_text="Comma-separated channels (sms, web, api, voice); empty: all.")
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.pattern})"


class RedFlagPhrase(PracticeScoped):
    """A phrase that means a patient may need emergency care now. Category
    "suicide" gets the 988 crisis-line safety reply; others the 911 one."""

    phrase = models.CharField(max_length=100)
    category = models.CharField(max_length=32)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category", "phrase"]
        constraints = [models.UniqueConstraint(fields=["practice", "phrase"], name="red_flag_phrase_unique")]

    def __str__(self) -> str:
        return self.phrase


class BusinessHours(models.Model):
    """An opening interval of a department, in the practice's local time."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    department = models.ForeignKey("hub.Department", on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["department", "weekday", "opens"]
        verbose_name_plural = "business hours"

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class Holiday(PracticeScoped):
    date = models.DateField()
    name = models.CharField(max_length=100)
    department = models.ForeignKey("hub.Department", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="+", help_text="Empty: the whole practice is closed.")

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"
