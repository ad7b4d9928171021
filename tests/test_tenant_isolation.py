"""Tenant isolation, swept over every URL the project has.

The sweep enumerates the URL configuration. Each pattern must be known here: either it takes no tenant
data, or the sweep knows how to fill its parameters with a row of tenant A (the user's own) and of
tenant B (someone else's). A new endpoint that is not listed fails `test_every_url_is_swept`, so no
endpoint escapes the sweep; an endpoint that skips the scoping helper shows B's rows and fails
`test_a_user_of_one_tenant_never_receives_another_tenants_rows`.
"""

from __future__ import annotations

import ast
import re
import uuid
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from care.models import CareRules
from core.tenancy.context import tenant_transaction
from disbursements.models import BankLayout
from schools.models import CalendarDay, RoleAssignment, User
from schools.permissions import Role
from students.models import HardshipCategory
from tests.factories import PASSWORD, TenantWorld

#: Patterns that read no tenant data at all.
NO_TENANT_DATA = {
    "healthz",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "set_language",
    "schema",
    "api-docs",
    "api-root",
    "api-token",
    "me",
    "admin:login",
    "admin:logout",
    "admin:password_change",
    "admin:password_change_done",
    "admin:jsi18n",
}

#: Patterns whose only method is POST.
POST_ONLY = {
    "door:unlock",
    "door:two_factor_reset",
    "door:sign_out_everywhere",
    "door:recovery_codes",
    "students:reveal",
    "student-reveal",
    "audits:verify",
    "students:applications_bulk",
    "students:application_decide",
    "students:application_details",
    "students:application_attach",
    "students:application_village",
    "students:adjustment_propose",
    "students:adjustment_decide",
    "students:publicity_new",
    "students:publicity_step",
    "students:objection_new",
    "students:publicity_record_held",
    "students:objection_resolve",
    "application-decide",
    "application-bulk-decide",
    "application-details",
    "application-village",
    "application-attachments",
    "application-bulk-details",
    "application-bulk-village",
    "application-bulk-decisions",
    "application-bulk-attachments",
    "publicity-sign",
    "publicity-publish",
    "publicity-objections",
    "objection-resolve",
    "award-list-publish",
    "award-list-approve",
    "award-correct",
    "batch-release",
    "batch-bank-return",
    "correction-decide",
    "funding:award_list_build",
    "funding:award_list_step",
    "funding:award_remove",
    "funding:emergency_approve",
    "disbursements:batch_build",
    "funding:budgets_compute",
    "funding:budget_adjust",
    "funding:budget_waiver",
    "funding:budget_waiver_withdraw",
    "budget-compute",
    "budget-adjust",
    "budget-waiver-withdraw",
    "disbursements:batch_confirm",
    "disbursements:batch_release",
    "disbursements:return_import",
    "disbursements:lines_exclude",
    "disbursements:correction_propose",
    "disbursements:correction_decide",
    "disbursements:correction_reverse",
    "disbursements:recovery_record",
    "disbursements:recovery_write_off",
    "reconciliation:start",
    "reconciliation:omissions",
    "reconciliation:corrections",
    "schools:token_revoke",
    "care:case_transition",
    "care:case_step",
    "care:case_responsible",
    "care-attendance",
    "care-case-transition",
    "care-case-steps",
    "care-case-responsibles",
    "care:pairing_assign",
    "care:risk_flag_set",
    "care:risk_flag_clear",
    "oversight:report_generate",
    "oversight:check_draw",
    "oversight:check_record",
    "oversight:follow_up_decide",
    "oversight:outreach_record",
}


def _first_of(model, w: TenantWorld):
    """A row of `model` belonging to tenant world `w`, for URLs that name one."""
    by_model = {
        "schools.school": lambda: w.schools["s1"],
        "schools.grade": lambda: w.grades["g1"],
        "schools.schoolclass": lambda: w.classes["c1"],
        "students.student": lambda: w.students["c1"][0],
        "schools.user": lambda: w.users[Role.CLASS_TEACHER],
        "schools.roleassignment": lambda: RoleAssignment.objects.filter(user=w.users[Role.CLASS_TEACHER]).first(),
        "schools.tenant": lambda: w.tenant,
        "schools.calendarday": lambda: CalendarDay.objects.filter(tenant_id=w.tenant.pk).first(),
        "students.hardshipcategory": lambda: HardshipCategory.objects.filter(tenant_id=w.tenant.pk).first(),
        "funding.semester": lambda: w.semester,
        "funding.program": lambda: w.award.program,
        "funding.budget": lambda: w.budgets["s1"],
        "disbursements.banklayout": lambda: BankLayout.objects.filter(tenant_id=w.tenant.pk).first(),
        "care.carerules": lambda: CareRules.objects.filter(tenant_id=w.tenant.pk).first(),
    }
    with tenant_transaction(w.tenant.pk):
        return by_model[model._meta.label_lower]()


