"""The knowledge base: a practice's articles (Markdown, written by
supervisors), every saved version of each, who read which version, and
articles assigned to staff to read (docs/knowledge.md)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from hub.models.base import PracticeScoped


class Category(models.TextChoices):
    SERVICES = "services", "Services offered"
    INSURANCE = "insurance", "Insurance and billing"
    SCHEDULING = "scheduling", "Scheduling rules"
    POLICIES = "policies", "Policies"
    SCRIPTS = "scripts", "Call scripts"
    GENERAL = "general", "General"


class Article(PracticeScoped):
    """An article as it reads now: the text of its latest version. The
    slug is set once, from the first title, so links keep working when
    the title changes."""

    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=16, choices=Category.choices, default=Category.GENERAL)
    body = models.TextField(blank=True, default="", help_text="Markdown.")
    version = models.PositiveIntegerField(default=1, help_text="Number of the latest version.")
    topics = models.ManyToManyField("hub.Topic", blank=True, related_name="articles",
                                    help_text="Conversations on these topics suggest this article.")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["title", "pk"]
        constraints = [models.UniqueConstraint(fields=["practice", "slug"], name="kb_article_slug_unique")]
        # The full-text index exists on PostgreSQL only: migration 0002.

    def __str__(self) -> str:
        return self.title


class ArticleVersion(PracticeScoped):
    """One save of an article, never changed afterwards."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=16, choices=Category.choices)
    body = models.TextField(blank=True, default="")
    change_note = models.CharField(max_length=300, blank=True, default="")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["article", "-number"]
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="kb_version_number_unique")]

    def __str__(self) -> str:
        return f"{self.title} (version {self.number})"


class ArticleRead(PracticeScoped):
    """The latest version of an article a person has opened."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    read_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "user"], name="kb_read_unique")]
        indexes = [models.Index(fields=["user", "article"])]


class ArticleAssignment(PracticeScoped):
    """A supervisor asked someone to read an article. Completed when they
    confirm ("Mark as read") having the article's latest version open."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="assignments")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    assigned_at = models.DateTimeField()
    due = models.DateField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-assigned_at", "-pk"]
        constraints = [
            # At most one open assignment of an article per person; a
            # completed one can be followed by a new one (a later version).
            models.UniqueConstraint(fields=["article", "assignee"], condition=Q(completed_at__isnull=True),
                                    name="kb_one_open_assignment"),
        ]
        indexes = [models.Index(fields=["practice", "completed_at"]), models.Index(fields=["assignee", "completed_at"])]

    @property
    def completed(self) -> bool:
        return self.completed_at is not None
