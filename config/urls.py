from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from students.identification.views import public_notice_old_link_view, public_notice_view

from . import site

urlpatterns = [
    path("", site.home, name="home"),
    path("healthz", site.healthz, name="healthz"),
    path("menu/counts/", site.menu_counts, name="menu_counts"),
    path("accounts/login/", site.SigningInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", site.AuditedPasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/", include("schools.door.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("schools/", include("schools.urls")),
    path("students/", include("students.urls")),
    path("audit/", include("audits.urls")),
    path("registry/", include("audits.registry.urls")),
    path("reconciliation/", include("audits.reconciliation.urls")),
    path("funding/", include("funding.award_urls")),
    path("disbursements/", include("disbursements.urls")),
    path("care/", include("care.urls")),
    path("oversight/", include("oversight.urls")),
    path("admin/", admin.site.urls),
    # 公示: the public page of a list, by district and token (the district routes it to one shard).
    path("p/<slug:district>/<uuid:token>/", public_notice_view, name="public_notice"),
    path("p/<uuid:token>/", public_notice_old_link_view, name="public_notice_old_link"),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script for the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]
