"""The dashboard's figures (数据看板): for a chosen semester with the previous one beside it, each chart a
small table of labelled numbers, read set-based (a GROUP BY per chart and semester, never a query per
row) through the one scoping helper, so a school's officer and principal see their school's figures and
the district sees the district's. Every money figure comes from the maintained money summary
(`disbursements.summary`), computed by the statement of `disbursements.ledger.money_by` that the ledger
runs on the lines and kept equal to it in the transaction of every change: the two never disagree (the
tests compare them to the fen), and the page reads a few rows per school instead of every award and line.

The same figures, frozen, are a periodic report's snapshot (`oversight.services.report_generate`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from audits.models.reconciliation import Finding, ReasonCode, ReconciliationRun, RunStatus
from care.models import CaseStatus, DropoutCase
from care.pairing import selectors as pairing_selectors
from disbursements.batch_summary import batch_rows
from disbursements.models import (
    Batch,
    BatchKind,
    Correction,
    CorrectionKind,
    CorrectionStatus,
    Recovery,
    RecoveryStatus,
)
from disbursements.summary import summary_by
from funding.models import ZERO, Budget, Semester
from schools.models import Area, Stage
from schools.permissions import Action
from students.identification.summary import identified_counts
from students.models import HardshipCategory, Tier

from .models import ReportSnapshot


@dataclass
class Chart:
    """One chart and its table: `headers` name the label column and each series; `rows` are
    [label, value, …]; money values are strings with two decimals (exact), counts are ints."""

    key: str
    title: str
    kind: str  # "bar" or "pie"
    headers: list[str]
    rows: list[list[Any]]
    money: bool = False


@dataclass
class Dashboard:
    semester: str
    previous: str
    charts: list[Chart] = field(default_factory=list)

    def chart(self, key: str) -> Chart:
        return next(c for c in self.charts if c.key == key)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


MEASURES = ("approved", "paid", "failed", "recovered")


def _money(value: Decimal | None) -> str:
    return f"{(value or ZERO):.2f}"


def previous_semester(*, user: Any, semester: Semester, action: Action = Action.DASHBOARD_VIEW) -> Semester | None:
    """The semester before `semester` in the tenant (autumn → the spring before; spring → that autumn)."""
    earlier = Semester.objects.visible_to(user, action).filter(
        Q(academic_year__lt=semester.academic_year)
        | Q(academic_year=semester.academic_year, term__lt=semester.term)  # AUTUMN < SPRING
    )
    return earlier.order_by("-academic_year", "-term", "pk").first()


def _side_by_side(current: dict[Any, Any], previous: dict[Any, Any], labels: dict[Any, str]) -> list[list[Any]]:
    keys = [k for k in labels if k in current or k in previous]
    keys += sorted((k for k in {*current, *previous} if k not in labels), key=str)
    return [[labels.get(k, str(k) if k else "—"), current.get(k, 0), previous.get(k, 0)] for k in keys]


def _identified(*, user: Any, action: Action, semester: Semester | None) -> dict[str, dict[Any, int]]:
    """Pupils identified (认定通过) for the semester's academic year, counted by tier, category, stage,
    area and township: from the maintained summary (`students.identification.summary`), kept equal to
    the count over the applications."""
    if semester is None:
        return {k: defaultdict(int) for k in ("tier", "category", "stage", "area", "township")}
    return identified_counts(user=user, academic_year=semester.academic_year, action=action)


def _money_by_program(*, user: Any, action: Action, semester: Semester | None) -> dict[str, Any]:
    if semester is None:
        return {}
    groups = summary_by(user=user, semester=semester, by=("program__sort_order", "program__name"), action=action)
    budgets = {
        (row["program__sort_order"], row["program__name"]): row["quota"]
        for row in Budget.objects.visible_to(user, action)
        .filter(semester=semester)
        .order_by()
        .values("program__sort_order", "program__name")
        .annotate(quota=Sum(F("planned_amount") + F("adjustment")))
    }
    programs: dict[tuple, dict[str, Decimal]] = {}
    for key, quota in budgets.items():
        programs[key] = {"budget": quota or ZERO, "approved": ZERO, "paid": ZERO, "failed": ZERO, "recovered": ZERO}
    for g in groups:
        row = programs.setdefault(
            tuple(g.key), {"budget": ZERO, "approved": ZERO, "paid": ZERO, "failed": ZERO, "recovered": ZERO}
        )
        row.update(approved=g.approved, paid=g.paid, failed=g.failed, recovered=g.recovered)
    return dict(sorted(programs.items()))


def _batches(*, user: Any, action: Action, semester: Semester | None) -> list[list[Any]]:
    """Each batch of the semester: lines, lines paid and failed and their amounts, from the maintained
    batch summary (`disbursements.batch_summary`), kept equal to the GROUP BY over the lines."""
    if semester is None:
        return []
    kinds = dict(BatchKind.choices)
    numbers = {
        b["pk"]: (b["number"], b["kind"])
        for b in Batch.objects.visible_to(user, action).filter(semester=semester).values("pk", "number", "kind")
    }
    per = batch_rows(user=user, semester=semester, action=action)
    rows = []
    for pk, (number, kind) in sorted(numbers.items(), key=lambda item: item[1][0]):
        e = per.get(pk, {"lines": 0, "paid": 0, "failed": 0, "paid_amount": ZERO, "failed_amount": ZERO})
        label = _("Batch %(n)s (%(kind)s)") % {"n": number, "kind": kinds.get(kind, kind)}
        rows.append([label, e["lines"], e["paid"], e["failed"], _money(e["paid_amount"]), _money(e["failed_amount"])])
    return rows


def _open_corrections(*, user: Any, action: Action, semester: Semester | None) -> dict[str, Any]:
    """Corrections waiting for approval, by kind, and open recoveries (count and what is still owed)."""
    out: dict[str, Any] = {}
    if semester is None:
        return out
    for row in (
        Correction.objects.visible_to(user, action)
        .filter(award__semester=semester, status=CorrectionStatus.PROPOSED)
        .order_by()
        .values("kind")
        .annotate(n=Count("pk"))
    ):
        out[row["kind"]] = row["n"]
    rec = (
        Recovery.objects.visible_to(user, action)
        .filter(line__semester=semester, status=RecoveryStatus.OPEN)
        .aggregate(n=Count("pk"), owed=Sum(F("amount") - F("recovered_amount")))
    )
    out["RECOVERY_OPEN"] = rec["n"] or 0
    out["RECOVERY_OWED"] = _money(rec["owed"])
    return out


def _cases(*, user: Any, action: Action, semester: Semester | None) -> dict[str, int]:
    """Dropout cases opened during the semester, by their state now."""
    if semester is None:
        return {}
    return {
        row["status"]: row["n"]
        for row in DropoutCase.objects.visible_to(user, action)
        .filter(opened_on__gte=semester.starts_on, opened_on__lte=semester.ends_on)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
    }


def _findings(*, user: Any, action: Action, semester: Semester | None) -> dict[str, int]:
    """Findings of the semester's latest finished reconciliation run, by reason."""
    if semester is None:
        return {}
    latest = (
        ReconciliationRun.objects.visible_to(user, action)
        .filter(semester=semester, status=RunStatus.DONE)
        .aggregate(at=Max("finished_at"))["at"]
    )
    if latest is None:
        return {}
    run = (
        ReconciliationRun.objects.visible_to(user, action)
        .filter(semester=semester, status=RunStatus.DONE, finished_at=latest)
        .order_by("pk")
        .first()
    )
    return {
        row["reason"]: row["n"]
        for row in Finding.objects.visible_to(user, action)
        .filter(run=run)
        .order_by()
        .values("reason")
        .annotate(n=Count("pk"))
    }


