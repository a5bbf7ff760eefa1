from django.contrib.auth import views as django_auth_views
from django.urls import path

from console import auth_views, views

app_name = "console"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", django_auth_views.LogoutView.as_view(), name="logout"),
    path("login/verify/", auth_views.verify, name="two_factor_verify"),
    path("account/two-factor/", auth_views.two_factor, name="two_factor"),
    path("", views.home, name="home"),
    path("attachments/<int:attachment_id>", views.attachment, name="attachment"),
]

# --- audit log (practice admins; docs/audit.md) ---
from console import audit_views  # noqa: E402

urlpatterns += [
    path("audit/", audit_views.audit_log, name="audit"),
    path("audit/export.csv", audit_views.audit_export, name="audit_export"),
]

# --- retention and legal holds (practice admins; docs/retention.md) ---
from console import retention_views  # noqa: E402

urlpatterns += [
    path("retention/", retention_views.retention, name="retention"),
    path("retention/policy", retention_views.save_policy, name="retention-policy"),
    path("retention/holds", retention_views.place_hold, name="retention-hold"),
    path("retention/holds/<int:hold_id>/release", retention_views.release_hold, name="retention-release"),
]
