from django.contrib import admin
from django.urls import include, path

from hub.api.views import api
from hub.views.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("webhooks/", include("channels_app.urls")),
    path("", include("channels_app.webchat.urls")),
    path("admin/", admin.site.urls),
    path("console/kb/", include("hub.knowledge.urls")),
    path("console/training/", include("hub.training.urls")),
    path("console/qa/", include("hub.qa.urls")),
    path("console/", include("console.urls")),
    path("kpi/", include("kpi.urls")),
    path("", include("console.root_urls")),
]
