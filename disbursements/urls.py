from django.urls import path

from . import views

app_name = "disbursements"
urlpatterns = [
    path("", views.batch_list_view, name="batches"),
    path("build/", views.batch_build_view, name="batch_build"),
    path("<uuid:pk>/", views.batch_view, name="batch"),
    path("<uuid:pk>/confirm/<uuid:school_pk>/", views.batch_confirm_view, name="batch_confirm"),
    path("<uuid:pk>/release/", views.batch_release_view, name="batch_release"),
    path("<uuid:pk>/roster/", views.roster_export_view, name="roster"),
    path("<uuid:pk>/return/", views.return_import_view, name="return_import"),
    path("<uuid:pk>/exclude/", views.lines_exclude_view, name="lines_exclude"),
    path("corrections/", views.corrections_view, name="corrections"),
    path("corrections/award/<uuid:award_pk>/", views.correction_propose_view, name="correction_propose"),
    path("corrections/<uuid:pk>/decide/", views.correction_decide_view, name="correction_decide"),
    path("corrections/<uuid:pk>/reverse/", views.correction_reverse_view, name="correction_reverse"),
    path("recoveries/<uuid:pk>/record/", views.recovery_record_view, name="recovery_record"),
    path("recoveries/<uuid:pk>/write-off/", views.recovery_write_off_view, name="recovery_write_off"),
    path("ledger/", views.ledger_view, name="ledger"),
    path("letters/", views.letters_view, name="letters"),
    path("letters/student/<uuid:student_pk>/", views.letter_student_view, name="letter_student"),
    path("letters/class/<uuid:class_pk>/", views.letter_class_view, name="letter_class"),
]
