from django.urls import include, path

from . import views

app_name = "students"
urlpatterns = [
    path("", views.student_list_view, name="list"),
    path("roster/", include("students.roster.urls")),
    path("<uuid:pk>/", views.student_detail_view, name="detail"),
    path("<uuid:pk>/reveal/<str:field>/", views.student_reveal_view, name="reveal"),
]
