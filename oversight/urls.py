from django.urls import path

from . import views

app_name = "oversight"
urlpatterns = [
    path("dashboard/", views.dashboard_view, name="dashboard"),
    path("reports/", views.report_list_view, name="reports"),
    path("reports/generate/", views.report_generate_view, name="report_generate"),
    path("reports/<uuid:pk>/", views.report_view, name="report"),
]
