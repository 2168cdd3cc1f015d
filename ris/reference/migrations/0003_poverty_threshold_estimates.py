"""Poverty thresholds may be estimates (``is_estimate``); reload the reference data so that
databases created earlier get the definitive ECV 2013 figure and ECV 2014."""

from django.db import migrations, models


def reload(apps, schema_editor):
    from ris.reference.loader import load_reference_data

    load_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("reference", "0002_load_reference_data"),
    ]

    operations = [
        migrations.AddField(
            model_name="povertythreshold",
            name="is_estimate",
            field=models.BooleanField(
                default=False,
                help_text="La cifra no es la anual publicada por el INE, sino una estimación derivada de una cifra publicada (ver la fuente).",
                verbose_name="estimación",
            ),
        ),
        migrations.RunPython(reload, migrations.RunPython.noop),
    ]
