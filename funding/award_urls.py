from django.urls import path, re_path

from . import views

app_name = "funding"
urlpatterns = [
    path("awards/", views.award_lists_view, name="award_lists"),
    path("awards/build/", views.award_list_build_view, name="award_list_build"),
    path("awards/<uuid:pk>/", views.award_list_view, name="award_list"),
    re_path(
        r"^awards/(?P<pk>[0-9a-f-]{36})/(?P<step>publish|approve)/$", views.award_list_step_view, name="award_list_step"
    ),
    path("award/<uuid:pk>/remove/", views.award_remove_view, name="award_remove"),
    path("award/<uuid:pk>/approve-emergency/", views.emergency_approve_view, name="emergency_approve"),
    path("emergency/", views.emergency_index_view, name="emergency_index"),
    path("emergency/<uuid:student_pk>/", views.emergency_view, name="emergency"),
    path("budgets/", views.budgets_view, name="budgets"),
    path("budgets/compute/", views.budgets_compute_view, name="budgets_compute"),
    path("budgets/<uuid:pk>/adjust/", views.budget_adjust_view, name="budget_adjust"),
    path("budgets/without-budget/", views.budget_waiver_view, name="budget_waiver"),
    path(
        "budgets/without-budget/<uuid:pk>/withdraw/", views.budget_waiver_withdraw_view, name="budget_waiver_withdraw"
    ),
]
