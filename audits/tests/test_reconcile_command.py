"""manage.py reconcile: the semester named by its code or its id, the tenant's own only."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command


def test_the_command_reconciles_the_semester_its_code_names(world):
    out = io.StringIO()
    call_command("reconcile", "--tenant", world.a.tenant.slug, "--semester", "2026-AUTUMN", stdout=out)
    assert "\nrun " in out.getvalue()
    again = io.StringIO()
    call_command("reconcile", "--tenant", world.a.tenant.slug, "--semester", str(world.a.semester.pk), stdout=again)
    assert "nothing new written" in again.getvalue()  # the same semester, by its id


@pytest.mark.parametrize("which", ["unknown code", "other tenant's id"])
def test_the_command_refuses_a_semester_the_tenant_does_not_have(world, which):
    text = "2030-SPRING" if which == "unknown code" else str(world.b.semester.pk)
    with pytest.raises(CommandError, match=r"no semester .*this tenant has: 2026-AUTUMN"):
        call_command("reconcile", "--tenant", world.a.tenant.slug, "--semester", text, stdout=io.StringIO())
