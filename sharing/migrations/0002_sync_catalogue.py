from django.db import migrations


def forwards(apps, schema_editor):
    from sharing.defaults import sync_catalogue

    sync_catalogue(apps)


class Migration(migrations.Migration):
    dependencies = [("sharing", "0001_initial"), ("cases", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
