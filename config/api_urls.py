"""/api/v1/: one router for every app's endpoints."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from audits.api.views import AuditEventViewSet
from care.api.pairing import PairingViewSet, RiskFlagViewSet, VisitViewSet
from care.api.views import AttendanceRecordView, CaseViewSet
from care.api.weekly import WeeklyReturnViewSet
from disbursements.api import AwardCorrectView, BatchViewSet, CorrectionViewSet, RecoveryViewSet
from funding.api.views import (
    AwardListViewSet,
    AwardViewSet,
    BudgetViewSet,
    BudgetWaiverViewSet,
    ProgramViewSet,
    SemesterViewSet,
)
from oversight.api.views import DashboardView, RegionView, SnapshotViewSet
from schools.api.views import GradeViewSet, JobViewSet, MeView, SchoolClassViewSet, SchoolViewSet, TokenCreateView
from students.api.identification import ApplicationViewSet, ObjectionViewSet, PublicityViewSet
from students.api.views import StudentViewSet

router = DefaultRouter()
router.include_format_suffixes = False  # one URL per resource: ?format=json does the same
router.register("schools", SchoolViewSet, basename="school")
router.register("grades", GradeViewSet, basename="grade")
router.register("classes", SchoolClassViewSet, basename="class")
router.register("students", StudentViewSet, basename="student")
router.register("applications", ApplicationViewSet, basename="application")
router.register("publicity", PublicityViewSet, basename="publicity")
router.register("objections", ObjectionViewSet, basename="objection")
router.register("programs", ProgramViewSet, basename="program")
router.register("semesters", SemesterViewSet, basename="semester")
router.register("awards", AwardViewSet, basename="award")
router.register("award-lists", AwardListViewSet, basename="award-list")
router.register("budgets", BudgetViewSet, basename="budget")
router.register("budget-waivers", BudgetWaiverViewSet, basename="budget-waiver")
router.register("batches", BatchViewSet, basename="batch")
router.register("corrections", CorrectionViewSet, basename="correction")
router.register("recoveries", RecoveryViewSet, basename="recovery")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("jobs", JobViewSet, basename="job")
router.register("care/cases", CaseViewSet, basename="care-case")
router.register("care/pairings", PairingViewSet, basename="care-pairing")
router.register("care/visits", VisitViewSet, basename="care-visit")
router.register("care/risk-flags", RiskFlagViewSet, basename="care-risk-flag")
router.register("care/weekly-returns", WeeklyReturnViewSet, basename="care-weekly-return")
router.register("oversight/reports", SnapshotViewSet, basename="oversight-report")

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("token/", TokenCreateView.as_view(), name="api-token"),
    path("awards/<uuid:pk>/correct/", AwardCorrectView.as_view(), name="award-correct"),
    path("care/attendance/", AttendanceRecordView.as_view(), name="care-attendance"),
    path("oversight/dashboard/", DashboardView.as_view(), name="oversight-dashboard"),
    path("oversight/region/", RegionView.as_view(), name="oversight-region"),
    *router.urls,
]
