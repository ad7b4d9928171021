"""Public notices behind the tenant wall: inside a tenant's transaction only that tenant's notices; the
public page, which has no tenant, still reads the one its token names."""

from django.db import migrations

from core.tenancy.db import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("students", "0009_status_state_machines")]

    operations = [EnableRowLevelSecurity("publicnotice", readable_without_tenant=True)]
