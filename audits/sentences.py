"""The audit trail read as sentences (issue 25, item 7): "陈主任 导入了 部门名单（民政低保名单.csv，1,204 行）".

One mapping from an action code to what it means (`PHRASES`), in the reader's language through
gettext; the codes a model's save writes by itself (`<app>.<model>.create|update|delete`) read as
"created / changed / deleted <the model's verbose name>"; codes built at run time (a correction's
kind, a case's transition, a job's kind) by their prefix (`FAMILIES`). No code, model label or Python
value is shown to the reader: the details are the changed fields by their verbose names.
`audits/tests/test_sentences.py` finds every code the code base writes and asks for its sentence.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

#: action code → what the actor did (a verb phrase: "imported a department's list").
PHRASES: dict[str, str | Promise] = {
    "admin.import": _("imported reference data"),
    "api_token.create": _("created an API token"),
    "api_token.revoke": _("revoked an API token"),
    "application.decision": _("decided on a hardship application"),
    "application.nominate": _("nominated a pupil for hardship identification"),
    "application.approve": _("approved a hardship application"),
    "application.class_approve": _("passed a hardship application in the class evaluation"),
    "application.class_reject": _("turned down a hardship application in the class evaluation"),
    "application.grade_approve": _("approved a hardship application at the grade"),
    "application.grade_return": _("returned a hardship application to the class"),
    "application.grade_reject": _("rejected a hardship application at the grade"),
    "application.school_approve": _("approved a hardship application at the school"),
    "application.school_return": _("returned a hardship application to the grade"),
    "application.school_reject": _("rejected a hardship application at the school"),
    "application.district_approve": _("identified a pupil at the district's re-check"),
    "application.district_return": _("returned a hardship application to the school"),
    "application.district_reject": _("rejected a hardship application at the district's re-check"),
    "application.return_back": _("returned a hardship application"),
    "application.reject": _("rejected a hardship application"),
    "application.withdraw": _("withdrew a hardship application"),
    "application.migrate": _("brought in an identification from earlier records"),
    "application.objection_upheld": _("upheld an objection to a hardship application"),
    "application.publicity_passed": _("closed the publicity of a hardship application"),
    "application.publish": _("published a hardship application"),
    "application.record_details": _("recorded the details of a hardship application"),
    "application.tier_adjusted": _("adjusted a pupil's hardship tier"),
    "application.village_confirm": _("recorded the village committee's confirmation"),
    "award.emergency_approve": _("approved emergency aid"),
    "award.emergency_propose": _("proposed emergency aid"),
    "award.propose": _("put pupils on an award list"),
    "award.remove": _("removed a pupil from an award list"),
    "award.stop": _("stopped an award"),
    "award.reinstate": _("reinstated an award"),
    "award_list.approve": _("approved an award list"),
    "award_list.publish": _("published an award list"),
    "award_list.reopen_for_omissions": _("reopened an award list for omitted pupils"),
    "batch.build": _("built a payment batch"),
    "batch.close": _("closed a payment batch"),
    "batch.release": _("released a payment batch to the bank"),
    "batch.confirm": _("confirmed the pupils of a payment batch"),
    "budget.adjust": _("adjusted a school's budget"),
    "budget.compute": _("computed the budgets"),
    "budget.waive": _("allowed approval without a budget"),
    "budget.waive_withdraw": _("withdrew the approval without a budget"),
    "calendar.load": _("loaded the official holidays"),
    "calendar.missing": _("found the official holidays of a year missing"),
    "care.attendance_record": _("recorded a class's absences"),
    "care.attendance_replace": _("corrected a class's absences"),
    "care.case_open": _("opened an absence case"),
    "care.case_extend": _("extended an absence case"),
    "care.case_suspect": _("marked a suspected dropout"),
    "care.case_back_in_class": _("recorded a pupil back in class"),
    "care.case_step": _("recorded a step of a dropout case"),
    "care.responsible_set": _("named a person responsible for a dropout case"),
    "correction.propose_reverse": _("proposed reversing a correction"),
    "demo.advance": _("moved the demo's clock on"),
    "finding.act": _("acted on a reconciliation finding"),
    "identification.migration_upload": _("uploaded earlier identification records"),
    "identification.migrate_import": _("imported earlier identification records"),
    "job.claim": _("started a background job"),
    "job.fail": _("recorded a failed background job"),
    "job.finish": _("finished a background job"),
    "job.resend": _("sent a stalled background job again"),
    "line.exclude": _("left a payment line out of a batch"),
    "line.remove": _("removed a payment line"),
    "line.return": _("recorded the bank's return of a payment line"),
    "objection.upheld": _("upheld an objection"),
    "payments.export": _("exported a payment roster for the bank"),
    "pii.view": _("viewed a full ID number"),
    "publicity.close": _("closed a publicity list"),
    "publicity.notice": _("posted a public notice"),
    "publicity.publish": _("published a publicity list"),
    "publicity.record_held": _("recorded a publicity held on paper"),
    "publicity.sign": _("signed a publicity list"),
    "crossdistrict.pass": _("recorded the platform's matching across districts"),
    "reconciliation.run": _("ran a reconciliation"),
    "region.view": _("read the district's figures as the city's or province's oversight"),
    "region.account_create": _("gave the city or province an account that reads the district's figures"),
    "tenant.region_set": _("placed the district in a city or province"),
    "recovery.record": _("recorded a recovered amount"),
    "recovery.write_off": _("wrote off a recovery"),
    "registry.import": _("imported a department's list"),
    "registry.import_counted": _("compared a department's list with the previous one"),
    "registry.mapping_save": _("saved the columns of a department's list"),
    "registry.upload": _("uploaded a department's list"),
    "role.grant": _("gave a role"),
    "role.revoke": _("took back a role"),
    "roster.upload": _("uploaded a roster"),
    "semester.reopen": _("reopened a semester's lists"),
    "student.status_change": _("changed a pupil's enrollment status"),
    "students.student.import_create": _("registered a pupil from a roster"),
    "students.student.import_update": _("updated a pupil from a roster"),
    "tenant.create": _("created the district"),
    "tenant.update": _("changed the district's settings"),
    "tier.adjust_approve": _("approved a tier adjustment"),
    "user.create": _("created an account"),
    "user.update": _("changed an account"),
    "user.password_change": _("changed their password"),
    # The door (schools.door): sign-in, lockout, the second factor, sessions.
    "user.sign_in_failed": _("failed to sign in"),
    "user.lockout": _("was locked out after repeated failed sign-ins"),
    "user.unlock": _("unlocked an account"),
    "user.password_set": _("set an account's password"),
    "user.two_factor_enrol": _("enrolled an authenticator app"),
    "user.two_factor_failed": _("entered a wrong verification code"),
    "user.two_factor_reset": _("reset an account's second factor"),
    "user.recovery_code_used": _("signed in with a recovery code"),
    "user.recovery_codes_replace": _("made new recovery codes"),
    "user.session_timeout": _("was signed out after a period of inactivity"),
    "user.sign_out_everywhere": _("signed out on every device"),
    # Care: 1+1 pairing, the watch list, the weekly return.
    "care.pairing_assign": _("paired a teacher with pupils"),
    "care.pairing_end": _("ended a pairing"),
    "care.risk_flag_set": _("put a pupil on the watch list"),
    "care.risk_flag_clear": _("took a pupil off the watch list"),
    "care.weekly_return_submit": _("submitted a school's weekly dropout return"),
    "care.weekly_return_remind": _("reminded a school of its weekly dropout return"),
    "visit.record_identification": _("recorded the home visit of a nomination"),
    "visit.record_pairing": _("recorded a paired teacher's home visit"),
    # Oversight: post-payment checks (回访) and policy outreach (宣传).
    "spotcheck.draw": _("drew a sample of a paid batch for post-payment checks"),
    "spotcheck.record": _("recorded a post-payment check with a family"),
    "spotcheck.complete": _("finished a post-payment check sample"),
    "spotcheck.resolve": _("settled a post-payment discrepancy"),
    "spotcheck.correct": _("proposed a correction for a post-payment discrepancy"),
    "outreach.record": _("recorded policy outreach"),
}

#: Codes made at run time, by prefix: the rest of the code is a kind or a transition's name.
FAMILIES: dict[str, str | Promise] = {
    "application.": _("moved a hardship application on"),
    "correction.propose_": _("proposed a correction"),
    "correction.approve_": _("approved a correction"),
    "correction.reject_": _("rejected a correction"),
    "care.case_": _("moved a dropout case on"),
    "care.step_": _("recorded a step of a dropout case"),
    "job.start.": _("started a background job"),
    "visit.record_": _("recorded a home visit"),
}

VERBS: dict[str, str | Promise] = {
    "create": _("created %(thing)s"),
    "update": _("changed %(thing)s"),
    "delete": _("deleted %(thing)s"),
}

#: What an event's `after` may say about its object, shown in brackets after the sentence.
_NAMED = ("file_name", "name", "title", "username")
_COUNTED = ("rows", "kept", "total", "count", "lines", "created")


def _model_phrase(code: str) -> str | None:
    """`students.student.create` → "created pupil" (the model's verbose name); None if not a model."""
    app_model, _sep, verb = code.rpartition(".")
    if verb not in VERBS or app_model.count(".") != 1:
        return None
    try:
        model = apps.get_model(app_model)
    except (LookupError, ValueError):
        return None
    return str(VERBS[verb]) % {"thing": model._meta.verbose_name}


def action_phrase(code: str) -> str:
    """What an action code means, in the active language; never the code itself."""
    return _action_phrase(code, get_language())


@functools.lru_cache(maxsize=2048)
def _action_phrase(code: str, language: str | None) -> str:
    # Kept per code and language: a page of the trail names the same few actions fifty times over, and
    # its filter lists every action the district has; the words change only with a new release.
    if code in PHRASES:
        return str(PHRASES[code])
    if (phrase := _model_phrase(code)) is not None:
        return phrase
    for prefix, family in sorted(FAMILIES.items(), key=lambda kv: -len(kv[0])):
        if code.startswith(prefix):
            return str(family)
    return gettext("recorded a change")


def has_sentence(code: str) -> bool:
    """True if the code has its own words (not the catch-all "recorded a change")."""
    return code in PHRASES or _model_phrase(code) is not None or any(code.startswith(p) for p in FAMILIES)


@dataclass
class Detail:
    label: str
    before: str
    after: str


@dataclass
class Sentence:
    who: str
    what: str
    about: str  # the object named and counted, "" if the event says nothing of it
    details: list[Detail]


#: A detail's value is cut to this many characters (a whole imported row, a long reason).
DETAIL_CHARS = 200


def _short(text: str) -> str:
    # Here rather than the template's truncatechars, whose per-character scan was a tenth of the page.
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"


def _value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, int | float):
        return number_format(value, force_grouping=True)
    if isinstance(value, list):
        return "、".join(_value(v) for v in value[:10]) + ("…" if len(value) > 10 else "")
    if isinstance(value, dict):
        return "；".join(f"{k}: {_value(v)}" for k, v in list(value.items())[:6])
    return str(value)


