from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="console:home", permanent=False)),
    # Browsers ask every site for /favicon.ico, whatever the page links.
    path("favicon.ico", RedirectView.as_view(url=static("console/favicon.svg"), permanent=True)),
]
