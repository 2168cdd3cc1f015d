"""An alert is "seen" per delivery now, and a resolution records its organisation.

Existing data (decision 0007): an alert acknowledged before marks as seen the deliveries of the
organisations where the person who acknowledged it works (or worked), and becomes ``open``
again at alert level (unresolved either way; nothing writes ``acknowledged`` any more). An alert
resolved by hand records as resolving organisation the one, among those that received it, where
the person who resolved it works (or worked); when there is none, nobody reads its note.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def forwards(apps, schema_editor):
    Alert = apps.get_model("diagnostics", "Alert")
    Delivery = apps.get_model("diagnostics", "AlertDelivery")
    Membership = apps.get_model("accounts", "Membership")
    alert, delivery, membership = (
        Alert._meta.db_table,
        Delivery._meta.db_table,
        Membership._meta.db_table,
    )
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {delivery} d
            SET seen_at = a.acknowledged_at, seen_by_id = a.acknowledged_by_id
            FROM {alert} a
            WHERE d.alert_id = a.id AND a.acknowledged_by_id IS NOT NULL
              AND a.acknowledged_at IS NOT NULL AND d.seen_at IS NULL
              AND (d.recipient_id = a.acknowledged_by_id OR EXISTS (
                    SELECT 1 FROM {membership} m
                    WHERE m.user_id = a.acknowledged_by_id
                      AND m.organisation_id = d.organisation_id))
            """
        )
        cursor.execute(f"UPDATE {alert} SET state = 'open' WHERE state = 'acknowledged'")
        cursor.execute(
            f"""
            UPDATE {alert} a
            SET resolved_by_organisation_id = (
                SELECT min(d.organisation_id) FROM {delivery} d
                WHERE d.alert_id = a.id AND (d.recipient_id = a.resolved_by_id OR EXISTS (
                    SELECT 1 FROM {membership} m
                    WHERE m.user_id = a.resolved_by_id AND m.organisation_id = d.organisation_id)))
            WHERE a.state = 'resolved' AND a.resolved_by_id IS NOT NULL
              AND a.resolved_by_organisation_id IS NULL
            """
        )


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('diagnostics', '0004_poverty_threshold_estimates'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='alert',
            name='resolved_by_organisation',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.organisation', verbose_name='resuelta por la organización'),
        ),
        migrations.AddField(
            model_name='alertdelivery',
            name='seen_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='vista el'),
        ),
        migrations.AddField(
            model_name='alertdelivery',
            name='seen_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='vista por'),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
