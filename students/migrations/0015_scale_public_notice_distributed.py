"""students_publicnotice is distributed by district (issue 22 item 3): its primary key becomes
(tenant_id, token) in the database, and a plain index on token serves the old printed links
(/p/<token>/), which look a notice up by its token alone. Django keeps `token` as the model's pk, as
every tenant table keeps `id` (docs/architecture.md, "Keys that carry the district"). PostgreSQL only;
every row stays (the key is re-made over the same rows)."""

from django.db import migrations

PK = "students_publicnotice_pkey"
TOKEN_INDEX = "students_publicnotice_token_scale"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE students_publicnotice DROP CONSTRAINT {PK}, ADD CONSTRAINT {PK} PRIMARY KEY (tenant_id, token)"
    )
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {TOKEN_INDEX} ON students_publicnotice (token)")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {TOKEN_INDEX}")
    schema_editor.execute(
        f"ALTER TABLE students_publicnotice DROP CONSTRAINT {PK}, ADD CONSTRAINT {PK} PRIMARY KEY (token)"
    )


class Migration(migrations.Migration):
    dependencies = [("students", "0014_keys_carry_the_tenant")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
