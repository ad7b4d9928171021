from django.urls import path

from . import views

app_name = "door"
urlpatterns = [
    path("two-factor/", views.verify_view, name="verify"),
    path("two-factor/enrol/", views.enrol_view, name="enrol"),
    path("security/", views.security_view, name="security"),
    path("security/sign-out-everywhere/", views.sign_out_everywhere_view, name="sign_out_everywhere"),
    path("security/recovery-codes/", views.recovery_codes_view, name="recovery_codes"),
    path("manage/", views.accounts_view, name="accounts"),
    path("manage/<uuid:pk>/unlock/", views.account_unlock_view, name="unlock"),
    path("manage/<uuid:pk>/two-factor-reset/", views.account_two_factor_reset_view, name="two_factor_reset"),
]
