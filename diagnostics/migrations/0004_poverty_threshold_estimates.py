"""Load the poverty thresholds RIS estimates for ECV years whose annual figure was not found
(diagnostics/data/ine_umbral_riesgo_pobreza_estimaciones.csv, each row with its derivation and
source), marked ``is_estimate``. A year that later gets its INE figure in the reference file
keeps that figure: an estimate never overwrites a published one."""

import csv
from decimal import Decimal
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"
FILE = "ine_umbral_riesgo_pobreza_estimaciones.csv"


def load(apps, schema_editor):
    PovertyThreshold = apps.get_model("reference", "PovertyThreshold")
    with open(DATA / FILE, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    for row in rows:
        year = int(row["ecv_year"])
        if PovertyThreshold.objects.filter(survey_year=year, is_estimate=False).exists():
            continue
        PovertyThreshold.objects.update_or_create(
            survey_year=year,
            defaults={
                "income_year": int(row["income_year"]),
                "one_person_eur_year": Decimal(row["one_person_eur_year"]),
                "two_adults_two_children_eur_year": Decimal(row["two_adults_two_children_u14_eur_year"]),
                "source": f"ESTIMACIÓN: {row['derivation']}. Fuente: {row['source']}",
                "is_estimate": True,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("diagnostics", "0003_sync_catalogue"),
        ("reference", "0003_poverty_threshold_estimates"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
