"""/console/kb/: the knowledge base's pages."""

from django.urls import path

from hub.knowledge import views

app_name = "knowledge"

# "new" and "assignments" are never article slugs (actions.RESERVED_SLUGS).
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.create, name="create"),
    path("assignments/", views.assignments, name="assignments"),
    path("<slug:slug>/", views.article, name="article"),
    path("<slug:slug>/edit/", views.edit, name="edit"),
    path("<slug:slug>/history/", views.history, name="history"),
    path("<slug:slug>/v/<int:number>/", views.version, name="version"),
    path("<slug:slug>/read/", views.mark_read, name="read"),
    path("<slug:slug>/assign/", views.assign, name="assign"),
]
