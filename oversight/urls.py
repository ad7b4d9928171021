from django.urls import path

from . import views
from .checks import views as checks
from .outreach import views as outreach
from .region import views as region

app_name = "oversight"
urlpatterns = [
    path("dashboard/", views.dashboard_view, name="dashboard"),
    # 市/省: a region's oversight account reads its districts' aggregates
    path("region/", region.region_view, name="region"),
    path("reports/", views.report_list_view, name="reports"),
    path("reports/generate/", views.report_generate_view, name="report_generate"),
    path("reports/<uuid:pk>/", views.report_view, name="report"),
    # 回访: post-payment checks
    path("checks/", checks.checks_view, name="checks"),
    path("checks/draw/", checks.check_draw_view, name="check_draw"),
    path("checks/<uuid:pk>/", checks.check_view, name="check"),
    path("checks/lines/<uuid:pk>/record/", checks.check_record_view, name="check_record"),
    path("checks/follow-ups/<uuid:pk>/decide/", checks.follow_up_decide_view, name="follow_up_decide"),
    # 宣传: policy outreach
    path("outreach/", outreach.outreach_view, name="outreach"),
    path("outreach/record/", outreach.outreach_record_view, name="outreach_record"),
    path("outreach/<uuid:pk>/evidence/", outreach.outreach_evidence_view, name="outreach_evidence"),
    path("outreach/letters/<uuid:class_pk>/", outreach.outreach_letter_view, name="outreach_letter"),
]
