"""The IMV amounts of 2026 (+11,4 %): reload the reference data so that existing databases get
them (the possible-IMV rule uses the latest year not after the day it evaluates)."""

from django.db import migrations


def reload(apps, schema_editor):
    from ris.reference.loader import load_reference_data

    load_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("reference", "0003_poverty_threshold_estimates"),
    ]

    operations = [migrations.RunPython(reload, migrations.RunPython.noop)]
