from django.db import migrations


def forwards(apps, schema_editor):
    from ris.reference.loader import load_reference_data

    load_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [("reference", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