def _field_label(object_type: str, name: str) -> str:
    return _field_label_in(object_type, name, get_language())


@functools.lru_cache(maxsize=4096)
def _field_label_in(object_type: str, name: str, language: str | None) -> str:
    try:
        field = apps.get_model(object_type)._meta.get_field(name)
        return str(getattr(field, "verbose_name", None) or name.replace("_", " "))
    except (LookupError, ValueError, FieldDoesNotExist):  # a computed key (counts, a file's hash)
        return name.replace("_", " ")


def sentence(event: Any) -> Sentence:
    """One event as its reader says it: who, what, about what (named and counted), and the changes."""
    after = event.after if isinstance(event.after, dict) else {}
    before = event.before if isinstance(event.before, dict) else {}
    named = next((str(after[k]) for k in _NAMED if after.get(k)), "")
    counted = next((after[k] for k in _COUNTED if isinstance(after.get(k), int)), None)
    about = named
    if counted is not None:
        rows = gettext("%(n)s rows") % {"n": number_format(counted, force_grouping=True)}
        about = f"{named}，{rows}" if named else rows
    keys = [k for k in (*after.keys(), *(k for k in before if k not in after)) if k not in ("id", "tenant")]
    details = [
        Detail(
            _field_label(event.object_type, k),
            _short(_value(before.get(k))) if before else "",
            _short(_value(after.get(k))),
        )
        for k in keys[:20]
    ]
    return Sentence(
        who=event.actor_label or gettext("the system"), what=action_phrase(event.action), about=about, details=details
    )
