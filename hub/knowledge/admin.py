"""The knowledge base in the Django admin. Articles are written in the
console, where every save makes a version; here they can be looked up and
deleted (audited). Versions, reads and assignments are records:
read-only."""

from django.contrib import admin

from hub.admin_site import ReadOnlyAdmin
from hub.lib import audit
from hub.knowledge.models import Article, ArticleAssignment, ArticleRead, ArticleVersion


class VersionInline(admin.TabularInline):
    model = ArticleVersion
    fields = ("number", "title", "author", "created_at", "change_note")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "practice", "category", "version", "updated_at")
    list_filter = ("practice", "category")
    search_fields = ("title", "slug")
    inlines = [VersionInline]

    # Articles change only in the console's editor, which keeps the history.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_deleted_objects(self, objs, request):
        # An article's versions, reads and assignments go with it, although
        # none of them may be deleted on its own.
        deleted, counts, _, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def delete_model(self, request, obj):
        _audit_deletion(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for article in queryset:
            _audit_deletion(request, article)
        super().delete_queryset(request, queryset)


def _audit_deletion(request, article: Article) -> None:
    audit.record(user_id=request.user.pk, practice_id=article.practice_id, action="kb.article_deleted", obj=article,
                 via="admin", ip=audit.client_ip(request.META),
                 detail={"slug": article.slug, "version": article.version})


@admin.register(ArticleVersion)
class ArticleVersionAdmin(ReadOnlyAdmin):
    list_display = ("article", "number", "author", "created_at", "change_note")
    list_filter = ("practice",)


@admin.register(ArticleRead)
class ArticleReadAdmin(ReadOnlyAdmin):
    list_display = ("article", "user", "version", "read_at")
    list_filter = ("practice",)


@admin.register(ArticleAssignment)
class ArticleAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("article", "assignee", "assigned_by", "assigned_at", "due", "completed_at")
    list_filter = ("practice",)
