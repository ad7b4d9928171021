"""The audit trail's tenant column without a key or an index of its own (see AuditEvent.tenant).

In the state, an AlterField. In the database, only the key and the index are dropped: SQLite would
alter the field by rebuilding the table, which would drop the append-only trigger with it (and SQLite
cannot drop a key without that rebuild, so it keeps its key there)."""

import django.db.models.deletion
from django.db import migrations, models


def _names(schema_editor, model, **kind):
    return schema_editor._constraint_names(model, ["tenant_id"], **kind)


def drop_key_and_index(apps, schema_editor):
    model = apps.get_model("audits", "AuditEvent")
    if schema_editor.connection.vendor == "postgresql":
        for name in _names(schema_editor, model, foreign_key=True):
            schema_editor.execute(schema_editor._delete_fk_sql(model, name))
    for name in _names(schema_editor, model, index=True, unique=False, primary_key=False):
        schema_editor.execute(schema_editor._delete_index_sql(model, name))


def restore_key_and_index(apps, schema_editor):
    model = apps.get_model("audits", "AuditEvent")
    field = model._meta.get_field("tenant")
    if schema_editor.connection.vendor == "postgresql" and not _names(schema_editor, model, foreign_key=True):
        schema_editor.execute(schema_editor._create_fk_sql(model, field, "_fk_%(to_table)s_%(to_column)s"))
    if not _names(schema_editor, model, index=True, unique=False, primary_key=False):
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0005_bulk_rows_checked_by_their_statements"),
        ("schools", "0005_system_account"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="tenant",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="schools.tenant",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_key_and_index, restore_key_and_index)],
        ),
    ]
