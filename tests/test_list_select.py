"""The filter bar's selects are drawn by `core/forms/select.html` (the options inline, no include per
option) with exactly the markup of Django's own select: plain, selected, grouped and multiple."""

from __future__ import annotations

from django import forms

from core.listing import INLINE_SELECT

CHOICES = [("", "全部"), ("A", [("1", "一小"), ("2", "二小 & <三小>")]), ("3", "中学")]


class Choosing(forms.Form):
    one = forms.ChoiceField(choices=CHOICES, required=False)
    many = forms.MultipleChoiceField(choices=CHOICES[1:], required=False)


def _drawn(data: dict, *, inline: bool) -> str:
    form = Choosing(data)
    if inline:
        for field in form.fields.values():
            field.widget.template_name = INLINE_SELECT
    return str(form["one"]) + str(form["many"])


def test_the_inline_select_draws_djangos_markup_byte_for_byte():
    for data in ({}, {"one": "2", "many": ["1", "3"]}, {"one": "3"}):
        assert _drawn(data, inline=True) == _drawn(data, inline=False)
    assert 'value="2" selected>二小 &amp; &lt;三小&gt;</option>' in _drawn({"one": "2"}, inline=True)


def test_a_list_filter_draws_its_selects_inline(world, tenant_of):
    from disbursements.filters import CorrectionFilter
    from disbursements.models import Correction
    from schools.permissions import Role

    user = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        filterset = CorrectionFilter({}, Correction.objects.visible_to(user), user=user)
        assert filterset.form.fields["school"].widget.template_name == INLINE_SELECT
        assert filterset.form.fields["kind"].widget.template_name == INLINE_SELECT
        assert 'class="form-select form-select-sm"' in str(filterset.form["school"])
