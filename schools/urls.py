from django.urls import path

from . import views

app_name = "schools"
urlpatterns = [
    path("", views.school_list_view, name="list"),
    path("<uuid:pk>/", views.school_detail_view, name="detail"),
    path("jobs/<uuid:pk>/", views.job_detail_view, name="job"),
    path("calendar/", views.official_calendar_view, name="calendar"),
    path("calendar/template.csv", views.official_calendar_template_view, name="calendar_template"),
    path("tokens/", views.api_tokens_view, name="tokens"),
    path("tokens/<uuid:pk>/revoke/", views.api_token_revoke_view, name="token_revoke"),
    path("calendar/<int:year>/", views.official_calendar_year_view, name="calendar_year"),
]
