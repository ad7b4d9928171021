"""Blind indexes compared byte by byte (funding.infra.fields.CodeField): PostgreSQL's "C" collation for
the pupils' and guardians' keyed hashes, whose indexes a roster import fills a few hundred thousand
at a time. The model state is unchanged (the field class says it); nothing changes elsewhere."""

from django.db import migrations

from funding.infra.migrations import byte_order_collation


class Migration(migrations.Migration):
    dependencies = [
        ("students", "0006_guardians_found_by_tenant_key"),
    ]

    operations = [
        byte_order_collation(
            [
                ("student", "id_number_hash"),
                ("student", "student_no_hash"),
                ("student", "card_account_hash"),
                ("guardian", "id_number_hash"),
            ],
            app_label="students",
        )
    ]
