from django.urls import path, re_path

from . import views

urlpatterns = [
    path("applications/", views.application_list_view, name="applications"),
    path("applications/bulk/", views.applications_bulk_view, name="applications_bulk"),
    # One URL per step (no tenant data in either): the class's evaluation, the school's confirmations.
    path("applications/steps/class/", views.applications_step_view, {"step": "class"}, name="applications_class_step"),
    path(
        "applications/steps/village/",
        views.applications_step_view,
        {"step": "village"},
        name="applications_village_step",
    ),
    path("applications/<uuid:pk>/", views.application_detail_view, name="application"),
    path("applications/<uuid:pk>/decide/", views.application_decide_view, name="application_decide"),
    path("applications/<uuid:pk>/details/", views.application_details_view, name="application_details"),
    path("applications/<uuid:pk>/attach/", views.application_attach_view, name="application_attach"),
    path("applications/<uuid:pk>/village/", views.village_confirm_view, name="application_village"),
    path("applications/<uuid:pk>/adjust/", views.adjustment_propose_view, name="adjustment_propose"),
    path("adjustments/<uuid:pk>/decide/", views.adjustment_decide_view, name="adjustment_decide"),
    path("attachments/<uuid:pk>/", views.attachment_view, name="attachment"),
    path("<uuid:student_pk>/nominate/", views.application_new_view, name="application_new"),
    path("publicity/", views.publicity_list_view, name="publicities"),
    path("publicity/new/<uuid:school_pk>/", views.publicity_new_view, name="publicity_new"),
    path("publicity/<uuid:pk>/", views.publicity_detail_view, name="publicity"),
    path("publicity/<uuid:pk>/print/", views.publicity_print_view, name="publicity_print"),
    path("publicity/<uuid:pk>/objections/", views.objection_new_view, name="objection_new"),
    path("publicity/<uuid:pk>/record-held/", views.publicity_record_held_view, name="publicity_record_held"),
    re_path(
        r"^publicity/(?P<pk>[0-9a-f-]{36})/(?P<step>sign|publish)/$", views.publicity_step_view, name="publicity_step"
    ),
    path("objections/<uuid:pk>/resolve/", views.objection_resolve_view, name="objection_resolve"),
]
