from django.urls import path

from . import views

urlpatterns = [
    path("", views.roster_view, name="roster"),
    path("template/", views.roster_template_view, name="roster_template"),
    path("<uuid:pk>/report/", views.roster_report_view, name="roster_report"),
]
