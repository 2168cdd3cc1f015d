"""The diagnostics record models join the project's one field catalogue (``cases/catalogue.py``):
sync it again so that databases created before the merge get their ``sharing.CatalogueField`` rows."""

from django.db import migrations


def sync(apps, schema_editor):
    from sharing.defaults import sync_catalogue

    sync_catalogue(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("diagnostics", "0002_load_instrument_and_rules"),
        ("sharing", "0004_history_person_index"),
        ("cases", "0003_attachment"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
