"""Row-level security on the tenant tables, and foreign keys that cannot cross tenants."""

from django.db import migrations

from core.tenancy.db import EnableRowLevelSecurity, TenantForeignKey


class Migration(migrations.Migration):
    dependencies = [("schools", "0001_initial")]

    operations = [
        EnableRowLevelSecurity("school"),
        EnableRowLevelSecurity("grade"),
        EnableRowLevelSecurity("schoolclass"),
        EnableRowLevelSecurity("roleassignment"),
        TenantForeignKey("grade", ["school_id"], to="schools.school", to_columns=["id"]),
        TenantForeignKey("schoolclass", ["school_id", "grade_id"], to="schools.grade", to_columns=["school_id", "id"]),
        TenantForeignKey("roleassignment", ["user_id"], to="schools.user", to_columns=["id"]),
        TenantForeignKey("roleassignment", ["school_id"], to="schools.school", to_columns=["id"]),
        TenantForeignKey(
            "roleassignment", ["school_id", "grade_id"], to="schools.grade", to_columns=["school_id", "id"]
        ),
        TenantForeignKey(
            "roleassignment",
            ["school_id", "grade_id", "klass_id"],
            to="schools.schoolclass",
            to_columns=["school_id", "grade_id", "id"],
        ),
    ]