def _run_of(w: TenantWorld):
    """A reconciliation run of tenant world `w` (made once, by its district staff)."""
    if getattr(w, "run", None) is None:
        from audits.reconciliation.services import reconciliation_run

        with tenant_transaction(w.tenant.pk):
            w.run, _created = reconciliation_run(actor=w.users[Role.DISTRICT_STAFF], semester=w.semester)
    return w.run


def _waiver_of(w: TenantWorld):
    """Tenant world `w`'s decision to approve the living subsidy without a budget (the factory's, or
    recorded again once the sweep withdrew it)."""
    from funding.models import BudgetWaiver
    from funding.services.budgets import budget_waiver_record

    with tenant_transaction(w.tenant.pk):
        found = BudgetWaiver.objects.filter(pk=w.budget_waiver.pk).first()
        if found is None:
            w.budget_waiver = found = budget_waiver_record(
                actor=w.users[Role.DISTRICT_STAFF], program=w.award.program, semester=w.semester, reason="专项"
            )
        return found


def _flag_of(w: TenantWorld):
    """Tenant world `w`'s risk flag on c1's first pupil (the factory's, or set again once the sweep cleared it)."""
    from care.models import RiskFlag, RiskKind
    from care.pairing.services import risk_flag_set

    with tenant_transaction(w.tenant.pk):
        found = RiskFlag.objects.filter(pk=w.flags["c1"].pk).first()
        if found is None:
            w.flags["c1"] = found = risk_flag_set(
                actor=w.users[Role.SCHOOL_OFFICER], student=w.students["c1"][0], kind=RiskKind.DISTANCE, note="again"
            )
        return found


def _token_of(w: TenantWorld):
    """An API token of tenant world `w`'s class teacher (issued once; a new one once it is revoked)."""
    from schools.models import ApiToken
    from schools.services import api_token_create

    token = getattr(w, "api_token", None)
    if token is None or not ApiToken.objects.filter(pk=token.pk).exists():
        w.api_token, _key = api_token_create(user=w.users[Role.CLASS_TEACHER], name=f"{w.marker} device")
    return w.api_token


def _snapshot_of(w: TenantWorld):
    """The report snapshot of tenant world `w` (tests/factories.py makes one per tenant)."""
    return w.snapshot


