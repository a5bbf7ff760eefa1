from django.db import models


class PracticeQuerySet(models.QuerySet):
    """Every row holding patient data belongs to one practice; every query for
    such rows goes through `in_practice` (or `hub.lib.access`, which uses it)."""

    def in_practice(self, practice):
        practice_id = practice if isinstance(practice, int) else practice.pk
        return self.filter(practice_id=practice_id)


class PracticeScoped(models.Model):
    practice = models.ForeignKey("hub.Practice", on_delete=models.CASCADE, related_name="+")

    objects = PracticeQuerySet.as_manager()

    class Meta:
        abstract = True