def dashboard(*, user: Any, semester: Semester, action: Action = Action.DASHBOARD_VIEW) -> Dashboard:
    """The dashboard of `semester` and the one before it, as `user` may see it (`action` scopes every
    read: the dashboard's own, or a report's generation). A fixed number of grouped queries."""
    previous = previous_semester(user=user, semester=semester, action=action)
    board = Dashboard(semester=str(semester), previous=str(previous) if previous else "—")
    cur_label, prev_label = str(semester), board.previous
    side = [cur_label, prev_label]

    ident = _identified(user=user, action=action, semester=semester)
    ident_prev = _identified(user=user, action=action, semester=previous)
    names = dict(HardshipCategory.objects.values_list("code", "name"))
    names[""] = _("No special category")
    townships = {k: k or _("Township not recorded") for k in sorted({*ident["township"], *ident_prev["township"]})}
    for key, title, labels in (
        ("tier", _("Pupils identified, by tier"), dict(Tier.choices)),
        ("category", _("Pupils identified, by category"), names),
        ("stage", _("Pupils identified, by stage"), dict(Stage.choices)),
        ("area", _("Pupils identified, rural and urban"), dict(Area.choices)),
        ("township", _("Pupils identified, by township"), townships),
    ):
        labels = {k: str(v) for k, v in labels.items()}
        board.charts.append(
            Chart(
                key=f"identified_{key}",
                title=title,
                kind="pie" if key == "area" else "bar",
                headers=[_("Group"), *side],
                rows=_side_by_side(ident[key], ident_prev[key], labels),
            )
        )

    programs = _money_by_program(user=user, action=action, semester=semester)
    board.charts.append(
        Chart(
            key="money_by_program",
            title=_("Budget, approved, paid, failed and recovered by program (%(s)s)") % {"s": cur_label},
            kind="bar",
            headers=[_("Program"), _("Budget"), _("Approved"), _("Paid"), _("Failed"), _("Recovered")],
            rows=[
                [name, *(_money(v[m]) for m in ("budget", "approved", "paid", "failed", "recovered"))]
                for (_order, name), v in programs.items()
            ],
            money=True,
        )
    )
    # This semester's totals are the sum of its programs (exactly: money adds up); the previous one's
    # are one more ungrouped statement.
    totals: dict[str, Any] = {
        cur_label: {m: sum((v[m] for v in programs.values()), ZERO) for m in MEASURES},
        prev_label: dict.fromkeys(MEASURES, ZERO),
    }
    if previous is not None:
        for g in summary_by(user=user, semester=previous, action=action):
            totals[prev_label] = {m: getattr(g, m) for m in MEASURES}
    measures = (
        ("approved", _("Approved")),
        ("paid", _("Paid")),
        ("failed", _("Failed")),
        ("recovered", _("Recovered")),
    )
    board.charts.append(
        Chart(
            key="money_totals",
            title=_("Money, this semester and the previous one"),
            kind="bar",
            headers=[_("Measure"), *side],
            rows=[[str(label), *(_money(totals[s][m]) for s in side)] for m, label in measures],
            money=True,
        )
    )
    board.charts.append(
        Chart(
            key="batches",
            title=_("Batches and bank returns (%(s)s)") % {"s": cur_label},
            kind="bar",
            headers=[_("Batch"), _("Lines"), _("Paid"), _("Failed"), _("Paid amount"), _("Failed amount")],
            rows=_batches(user=user, action=action, semester=semester),
        )
    )
    corr, corr_prev = (
        _open_corrections(user=user, action=action, semester=semester),
        _open_corrections(user=user, action=action, semester=previous),
    )
    kinds = {k: str(v) for k, v in CorrectionKind.choices}
    board.charts.append(
        Chart(
            key="open_corrections",
            title=_("Open corrections and recoveries"),
            kind="bar",
            headers=[_("What"), *side],
            rows=[
                *(
                    [_("Waiting for approval: %(kind)s") % {"kind": label}, corr.get(k, 0), corr_prev.get(k, 0)]
                    for k, label in kinds.items()
                ),
                [_("Recoveries open"), corr.get("RECOVERY_OPEN", 0), corr_prev.get("RECOVERY_OPEN", 0)],
            ],
        )
    )
    board.charts.append(
        Chart(
            key="recoveries_owed",
            title=_("Still to recover"),
            kind="bar",
            headers=[_("What"), *side],
            rows=[
                [
                    _("Still to recover"),
                    corr.get("RECOVERY_OWED", _money(ZERO)),
                    corr_prev.get("RECOVERY_OWED", _money(ZERO)),
                ]
            ],
            money=True,
        )
    )
    board.charts.append(
        Chart(
            key="dropout_cases",
            title=_("Dropout cases opened in the semester, by state"),
            kind="bar",
            headers=[_("State"), *side],
            rows=_side_by_side(
                _cases(user=user, action=action, semester=semester),
                _cases(user=user, action=action, semester=previous),
                {k: str(v) for k, v in CaseStatus.choices},
            ),
        )
    )
    pairing = pairing_selectors.coverage_counts(user=user, action=action)
    board.charts.append(
        Chart(
            key="pairing_coverage",
            title=_("1+1 pairing: pupils who need a teacher, and those paired (now)"),
            kind="bar",
            headers=[_("What"), _("Now")],
            rows=[
                [_("Need a paired teacher"), pairing["needing"]],
                [_("Paired"), pairing["covered"]],
                [_("Not paired yet"), pairing["needing"] - pairing["covered"]],
            ],
        )
    )
    board.charts.append(
        Chart(
            key="findings",
            title=_("Reconciliation findings by reason (latest run)"),
            kind="bar",
            headers=[_("Reason"), *side],
            rows=_side_by_side(
                _findings(user=user, action=_findings_action(action), semester=semester),
                _findings(user=user, action=_findings_action(action), semester=previous),
                {k: str(v) for k, v in ReasonCode.choices},
            ),
        )
    )
    board.charts.extend(_checks_and_outreach(user=user, action=action, semester=semester, previous=previous))
    return board