#: How to fill the parameters of each pattern that takes any, from one tenant's world.
PARAMS = {
    "schools:detail": lambda w: {"pk": w.schools["s1"].pk},
    "schools:job": lambda w: {"pk": w.job.pk},
    "schools:calendar_year": lambda w: {"year": 2026},  # the national calendar: global, the platform operator's
    "students:application": lambda w: {"pk": w.applications["c1"].pk},
    "students:application_decide": lambda w: {"pk": w.applications["c1"].pk},
    "students:application_details": lambda w: {"pk": w.applications["c1"].pk},
    "students:application_attach": lambda w: {"pk": w.applications["c1"].pk},
    "students:application_village": lambda w: {"pk": w.applications["c1"].pk},
    "students:adjustment_propose": lambda w: {"pk": w.applications["c1"].pk},
    "students:adjustment_decide": lambda w: {"pk": w.adjustment.pk},
    "students:attachment": lambda w: {"pk": w.attachment.pk},
    "students:application_new": lambda w: {"student_pk": w.students["c1"][0].pk},
    "students:publicity_new": lambda w: {"school_pk": w.schools["s1"].pk},
    "students:publicity": lambda w: {"pk": w.publicity.pk},
    "students:publicity_print": lambda w: {"pk": w.publicity.pk},
    "students:publicity_step": lambda w: {"pk": w.publicity.pk, "step": "sign"},
    "students:objection_new": lambda w: {"pk": w.publicity.pk},
    "students:publicity_record_held": lambda w: {"pk": w.publicity.pk},
    "students:objection_resolve": lambda w: {"pk": w.objection.pk},
    "public_notice": lambda w: {"district": w.tenant.slug, "token": w.publicity.notice_token},
    "public_notice_old_link": lambda w: {"token": w.publicity.notice_token},
    "application-detail": lambda w: {"pk": w.applications["c1"].pk},
    "application-decide": lambda w: {"pk": w.applications["c1"].pk},
    "application-details": lambda w: {"pk": w.applications["c1"].pk},
    "application-village": lambda w: {"pk": w.applications["c1"].pk},
    "application-attachments": lambda w: {"pk": w.applications["c1"].pk},
    "publicity-detail": lambda w: {"pk": w.publicity.pk},
    "publicity-sign": lambda w: {"pk": w.publicity.pk},
    "publicity-publish": lambda w: {"pk": w.publicity.pk},
    "publicity-objections": lambda w: {"pk": w.publicity.pk},
    "objection-resolve": lambda w: {"pk": w.objection.pk},
    "funding:award_list": lambda w: {"pk": w.award_list.pk},
    "award-list-detail": lambda w: {"pk": w.award_list.pk},
    "award-list-publish": lambda w: {"pk": w.award_list.pk},
    "award-list-approve": lambda w: {"pk": w.award_list.pk},
    "program-detail": lambda w: {"pk": w.award.program_id},
    "semester-detail": lambda w: {"pk": w.semester.pk},
    "award-detail": lambda w: {"pk": w.award.pk},
    "award-correct": lambda w: {"pk": w.award.pk},
    "batch-detail": lambda w: {"pk": w.batch.pk},
    "job-detail": lambda w: {"pk": w.job.pk},
    "batch-release": lambda w: {"pk": w.batch.pk},
    "batch-lines": lambda w: {"pk": w.batch.pk},
    "batch-roster": lambda w: {"pk": w.batch.pk},
    "batch-bank-return": lambda w: {"pk": w.batch.pk},
    "correction-decide": lambda w: {"pk": w.correction.pk},
    "funding:award_list_step": lambda w: {"pk": w.award_list.pk, "step": "publish"},
    "funding:award_remove": lambda w: {"pk": w.award.pk},
    "funding:emergency_approve": lambda w: {"pk": w.award.pk},
    "funding:emergency": lambda w: {"student_pk": w.students["c1"][0].pk},
    "funding:budget_adjust": lambda w: {"pk": w.budgets["s1"].pk},
    "funding:budget_waiver_withdraw": lambda w: {"pk": _waiver_of(w).pk},
    "budget-detail": lambda w: {"pk": w.budgets["s1"].pk},
    "budget-adjust": lambda w: {"pk": w.budgets["s1"].pk},
    "budget-waiver-withdraw": lambda w: {"pk": _waiver_of(w).pk},
    "disbursements:batch": lambda w: {"pk": w.batch.pk},
    "disbursements:batch_confirm": lambda w: {"pk": w.batch.pk, "school_pk": w.schools["s1"].pk},
    "disbursements:batch_release": lambda w: {"pk": w.batch.pk},
    "disbursements:roster": lambda w: {"pk": w.batch.pk},
    "disbursements:return_import": lambda w: {"pk": w.batch.pk},
    "disbursements:lines_exclude": lambda w: {"pk": w.batch.pk},
    "disbursements:correction_propose": lambda w: {"award_pk": w.award.pk},
    "disbursements:correction_decide": lambda w: {"pk": w.correction.pk},
    "disbursements:correction_reverse": lambda w: {"pk": w.correction.pk},
    "disbursements:recovery_record": lambda w: {"pk": w.recovery.pk},
    "disbursements:recovery_write_off": lambda w: {"pk": w.recovery.pk},
    "disbursements:letter_student": lambda w: {"student_pk": w.students["c1"][0].pk},
    "disbursements:letter_class": lambda w: {"class_pk": w.classes["c1"].pk},
    "students:detail": lambda w: {"pk": w.students["c1"][0].pk},
    "students:roster_report": lambda w: {"pk": w.job.pk},  # a job that is not an import: 404 for everyone
    "registry:report": lambda w: {"pk": w.job.pk},  # likewise
    "students:identification_migration_report": lambda w: {"pk": w.job.pk},  # likewise
    "reconciliation:run": lambda w: {"pk": _run_of(w).pk},
    "reconciliation:export": lambda w: {"pk": _run_of(w).pk},
    "reconciliation:omissions": lambda w: {"pk": _run_of(w).pk},
    "reconciliation:corrections": lambda w: {"pk": _run_of(w).pk},
    "students:reveal": lambda w: {"pk": w.students["c1"][0].pk, "field": "id_number"},
    "school-detail": lambda w: {"pk": w.schools["s1"].pk},
    "grade-detail": lambda w: {"pk": w.grades["g1"].pk},
    "class-detail": lambda w: {"pk": w.classes["c1"].pk},
    "student-detail": lambda w: {"pk": w.students["c1"][0].pk},
    "student-reveal": lambda w: {"pk": w.students["c1"][0].pk},
    "admin:auth_user_password_change": lambda w: {"id": w.users[Role.CLASS_TEACHER].pk},
    "schools:token_revoke": lambda w: {"pk": _token_of(w).pk},
    "care:attendance_class": lambda w: {"class_pk": w.classes["c1"].pk},
    "care:case": lambda w: {"pk": w.cases["c1"].pk},
    "care:case_transition": lambda w: {"pk": w.cases["c1"].pk},
    "care:case_step": lambda w: {"pk": w.cases["c1"].pk},
    "care:case_responsible": lambda w: {"pk": w.cases["c1"].pk},
    "care:case_notice": lambda w: {"pk": w.cases["c1"].pk, "level": 1},
    "care-case-detail": lambda w: {"pk": w.cases["c1"].pk},
    "care-case-transition": lambda w: {"pk": w.cases["c1"].pk},
    "care-case-steps": lambda w: {"pk": w.cases["c1"].pk},
    "care-case-responsibles": lambda w: {"pk": w.cases["c1"].pk},
    "care:visit_new": lambda w: {"student_pk": w.pairings["c1"].student_id},
    "care:risk_flag_set": lambda w: {"student_pk": w.students["c1"][0].pk},
    "care:risk_flag_clear": lambda w: {"pk": _flag_of(w).pk},
    "care:weekly_school": lambda w: {"school_pk": w.schools["s1"].pk},
    "care-weekly-return-detail": lambda w: {"pk": w.weekly_returns["s1"].pk},
    "oversight:report": lambda w: {"pk": _snapshot_of(w).pk},
    "oversight-report-detail": lambda w: {"pk": _snapshot_of(w).pk},
    "oversight:check": lambda w: {"pk": w.spot_check.pk},
    "oversight:check_record": lambda w: {"pk": w.check_line.pk},
    "oversight:follow_up_decide": lambda w: {"pk": w.follow_up.pk},
    "oversight:outreach_evidence": lambda w: {"pk": w.outreach["s1"].pk},
    "oversight:outreach_letter": lambda w: {"class_pk": w.classes["c1"].pk},
    "door:unlock": lambda w: {"pk": w.users[Role.CLASS_TEACHER].pk},
    "door:two_factor_reset": lambda w: {"pk": w.users[Role.CLASS_TEACHER].pk},
}

