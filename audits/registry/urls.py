from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("", views.registry_view, name="index"),
    path("mapping/", views.mapping_view, name="mapping"),
    path("jobs/<uuid:pk>/report/", views.registry_report_view, name="report"),
]
