from django.urls import include, path

from . import views
from .weekly import views as weekly_views

app_name = "care"
urlpatterns = [
    path("attendance/", views.attendance_index_view, name="attendance"),
    path("attendance/<uuid:class_pk>/", views.attendance_class_view, name="attendance_class"),
    path("cases/", views.case_list_view, name="cases"),
    path("cases/<uuid:pk>/", views.case_view, name="case"),
    path("cases/<uuid:pk>/transition/", views.case_transition_view, name="case_transition"),
    path("cases/<uuid:pk>/steps/", views.case_step_view, name="case_step"),
    path("cases/<uuid:pk>/responsibles/", views.case_responsible_view, name="case_responsible"),
    path("cases/<uuid:pk>/notice/<int:level>/", views.case_notice_view, name="case_notice"),
    path("", include("care.pairing.urls")),  # 1+1 结对帮扶, visits, the watch list
    path("weekly/", weekly_views.weekly_view, name="weekly"),
    path("weekly/schools/<uuid:school_pk>/", weekly_views.weekly_school_view, name="weekly_school"),
    path("weekly/summary/", weekly_views.summary_view, name="weekly_summary"),
]
