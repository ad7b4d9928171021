"""The pairing pages, included into care's URLs (the `care:` namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("pairing/", views.pairing_view, name="pairing"),
    path("pairing/assign/", views.pairing_assign_view, name="pairing_assign"),
    path("my-pupils/", views.my_pupils_view, name="my_pupils"),
    path("my-pupils/<uuid:student_pk>/visit/", views.visit_new_view, name="visit_new"),
    path("watch/", views.watch_list_view, name="watch"),
    path("risk/<uuid:student_pk>/", views.risk_flag_set_view, name="risk_flag_set"),
    path("risk/<uuid:pk>/clear/", views.risk_flag_clear_view, name="risk_flag_clear"),
]
