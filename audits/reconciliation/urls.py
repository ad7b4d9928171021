from django.urls import path

from . import views

app_name = "reconciliation"
urlpatterns = [
    path("", views.runs_view, name="runs"),
    path("start/", views.run_start_view, name="start"),
    path("<uuid:pk>/", views.run_view, name="run"),
    path("<uuid:pk>/export/", views.run_export_view, name="export"),
    path("<uuid:pk>/omissions/", views.run_omissions_view, name="omissions"),
    path("<uuid:pk>/corrections/", views.run_corrections_view, name="corrections"),
]
