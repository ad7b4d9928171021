from django.urls import path

from . import views

app_name = "audits"
urlpatterns = [
    path("", views.event_list_view, name="list"),
    path("verify/", views.verify_view, name="verify"),
]
