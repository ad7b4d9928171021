"""Sheets the admin imports and exports (django-import-export): schools (学校) and classes (班级), and
the pieces the funding app's sheets share.

Every sheet is read on a user's behalf: the rows it updates and every row it links to (a school named
by its code, a program, a semester) are looked up through `visible_to(user, action)`, so a code of
another district reads exactly like a code that does not exist. Cells may hold a choice's code or its
Chinese label (农村 / RURAL); lists take codes or labels separated by commas or 、. A bad cell is a row
error with a message, never an exception: the import is all-or-nothing (IMPORT_EXPORT_USE_TRANSACTIONS
and `rollback_on_validation_errors`, see ScopedImportExportMixin in schools.admin).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import MultipleObjectsReturned, ObjectDoesNotExist, ValidationError
from django.db.models import Model, QuerySet
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import resources, widgets
from import_export.fields import Field

from core.audit import trail
from schools import services
from schools.models import Area, Grade, School, SchoolClass, Stage
from schools.permissions import Action

Choices = Iterable[tuple[str, Any]] | Callable[[], Iterable[tuple[str, Any]]]

#: Separators of a list cell: commas (also full-width), 、 and semicolons.
LIST_SEPARATORS = re.compile(r"[,，、;；]")


def cell_text(value: Any) -> str:
    """A cell as text: spreadsheets store a code such as 4106220001 as a number (sometimes a float)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class TextWidget(widgets.CharWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        return cell_text(value)


class ChoiceWidget(widgets.Widget):
    """A choice by its code (any case) or its label, in Chinese or English; exported as the label."""

    def __init__(self, choices: Choices) -> None:
        super().__init__()
        self.choices = choices

    def _choices(self) -> list[tuple[str, Any]]:
        return list(self.choices() if callable(self.choices) else self.choices)

    def lookup(self) -> dict[str, str]:
        names: dict[str, str] = {}
        choices = self._choices()
        for language in ("en", "zh-hans"):  # the shipped languages (settings.LANGUAGES)
            with translation.override(language):
                names.update({str(label).strip().casefold(): code for code, label in choices})
        names.update({str(code).casefold(): code for code, _label in choices})
        return names

    def clean_one(self, text: str, names: dict[str, str]) -> str:
        try:
            return names[text.casefold()]
        except KeyError:
            known = "、".join(str(label) for _code, label in self._choices())
            raise ValueError(
                gettext("“%(value)s” is not one of: %(choices)s.") % {"value": text, "choices": known}
            ) from None

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = cell_text(value)
        return self.clean_one(text, self.lookup()) if text else ""

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return str(dict(self._choices()).get(value, value or ""))


class ChoiceListWidget(ChoiceWidget):
    """A list of choices (a JSON list of codes) from codes or labels separated by , or 、."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> list[str]:
        names = self.lookup()
        codes: list[str] = []
        for part in LIST_SEPARATORS.split(cell_text(value)):
            if part.strip():
                code = self.clean_one(part.strip(), names)
                if code not in codes:
                    codes.append(code)
        return codes

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        labels = dict(self._choices())
        return "、".join(str(labels.get(code, code)) for code in value or [])


class YesNoWidget(widgets.Widget):
    """是/否, yes/no, 1/0, true/false; anything else is an error (import-export's BooleanWidget reads
    any unknown word as False)."""

    TRUE = frozenset({"1", "true", "yes", "y", "是", "√", "✓"})
    FALSE = frozenset({"0", "false", "no", "n", "否", "×", "✗"})

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> bool | None:
        if isinstance(value, bool):
            return value
        text = cell_text(value).casefold()
        if not text:
            return None
        if text in self.TRUE or text == gettext("Yes").casefold():
            return True
        if text in self.FALSE or text == gettext("No").casefold():
            return False
        raise ValueError(gettext("“%(value)s” is not yes (是) or no (否).") % {"value": cell_text(value)})

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else gettext("Yes") if value else gettext("No")


class WholeNumberWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> int | None:
        text = cell_text(value)
        if not text:
            return None
        try:
            number = Decimal(text)
            if number != number.to_integral_value():
                raise InvalidOperation
        except InvalidOperation:
            raise ValueError(gettext("“%(value)s” is not a whole number.") % {"value": text}) from None
        return int(number)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        return value


class AmountWidget(widgets.Widget):
    """Yuan as a Decimal (never a float); the model's validators check the range and the fen."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Decimal | None:
        text = cell_text(value).replace(",", "")
        if not text:
            return None
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueError(gettext("“%(value)s” is not an amount.") % {"value": text}) from None
        if not amount.is_finite():
            raise ValueError(gettext("“%(value)s” is not an amount.") % {"value": text})
        return amount

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else str(value)


class ScopedForeignKeyWidget(widgets.ForeignKeyWidget):
    """A related row named by a code, looked up only among the rows the importing user may act on:
    another tenant's code and an unknown code get the same message."""

    def __init__(self, model: type[Model], field: str, *, not_found: str) -> None:
        super().__init__(model, field=field)
        self.not_found = not_found
        self.user: Any = None
        self.action: Action | None = None

    def scope_to(self, user: Any, action: Action) -> None:
        self.user, self.action = user, action

    def get_queryset(self, value: Any, row: Any, *args: Any, **kwargs: Any) -> QuerySet:
        if self.user is None:
            return self.model.objects.none()
        return self.model.objects.visible_to(self.user, self.action)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        text = cell_text(value)
        if not text:
            return None
        try:
            return self.get_queryset(text, row).get(**{self.field: text})
        except (ObjectDoesNotExist, MultipleObjectsReturned):
            raise ValueError(str(self.not_found) % {"value": text}) from None


class ScopedResource(resources.ModelResource):
    """A sheet read and written on behalf of `user`: the rows it may update and the rows it links to are
    those `visible_to(user, manage_action)`. Nothing is written in bulk (TenantModel.save writes each
    row's audit entry); the whole import is labelled `admin.import` with the file's name."""

    manage_action: Action = Action.SCHOOL_MANAGE

    def __init__(self, *, user: Any = None, **kwargs: Any) -> None:
        super().__init__()
        self.user = user
        for field in self.fields.values():
            if isinstance(field.widget, ScopedForeignKeyWidget):
                field.widget.scope_to(user, self.manage_action)

    def get_queryset(self) -> QuerySet:
        if self.user is None:
            return self._meta.model.objects.none()
        return self._meta.model.objects.visible_to(self.user, self.manage_action)

    def get_instance(self, instance_loader: Any, row: Any) -> Any:
        try:
            return super().get_instance(instance_loader, row)
        except ValueError:
            return None  # a bad key cell: import_instance reports it against its column

    def import_data(self, dataset: Any, *args: Any, **kwargs: Any) -> Any:
        with trail.labelled("admin.import", cell_text(kwargs.get("file_name"))):
            return super().import_data(dataset, *args, **kwargs)

    @staticmethod
    def clean_column(field: Field, row: Any, errors: dict[str, Any]) -> Any:
        """The cleaned value of a column that maps to no model field (its error goes into `errors`)."""
        if field.column_name not in row:
            errors[field.column_name] = ValidationError(gettext("This column is missing."))
            return None
        try:
            value = field.clean(row)
        except ValueError as e:
            errors[field.column_name] = ValidationError(str(e))
            return None
        if value in (None, ""):
            errors[field.column_name] = ValidationError(gettext("This field cannot be blank."))
        return value


#: The same for a code of another district and a code that does not exist.
SCHOOL_NOT_FOUND = _("No school with the code “%(value)s” in your district.")


class SchoolResource(ScopedResource):
    """学校: one row per school, matched on its code (学校标识码)."""

    code = Field("code", "code", widget=TextWidget())
    name = Field("name", "name", widget=TextWidget())
    stages = Field("stages", "stages", widget=ChoiceListWidget(Stage.choices))
    area = Field("area", "area", widget=ChoiceWidget(Area.choices))
    township = Field("township", "township", widget=TextWidget())
    is_active = Field("is_active", "is_active", widget=YesNoWidget(), default=True)

    class Meta:
        model = School
        name = _("Schools")
        fields = ("code", "name", "stages", "area", "township", "is_active")
        import_id_fields = ("code",)
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def get_queryset(self) -> QuerySet:
        return super().get_queryset().order_by("code", "pk")


class SchoolClassResource(ScopedResource):
    """班级: a row names the school by code, the stage, the entry year (入学年份) and the class number;
    the grade (年级) is found or created for it (audited, for a stage the school teaches)."""

    school = Field("school", "school", widget=ScopedForeignKeyWidget(School, "code", not_found=SCHOOL_NOT_FOUND))
    stage = Field(column_name="stage", widget=ChoiceWidget(Stage.choices))
    entry_year = Field(column_name="entry_year", widget=WholeNumberWidget())
    number = Field("number", "number", widget=WholeNumberWidget())

    class Meta:
        model = SchoolClass
        name = _("Classes")
        fields = ("school", "stage", "entry_year", "number")
        import_id_fields = ("school", "stage", "entry_year", "number")
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def get_queryset(self) -> QuerySet:
        return (
            super()
            .get_queryset()
            .select_related("school", "grade")
            .order_by("school__code", "grade__stage", "grade__entry_year", "number", "pk")
        )

    def dehydrate_stage(self, klass: SchoolClass) -> str:
        return self.fields["stage"].widget.render(klass.grade.stage)

    def dehydrate_entry_year(self, klass: SchoolClass) -> int:
        return klass.grade.entry_year

    def _key(self, row: Any) -> tuple[Any, ...] | None:
        try:
            key = tuple(self.fields[name].clean(row) for name in ("school", "stage", "entry_year", "number"))
        except (ValueError, KeyError):
            return None
        return key if all(v not in (None, "") for v in key) else None

    def get_instance(self, instance_loader: Any, row: Any) -> SchoolClass | None:
        key = self._key(row)
        if key is None:
            return None  # import_instance says what is wrong
        school, stage, entry_year, number = key
        return (
            self.get_queryset()
            .filter(school=school, grade__stage=stage, grade__entry_year=entry_year, number=number)
            .first()
        )

    def import_instance(self, instance: SchoolClass, row: Any, **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        try:
            super().import_instance(instance, row, **kwargs)  # school and number
        except ValidationError as e:
            errors = e.update_error_dict(errors)
        stage = self.clean_column(self.fields["stage"], row, errors)
        entry_year = self.clean_column(self.fields["entry_year"], row, errors)
        if not errors and instance.school_id is not None:
            try:
                instance.grade = self._grade(instance.school, stage, entry_year)
            except ValidationError as e:
                errors["stage"] = e
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance: SchoolClass, import_validation_errors: Any = None, **kwargs: Any) -> None:
        if import_validation_errors:
            # The sheet's own cells are wrong: say so, not that the grade they would have named is missing.
            raise ValidationError(dict(import_validation_errors))
        super().validate_instance(instance, import_validation_errors, **kwargs)

    def _grade(self, school: School, stage: str, entry_year: int) -> Grade:
        grade = (
            Grade.objects.visible_to(self.user, self.manage_action)
            .filter(school=school, stage=stage, entry_year=entry_year)
            .first()
        )
        return grade or services.grade_create(school=school, stage=stage, entry_year=entry_year)
