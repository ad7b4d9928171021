"""Codes compared byte by byte (core.fields.CodeField): PostgreSQL's "C" collation for the
pupils' and guardians' keyed hashes, whose indexes a roster import fills a few hundred thousand at a
time, and for the roster fingerprint (a keyed hash too, now a CodeField). In the state, the
fingerprint's AlterField (the blind indexes were CodeFields already, by their class); in the database,
only PostgreSQL's collations change (SQLite compares bytes anyway, and would rebuild the table)."""

from django.db import migrations

import core.fields
from core.migration_ops import byte_order_collation


class Migration(migrations.Migration):
    dependencies = [
        ("students", "0006_guardians_found_by_tenant_key"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="student",
                    name="roster_fingerprint",
                    field=core.fields.CodeField(blank=True, editable=False, max_length=32),
                ),
            ],
            database_operations=[
                byte_order_collation(
                    [
                        ("student", "id_number_hash"),
                        ("student", "student_no_hash"),
                        ("student", "card_account_hash"),
                        ("student", "roster_fingerprint"),
                        ("guardian", "id_number_hash"),
                    ],
                    app_label="students",
                )
            ],
        ),
    ]