def _checks_and_outreach(*, user: Any, action: Action, semester: Semester, previous: Semester | None) -> list[Chart]:
    """The post-payment checks (回访: progress per school, results) and the outreach coverage (宣传: schools
    that did each kind). Three grouped statements."""
    from .checks.selectors import dashboard_rows
    from .outreach.models import OutreachKind
    from .outreach.selectors import schools_covered

    side = [str(semester), str(previous) if previous else "—"]
    progress, results = dashboard_rows(user=user, semester=semester, previous=previous, action=action)
    covered = schools_covered(user=user, semesters=[s for s in (semester, previous) if s], action=action)
    return [
        Chart(
            key="checks_progress",
            title=_("Post-payment checks: lines checked per school (%(s)s)") % {"s": side[0]},
            kind="bar",
            headers=[_("School"), _("Checked"), _("Sampled")],
            rows=progress,
        ),
        Chart(
            key="checks_results",
            title=_("Post-payment checks: results"),
            kind="bar",
            headers=[_("Result"), *side],
            rows=results if any(any(r[1:]) for r in results) else [],
        ),
        Chart(
            key="outreach_coverage",
            title=_("Policy outreach: schools that did each kind"),
            kind="bar",
            headers=[_("Kind"), *side],
            rows=[
                [str(label), *(covered.get(s.pk, {}).get(kind, 0) if s else 0 for s in (semester, previous))]
                for kind, label in OutreachKind.choices
            ],
        ),
    ]