_ADMIN_OBJECT = re.compile(r"^admin:(?P<app>\w+?)_(?P<model>\w+)_(?P<view>change|history|delete)$")


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}:{p.namespace}" if namespace and p.namespace else (p.namespace or namespace)
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or "")
            yield prefix + str(p.pattern), name


def all_patterns() -> list[tuple[str, str]]:
    return list(_walk(get_resolver().url_patterns))


def url_for(name: str, w: TenantWorld) -> str | None:
    """The URL of pattern `name` naming rows of `w`, or None for patterns the sweep cannot fill."""
    if name in PARAMS:
        return reverse(name, kwargs=PARAMS[name](w))
    match = _ADMIN_OBJECT.match(name)
    if match:
        model = apps.get_model(match["app"], match["model"])
        return reverse(name, kwargs={"object_id": _first_of(model, w).pk})
    if name == "admin:app_list":
        return reverse(name, kwargs={"app_label": "schools"})
    if name == "admin:view_on_site":
        return None  # redirects to get_absolute_url, which no model defines
    try:
        return reverse(name)
    except Exception:
        return None


def test_every_url_is_swept(world):
    """Every pattern is either free of tenant data or fillable by the sweep."""
    unknown = []
    for route, name in all_patterns():
        if not name:
            continue  # admin's catch-all redirect to the change view
        if name in NO_TENANT_DATA:
            continue
        if url_for(name, world.a) is None and name != "admin:view_on_site":
            unknown.append((route, name))
    assert not unknown, f"add these endpoints to the isolation sweep: {unknown}"


