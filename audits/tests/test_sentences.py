"""The audit trail as sentences (issue 25, item 7): every action code the code base writes has words of
its own, and the page shows sentences, never codes, model labels or Python values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.test import Client
from django.utils import translation

from audits.models import AuditEvent
from audits.sentences import FAMILIES, action_phrase, has_sentence
from core.tenancy.models import TenantModel
from schools.permissions import Role

ROOT = Path(__file__).resolve().parents[2]
APPS = ("core", "schools", "students", "funding", "disbursements", "care", "audits", "config", "demo")
#: Where a code is written: trail.labelled("…"), trail.record(action="…"), an AUDIT_ACTION constant, a
#: (label, rows) pair handed to labelled(), and the f-strings whose prefix FAMILIES names.
LITERAL = re.compile(r"""(?:labelled\(\s*|action\s*=\s*|_ACTION\s*=\s*|\(\s*)"([a-z_]+\.[a-z_.]+)\"""")
FSTRING = re.compile(r"""labelled\(\s*f"([a-z_]+\.[a-z_.]*)\{""")


def _sources():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "tests" not in path.parts and "migrations" not in path.parts:
                yield path


def written_codes() -> tuple[set[str], set[str]]:
    codes: set[str] = set()
    prefixes: set[str] = set()
    for path in _sources():
        text = path.read_text()
        if "labelled" not in text and "record(" not in text and "_ACTION" not in text and "action=" not in text:
            continue
        loggers = set(re.findall(r'getLogger\("([^"]+)"\)', text))  # a logger's name is no action code
        codes |= {c for c in LITERAL.findall(text) if not c.endswith(".py") and "." in c and c not in loggers}
        prefixes |= set(FSTRING.findall(text))
    return codes, prefixes


def test_the_scan_finds_the_codes_it_must():
    codes, prefixes = written_codes()
    assert {"registry.import", "batch.build", "pii.view", "care.case_suspect"} <= codes
    assert {"correction.propose_", "care.case_", "job.start."} <= prefixes


def test_every_action_code_the_code_base_writes_has_a_sentence():
    codes, prefixes = written_codes()
    missing = sorted(c for c in codes if not has_sentence(c))
    assert not missing, missing
    # A code built at run time: its prefix is a family, or the start of families that spell it out
    # ("correction." + approve_/reject_ …).
    unnamed = sorted(p for p in prefixes if not any(f.startswith(p) for f in FAMILIES))
    assert not unnamed, unnamed


def test_every_tenant_model_reads_as_created_changed_deleted():
    for model in apps.get_models():
        if issubclass(model, TenantModel):
            for verb in ("create", "update", "delete"):
                code = f"{model._meta.label_lower}.{verb}"
                assert has_sentence(code), code
                assert model._meta.label_lower not in action_phrase(code)


def test_a_sentence_is_in_the_readers_language():
    with translation.override("zh-hans"):
        assert action_phrase("registry.import") == "导入了部门名单"
    with translation.override("en"):
        assert action_phrase("registry.import") == "imported a department's list"
    assert action_phrase("no.such.code") != "no.such.code"


@pytest.mark.django_db
def test_the_audit_page_shows_sentences_and_no_internal_values(world, tenant_of):
    client = Client()
    client.force_login(world.a.users[Role.DISTRICT_AUDITOR])
    page = client.get("/audit/").content.decode()
    with tenant_of(world.a.tenant):
        events = list(AuditEvent.objects.order_by("-seq")[:50])
    assert events
    assert 'data-testid="event"' in page
    assert "<details" in page
    for e in events:
        assert f"<code>{e.action}</code>" not in page
        assert f">{e.object_type}<" not in page
    assert "{'" not in page
    assert "&#x27;:" not in page


def test_a_long_value_is_cut_to_two_hundred_characters_and_says_so():
    """A detail shows at most DETAIL_CHARS characters of a value (an imported row, a long reason), the
    cut marked with an ellipsis; a short value is shown whole."""
    from types import SimpleNamespace

    from audits.sentences import DETAIL_CHARS, sentence

    long_reason = "家庭经济困难" * 100
    event = SimpleNamespace(
        object_type="students.student",
        actor_label="陈主任",
        action="students.student.update",
        before={"name": "张三"},
        after={"name": "李四", "reason": long_reason},
    )
    details = {d.label: d for d in sentence(event).details}
    shown = next(d for d in details.values() if d.after.startswith("家庭经济困难"))
    assert len(shown.after) == DETAIL_CHARS
    assert shown.after.endswith("…")
    assert long_reason.startswith(shown.after[:-1])
    named = next(d for d in details.values() if d.after == "李四")
    assert named.before == "张三"
