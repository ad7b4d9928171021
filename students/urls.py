from django.urls import include, path

from . import views
from .identification import views as identification_views

app_name = "students"
urlpatterns = [
    path("", views.student_list_view, name="list"),
    path("roster/", include("students.roster.urls")),
    path("identified-import/", include("students.identification.migration.urls")),
    path("", include("students.identification.urls")),
    path("<uuid:pk>/", identification_views.student_file_view, name="detail"),
    path("<uuid:pk>/reveal/<str:field>/", views.student_reveal_view, name="reveal"),
]
