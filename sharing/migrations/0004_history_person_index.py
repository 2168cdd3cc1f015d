from django.db import migrations


class Migration(migrations.Migration):
    """Index the change history by person and household, which is how the record reads it."""

    dependencies = [("sharing", "0003_break_glass"), ("auditlog", "0001_initial")]
    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS auditlog_person_idx ON auditlog_logentry "
            "((additional_data -> 'person_id'));"
            "CREATE INDEX IF NOT EXISTS auditlog_household_idx ON auditlog_logentry "
            "((additional_data -> 'household_id'));",
            "DROP INDEX IF EXISTS auditlog_person_idx; DROP INDEX IF EXISTS auditlog_household_idx;",
        )
    ]
