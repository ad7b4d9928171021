"""Codes compared byte by byte (core.fields.CodeField): the audit trail's action, object type
and object id, and the registry entries' blind indexes, get PostgreSQL's "C" collation.

In the state, AlterFields (the audit columns become CodeFields; blind indexes were CodeFields already,
by their class). In the database, only PostgreSQL's collation changes: SQLite would alter the fields
by rebuilding the audit table, which would drop its append-only trigger with it, and SQLite compares
bytes anyway."""

from django.db import migrations

import core.fields
from core.migration_ops import byte_order_collation


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0006_tenant_proved_by_chain_head"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent", name="action", field=core.fields.CodeField(max_length=64)
                ),
                migrations.AlterField(
                    model_name="auditevent", name="object_id", field=core.fields.CodeField(max_length=64)
                ),
                migrations.AlterField(
                    model_name="auditevent",
                    name="object_type",
                    field=core.fields.CodeField(max_length=100),
                ),
            ],
            database_operations=[
                byte_order_collation(
                    [
                        ("auditevent", "action"),
                        ("auditevent", "object_type"),
                        ("auditevent", "object_id"),
                        ("registryentry", "id_number_hash"),
                        ("registryentry", "household_id_number_hash"),
                    ],
                    app_label="audits",
                )
            ],
        ),
    ]
