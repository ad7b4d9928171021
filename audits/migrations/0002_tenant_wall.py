"""The audit trail is per tenant (row-level security) and append-only (a trigger, for everyone)."""

from django.db import migrations

from core.tenancy.db import AppendOnly, EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("audits", "0001_initial")]

    operations = [
        EnableRowLevelSecurity("auditevent"),
        EnableRowLevelSecurity("auditchainhead"),
        AppendOnly("auditevent"),
    ]
