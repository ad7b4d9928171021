# The official calendar seeded with every year the installed chinesecalendar package knows (2004-2026
# with 1.11.0), through the same file reader the platform operator's uploads go through. Later releases
# add their years with `manage.py load_official_calendar --from-library`. No audit rows: the seed is
# where the calendar starts, and each row records its source, its file's SHA-256 and when it was loaded.

from django.db import migrations
from django.utils import timezone


def seed(apps, schema_editor):
    from schools.official_calendar.files import read_calendar_file
    from schools.official_calendar.library import SOURCE, library_file, library_years

    year_model = apps.get_model("schools", "OfficialCalendarYear")
    day_model = apps.get_model("schools", "OfficialCalendarDay")
    now = timezone.now()
    for year in library_years():
        if year_model.objects.filter(year=year, is_loaded=True).exists():
            continue
        parsed = read_calendar_file(library_file(year), year=year)
        row, _created = year_model.objects.update_or_create(
            year=year,
            defaults={
                "is_loaded": True, "source": SOURCE, "sha256": parsed.sha256, "holiday_count": parsed.holidays,
                "workday_count": parsed.workdays, "loaded_at": now,
            },
        )  # fmt: skip
        day_model.objects.filter(calendar_year=row).delete()
        day_model.objects.bulk_create(
            [day_model(calendar_year=row, date=r.date, kind=r.kind, name=r.name) for r in parsed.rows]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("schools", "0006_official_calendar"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