def _findings_action(action: Action) -> Action:
    # The reconciliation's lists are the district's: on the dashboard only those who may read them see
    # their counts (a school's officer sees none); a report's generation reads them for the district.
    return Action.RECONCILIATION_VIEW if action == Action.DASHBOARD_VIEW else action


def snapshot_list(*, user: Any) -> QuerySet[ReportSnapshot]:
    """The district's report snapshots, newest first."""
    return (
        ReportSnapshot.objects.visible_to(user)
        .select_related("semester", "generated_by")
        .order_by("-period_end", "kind", "-created_at", "pk")
    )


@dataclass
class ComparedRow:
    label: str
    cells: list[tuple[Any, Any]]  # (snapshot, live) per column

    @property
    def differs(self) -> bool:
        return any(a != b for a, b in self.cells)


@dataclass
class ComparedChart:
    key: str
    title: str
    headers: list[str]
    rows: list[ComparedRow]

    @property
    def differs(self) -> bool:
        return any(r.differs for r in self.rows)


def snapshot_compare(*, user: Any, snapshot: ReportSnapshot) -> list[ComparedChart]:
    """A snapshot's figures beside the same figures computed now (for the auditor: what changed since)."""
    live = dashboard(user=user, semester=snapshot.semester)
    live_charts = {c.key: c for c in live.charts}
    compared = []
    for chart in snapshot.figures.get("charts", []):
        now = live_charts.get(chart["key"])
        now_rows = {str(r[0]): r[1:] for r in now.rows} if now else {}
        labels = [str(r[0]) for r in chart["rows"]] + [
            k for k in now_rows if k not in {str(r[0]) for r in chart["rows"]}
        ]
        then_rows = {str(r[0]): r[1:] for r in chart["rows"]}
        width = len(chart["headers"]) - 1
        rows = [
            ComparedRow(
                label=label,
                cells=[
                    (
                        (then_rows.get(label) or [None] * width)[i],
                        (now_rows.get(label) or [None] * width)[i]
                        if i < len(now_rows.get(label) or [None] * width)
                        else None,
                    )
                    for i in range(width)
                ],
            )
            for label in labels
        ]
        compared.append(ComparedChart(key=chart["key"], title=chart["title"], headers=chart["headers"], rows=rows))
    return compared