def _markers(w: TenantWorld) -> list[str]:
    """Strings that appear only in tenant `w`'s data: its marker, row ids, usernames, ID numbers."""
    values = [w.marker, w.tenant.name, w.tenant.slug, str(w.job.pk), str(w.publicity.pk), str(w.objection.pk)]
    values += [str(a.pk) for a in w.applications.values()]
    values += [str(w.award.pk), str(w.batch.pk), str(w.line.pk), str(w.semester.pk), str(w.correction.pk)]
    values.append(str(_run_of(w).pk))
    values.append(str(_snapshot_of(w).pk))
    values += [str(w.spot_check.pk), str(w.check_line.pk), str(w.follow_up.pk)]
    values += [str(r.pk) for r in w.outreach.values()]
    values += [str(case.pk) for case in w.cases.values()]
    values += [str(p.pk) for p in w.pairings.values()] + [str(w.visit.pk)]
    values += [str(f.pk) for f in w.flags.values()]
    values += [str(weekly.pk) for weekly in w.weekly_returns.values()]
    for group in (w.schools, w.grades, w.classes):
        values += [str(obj.pk) for obj in group.values()]
    for student in w.all_students:
        values += [str(student.pk), student.id_number.reveal(), student.id_number.masked]
    for user in w.users.values():
        values += [str(user.pk), user.username]
    return values


def _request(client: Client, name: str, url: str):
    if name in POST_ONLY:
        return client.post(url)
    return client.get(url, {"page": 1} if name.endswith(("list", "changelist")) else None)


@pytest.mark.parametrize("role", list(Role))
def test_a_user_of_one_tenant_never_receives_another_tenants_rows(world, role):
    user: User = world.a.users[role]
    client = Client()
    client.force_login(user)
    theirs = _markers(world.b)
    requested = ""  # ids this client has put in URLs itself may be echoed back (a "not found" message)
    swept = 0
    for _route, name in all_patterns():
        if not name:
            continue
        for w, own in ((world.a, True), (world.b, False)):
            url = url_for(name, w)
            if url is None:
                continue
            response = _request(client, name, url)
            requested += url
            swept += 1
            assert response.status_code < 500, (name, url, response.status_code)
            raw = b"".join(response.streaming_content) if response.streaming else response.content
            body = raw.decode(errors="replace")
            leaked = [m for m in theirs if m in body and m not in requested]
            context = body[max(0, body.find(leaked[0]) - 120) : body.find(leaked[0]) + 300] if leaked else ""
            assert not leaked, f"{role} at {url} ({name}) received tenant B's {leaked[:3]}: {context}"
            if not own and name in PARAMS:
                # Someone else's row answers exactly like a row that does not exist.
                ids = ("pk", "id", "student_pk", "school_pk", "token", "award_pk", "class_pk")
                fake = {k: uuid.uuid4() if k in ids else v for k, v in PARAMS[name](w).items()}
                missing = reverse(name, kwargs=fake)
                assert response.status_code == _request(client, name, missing).status_code, (name, url)
                assert response.status_code in (302, 403, 404), (name, url, response.status_code)
    assert swept > 40


def test_views_and_api_read_tenant_rows_only_through_the_scoping_helper():
    """Static check: views, API views and admin never touch a manager except through visible_to(),
    nor a raw cursor; reads go through selectors and access helpers."""
    offenders = []
    for app in ("schools", "students", "funding", "disbursements", "care", "audits", "oversight", "config"):
        root = Path(settings.BASE_DIR) / app
        files = [
            *root.rglob("views.py"),  # the apps' sub-packages too (identification, roster, registry, …)
            *root.rglob("api.py"),
            *root.glob("api/*.py"),
            *root.glob("admin.py"),
            *root.glob("views/*.py"),
            *root.glob("site.py"),
        ]
        for path in files:
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and node.attr in (
                    "_base_manager",
                    "_default_manager",
                    "raw",
                ):
                    offenders.append(f"{path}:{node.lineno} .{node.attr}")
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Attribute)
                    and node.value.attr == "objects"
                    and node.attr != "visible_to"
                ):
                    offenders.append(f"{path}:{node.lineno} .objects.{node.attr}")
                if isinstance(node, ast.Attribute) and node.attr == "cursor":
                    offenders.append(f"{path}:{node.lineno} .cursor")
    assert not offenders, offenders


