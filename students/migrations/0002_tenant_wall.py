"""Row-level security on the register; a student's school, grade and class are one class of one tenant."""

from django.db import migrations

from core.tenancy.db import EnableRowLevelSecurity, TenantForeignKey


class Migration(migrations.Migration):
    dependencies = [("students", "0001_initial"), ("schools", "0002_tenant_wall")]

    operations = [
        EnableRowLevelSecurity("student"),
        TenantForeignKey(
            "student",
            ["school_id", "grade_id", "klass_id"],
            to="schools.schoolclass",
            to_columns=["school_id", "grade_id", "id"],
        ),
    ]
