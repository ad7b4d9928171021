"""Migration operations shared by the apps."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import migrations

from .fields import BYTE_ORDER


def byte_order_collation(columns: Iterable[tuple[str, str]], *, app_label: str) -> migrations.RunPython:
    """Give existing (model, field) columns the byte-order collation of `fields.CodeField` on
    PostgreSQL (a database made since gets it from CREATE TABLE); nothing elsewhere. Each ALTER keeps
    the column's type and rebuilds its indexes, without rewriting the table."""
    columns = list(columns)

    def collate(collation: str) -> Any:
        def run(apps: Any, schema_editor: Any) -> None:
            connection = schema_editor.connection
            if connection.vendor != "postgresql":
                return
            qn = schema_editor.quote_name
            for model_name, field_name in columns:
                model = apps.get_model(app_label, model_name)
                field = model._meta.get_field(field_name)
                schema_editor.execute(
                    f"ALTER TABLE {qn(model._meta.db_table)} ALTER COLUMN {qn(field.column)} "
                    f"TYPE {field.db_type(connection)} COLLATE {qn(collation)}"
                )

        return run

    return migrations.RunPython(collate(BYTE_ORDER), collate("default"))
