"""A partial index for "who needs a paired teacher" (care.pairing.selectors.needs_pairing): this school
year's identifications of an especially difficult pupil or a registered-poor category. The worklist of
every school and district home page counts the pupils it finds without a teacher; without the index
that count read all of a district's identifications (42 ms at 33,000, under every home page).

PostgreSQL only: its predicate is JSON containment, which SQLite lacks (and SQLite's districts are
small). The predicate repeats care.pairing.selectors' constants as they are now; the test
`care/tests/test_pairing.py::test_the_needs_pairing_index_matches_the_query` fails when they drift."""

from django.db import migrations

INDEX = "care_app_needs_pairing_idx"
CREATE = f"""
CREATE INDEX IF NOT EXISTS {INDEX} ON students_hardshipapplication (tenant_id, academic_year, student_id)
WHERE status = 'IDENTIFIED' AND (
    tier = 'SPECIAL'
    OR categories @> '["LIFTED"]'::jsonb
    OR categories @> '["LIFTED_UNSTABLE"]'::jsonb
    OR categories @> '["EDGE_POVERTY"]'::jsonb
)
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("care", "0004_keys_carry_the_tenant"),
        ("students", "0018_identified_summary"),
    ]

    operations = [migrations.RunPython(create, drop)]
