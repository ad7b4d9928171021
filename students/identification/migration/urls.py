from django.urls import path

from . import views

urlpatterns = [
    path("", views.migration_view, name="identification_migration"),
    path("template/", views.migration_template_view, name="identification_migration_template"),
    path("<uuid:pk>/report/", views.migration_report_view, name="identification_migration_report"),
]