def test_api_token_requests_are_scoped_like_sessions(world):
    from schools.services import api_token_create

    _token, key = api_token_create(user=world.a.users[Role.DISTRICT_STAFF], name="sweep")
    client = Client()
    response = client.get("/api/v1/students/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    names = {row["name"] for row in response.json()["results"]}
    assert names == {s.name for s in world.a.all_students}
    response = client.get(f"/api/v1/students/{world.b.students['c1'][0].pk}/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 404


def test_login_with_the_test_password_works(world):
    assert Client().login(username=world.a.users[Role.CLASS_TEACHER].username, password=PASSWORD)


#: Every list page's filters, named with tenant world `w`'s rows. The sweep below sends another
#: tenant's: a filter is never a way into someone else's rows (issue 25, lists people can work with).
LIST_FILTERS = {
    "students:list": lambda w: {
        "q": w.students["c1"][0].id_number.reveal(), "school": w.schools["s1"].pk,
        "grade": w.grades["g1"].pk, "klass": w.classes["c1"].pk, "status": "ATTENDING",
    },
    "students:applications": lambda w: {
        "q": w.students["c1"][1].name, "school": w.schools["s1"].pk, "klass": w.classes["c1"].pk, "status": "review",
        "returned": "1", "academic_year": w.applications["c1"].academic_year,
    },
    "students:publicities": lambda w: {"q": "list", "school": w.schools["s1"].pk},
    "funding:award_lists": lambda w: {"school": w.schools["s1"].pk, "program": w.award.program.pk, "ended": "1"},
    "disbursements:batches": lambda w: {"kind": "FIRST", "status": "RELEASED", "program": w.award.program.pk,
                                        "line_status": "PAID", "semester": w.semester.pk},
    "disbursements:corrections": lambda w: {"q": w.students["c1"][0].name, "school": w.schools["s1"].pk,
                                            "program": w.award.program.pk, "recovery": "OPEN",
                                            "semester": w.semester.pk, "others": "1"},
    "schools:list": lambda w: {"q": w.marker, "township": "T1"},
    "care:cases": lambda w: {"q": w.students["c1"][0].name, "school": w.schools["s1"].pk, "klass": w.classes["c1"].pk,
                             "status": "open"},
    "care:watch": lambda w: {"q": w.students["c1"][0].name, "school": w.schools["s1"].pk, "klass": w.classes["c1"].pk,
                             "risk": "POVERTY"},
    "audits:list": lambda w: {"action": "care.dropoutcase.create", "object": w.cases["c1"].pk,
                              "since": "2026-01-01T00:00:00+08:00"},
    "registry:index": lambda w: {"q": "csv", "status": "CIVIL"},
    "reconciliation:runs": lambda w: {"semester": w.semester.pk},
}  # fmt: skip


def _body(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    if raw[:2] == b"PK":  # an export: the sheet's text
        import io
        import zipfile

        with zipfile.ZipFile(io.BytesIO(raw)) as book:
            return "".join(book.read(n).decode() for n in book.namelist() if n.startswith("xl/worksheets/"))
    return raw.decode(errors="replace")


@pytest.mark.parametrize("role", list(Role))
def test_list_filters_naming_another_tenants_rows_show_none_of_them(world, role):
    client = Client()
    client.force_login(world.a.users[role])
    theirs = _markers(world.b)
    for name, filters in LIST_FILTERS.items():
        for params in (filters(world.b), {**filters(world.b), "export": "xlsx", "sort": "-name"}):
            response = client.get(reverse(name), params)
            assert response.status_code < 500, (name, params, response.status_code)
            echoed = " ".join(str(v) for v in params.values())  # the search box shows what was asked
            body = _body(response)
            leaked = [m for m in theirs if m in body and m not in echoed]
            assert not leaked, f"{role} at {name} with {params} received tenant B's {leaked[:3]}"
            # The same filters of one's own tenant are valid (the sweep would not notice a page that
            # refuses every filter).
        if response.status_code == 200 and role == Role.DISTRICT_STAFF:
            own = client.get(reverse(name), filters(world.a))
            assert own.status_code == 200
    # A batch's lines (one's own batch), filtered by another tenant's school and program, and exported.
    batch = reverse("disbursements:batch", kwargs={"pk": world.a.batch.pk})
    for params in (
        {"school": world.b.schools["s1"].pk, "program": world.b.award.program.pk, "q": world.b.marker},
        {"q": world.b.students["c1"][0].name, "export": "xlsx"},
    ):
        response = client.get(batch, params)
        assert response.status_code < 500
        echoed = " ".join(str(v) for v in params.values())
        assert not [m for m in theirs if m in _body(response) and m not in echoed], (role, params)
    # A run's lists (one's own run), filtered by another tenant's school, and exported so.
    run = reverse("reconciliation:run", kwargs={"pk": _run_of(world.a).pk})
    export = reverse("reconciliation:export", kwargs={"pk": _run_of(world.a).pk})
    for url in (run, export):
        params = {"school": world.b.schools["s1"].pk, "kind": "OMISSION", "reason": "NOT_AWARDED"}
        response = client.get(url, params)
        assert response.status_code < 500
        body = _body(response)
        assert not [m for m in theirs if m in body and m not in str(params["school"])], (role, url)


def test_every_list_page_is_in_the_filter_sweep():
    """A page that builds a list through core.listing is swept with its filters."""
    from core.listing import ListFilterSet

    found = set()
    for app in ("schools", "students", "funding", "disbursements", "care", "audits"):
        module = __import__(f"{app}.filters", fromlist=["*"])
        found |= {
            obj.__name__
            for obj in vars(module).values()
            if isinstance(obj, type) and issubclass(obj, ListFilterSet) and obj is not ListFilterSet
        }
    swept = {
        "StudentListFilter", "ApplicationListFilter", "PublicityListFilter", "AwardListFilter", "BatchFilter",
        "CorrectionFilter", "RecoveryFilter", "SchoolFilter", "CaseFilter", "SnapshotFilter", "RunFilter",
        "FindingListFilter", "LineFilter", "EventFilter", "WatchFilter",
    }  # fmt: skip
    assert found == swept, f"add the new list's page and filters to LIST_FILTERS: {found - swept}"


#: What a region's oversight account (市/省) may open: pages with no tenant data, its own account's pages
#: (second factor, sessions; API tokens, which it is refused: they serve tenants), and its region's page.
REGION_OPEN = NO_TENANT_DATA | {
    "door:enrol", "door:security", "schools:tokens", "menu_counts", "oversight:region", "oversight-region",
}  # fmt: skip


def test_a_region_account_receives_no_tenant_row_anywhere(world):
    """The sweep, as a city's oversight account whose city holds district A (B is another city's): every
    page and endpoint of a tenant answers it 302, 403, 404 or 405; nowhere a row of A or B (a pupil, a
    school, an award, a user …), and B not even by name. Only its region's page answers, with A's
    aggregates."""
    from oversight.region.services import district_figures_rebuild
    from schools import services as school_services

    city = school_services.region_create(code="410600", name="甲市")
    school_services.tenant_region_set(tenant=world.a.tenant, region=city)
    account = school_services.region_account_create(region=city, username="city", password=PASSWORD, validate=False)
    district_figures_rebuild()
    client = Client()
    client.force_login(account)
    forbidden = [m for w in (world.a, world.b) for m in _markers(w) if m not in (world.a.marker, world.a.tenant.name)]
    requested = ""
    answered = set()
    swept = 0
    for _route, name in all_patterns():
        if not name:
            continue
        for w in (world.a, world.b):
            url = url_for(name, w)
            if url is None:
                continue
            response = _request(client, name, url)
            requested += url
            swept += 1
            assert response.status_code < 500, (name, url, response.status_code)
            body = _body(response)
            leaked = [m for m in forbidden if m in body and m not in requested]
            assert not leaked, f"the region account at {url} ({name}) received {leaked[:3]}"
            if response.status_code == 200:
                answered.add(name)
    assert answered <= REGION_OPEN, answered - REGION_OPEN
    assert {"oversight:region", "oversight-region"} <= answered
    assert swept > 40
    # Its page names its district (the aggregates are there), never the other city's.
    body = client.get(reverse("oversight:region")).content.decode()
    assert world.a.tenant.name in body
    assert world.b.tenant.name not in body
