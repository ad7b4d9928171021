"""The kernel floor: what it promises the apps above it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from core import authz
from core.audit.models import AuditEvent
from core.money import format_money, to_money
from schools import permissions


def test_the_permission_module_is_the_installed_policy():
    assert authz._policy is permissions


def test_a_missing_policy_is_refused_not_allowed(monkeypatch):
    monkeypatch.setattr(authz, "_policy", None)
    with pytest.raises(ImproperlyConfigured):
        authz.can(object(), permissions.Action.AUDIT_VIEW)
    with pytest.raises(ImproperlyConfigured):
        authz.scope_q(object(), permissions.Action.AUDIT_VIEW, AuditEvent)


def test_the_audit_tables_view_action_is_the_permission_modules():
    # Spelt as a string in the kernel, which imports no app: it must stay the same action.
    assert AuditEvent.view_action == permissions.Action.AUDIT_VIEW
    assert permissions.Action(AuditEvent.view_action) is permissions.Action.AUDIT_VIEW


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, "0.00"),
        (Decimal("1.005"), "1.01"),  # half up, as banks round: not half even (1.00)
        (Decimal("2.5"), "2.50"),
        (1500, "1500.00"),
        (0.1 + 0.2, "0.30"),  # SQLite's float of a stored amount: read by its text, not its binary value
        ("37.495", "37.50"),
    ],
)
def test_one_rounding_for_every_amount(raw, expected):
    assert to_money(raw) == Decimal(expected)
    assert str(to_money(raw)) == expected


def test_amounts_are_shown_with_two_decimals_and_thousands_separated():
    assert format_money(Decimal("1234567.5")) == "1,234,567.50"
    assert format_money(None) == "0.00"


def test_the_money_filter_formats_whatever_a_query_returned():
    from django.template import Context, Template

    page = Template("{% load money %}{{ a|money }} {{ b|money }} {{ c|money }} {{ d|money }}")
    assert page.render(Context({"a": 500, "b": 1234.5, "c": None, "d": Decimal("7")})) == "500.00 1,234.50 0.00 7.00"
