"""The payment lines' account blind index compared byte by byte, as every blind index is
(core.fields.CodeField): PostgreSQL's "C" collation. The model state is unchanged."""

from django.db import migrations

from core.migration_ops import byte_order_collation


class Migration(migrations.Migration):
    dependencies = [
        ("disbursements", "0002_bank_layout_ref_help"),
    ]

    operations = [byte_order_collation([("paymentline", "account_hash")], app_label="disbursements")]
