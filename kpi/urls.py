from django.urls import path

from kpi import views

app_name = "kpi"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export/<slug:table>.csv", views.export, name="export"),
    path("wallboard/", views.wallboard, name="wallboard"),
]
