"""Accounts behind the tenant wall: inside a tenant's transaction the app sees and writes only that
tenant's accounts (not other districts', not the platform operators'). Without a tenant (sign-in,
before anyone is known) every account stays readable, as signing in needs."""

from django.db import migrations

from core.tenancy.db import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("schools", "0008_job_resent_at")]

    operations = [EnableRowLevelSecurity("user", readable_without_tenant=True)]
