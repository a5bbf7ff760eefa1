"""/console/qa/: quality reviews, trends, training signals and the rubric."""

from django.urls import path, register_converter

from hub.qa import views


class RowId:
    """A row id that fits a database integer (a longer one is a 404, not an overflow)."""

    regex = "[1-9][0-9]{0,17}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(RowId, "qa_id")

app_name = "qa"

urlpatterns = [
    path("", views.index, name="index"),
    path("reviews/<qa_id:review_id>/acknowledge", views.acknowledge, name="acknowledge"),
    path("conversations/", views.conversations, name="conversations"),
    path("conversations/<qa_id:conversation_id>/", views.review, name="review"),
    path("trends/", views.trend_page, name="trends"),
    path("signals/", views.signal_page, name="signals"),
    path("signals/assign", views.assign, name="assign"),
    path("rubric/", views.rubric_page, name="rubric"),
]
