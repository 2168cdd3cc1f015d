"""Load the FOESSA exclusion instrument (items and cut-offs from diagnostics/data, with their
source), the alert rules with their default thresholds, and the poverty thresholds of
ECV years found with a source that the reference file lacks."""

import csv
from decimal import Decimal
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"

AREA_LABELS = {
    "economic": ("Consumo", 0),
    "employment": ("Empleo", 1),
    "housing": ("Vivienda", 2),
    "health": ("Salud", 3),
    "family_relations": ("Conflicto social y aislamiento social", 4),
    "personal_legal": ("Participación política y educación", 5),
}

SOURCE = (
    "Fundación FOESSA: indicadores de exclusión social (35 indicadores en 8 dimensiones: empleo, consumo, "
    "participación política, educación, vivienda, salud, conflicto social y aislamiento social), Laparra et al. "
    "(2007) y VI Informe FOESSA (2008), usados en la Encuesta EINS-FOESSA 2007-2018. Clasificación por recuento "
    "(integración plena 0, integración precaria 1, exclusión moderada 2-3, exclusión severa 4 o más) según "
    "J. R. Rallo, Libre Mercado, 29/10/2014, sobre el índice de Cáritas-FOESSA; dimensiones y grupos según "
    "eldiario.es (2019). Ver docs/instruments.md."
)
UNVERIFIED = (
    "No se ha leído la tabla original de FOESSA: el enunciado de los 35 ítems se ha escrito a partir de su "
    "reproducción habitual y no está contrastado. FOESSA pondera los indicadores en su Índice Sintético (ISES) y "
    "en 2021 modificó 17 indicadores y añadió 2: aquí cada ítem vale 1 (regla de recuento). Los puntos de corte "
    "por área son una convención de RIS."
)


def _rows(name):
    with open(DATA / name, encoding="utf-8") as handle:
        yield from csv.DictReader(line for line in handle if not line.startswith("#"))


def load(apps, schema_editor):
    Instrument = apps.get_model("diagnostics", "Instrument")
    Area = apps.get_model("diagnostics", "Area")
    Item = apps.get_model("diagnostics", "Item")
    CutOff = apps.get_model("diagnostics", "CutOff")
    AlertRule = apps.get_model("diagnostics", "AlertRule")
    PovertyThreshold = apps.get_model("reference", "PovertyThreshold")

    instrument, _ = Instrument.objects.get_or_create(
        code="foessa-35", version="2014-recuento",
        defaults={
            "name": "Indicadores de exclusión social FOESSA (35 indicadores, recuento)",
            "source": SOURCE,
            "source_url": "https://eldiario.es/economia/vivienda-vuelve-arrastra-exclusion-Espana_0_909559807.html",
            "unverified": UNVERIFIED,
        },
    )
    areas = {}
    for kind, (label, position) in AREA_LABELS.items():
        areas[kind], _ = Area.objects.get_or_create(
            instrument=instrument, kind=kind, defaults={"label": label, "position": position},
        )
    for position, row in enumerate(_rows("foessa_exclusion_35.csv")):
        Item.objects.get_or_create(
            area=areas[row["area"]], code=row["code"],
            defaults={"text": row["text"], "source_dimension": row["dimension"], "score": Decimal(row["score"]),
                      "verified": row["verified"] == "yes", "position": position},
        )
    for row in _rows("foessa_exclusion_35_cutoffs.csv"):
        CutOff.objects.get_or_create(
            instrument=instrument, area=areas[row["area"]] if row["area"] else None, level=row["level"],
            defaults={"min_score": Decimal(row["min_score"]), "from_source": row["from_source"] == "yes"},
        )

    from diagnostics.rules import RULES

    for code, rule in RULES.items():
        AlertRule.objects.get_or_create(
            code=code,
            defaults={"description": str(rule.description), "thresholds": rule.all_defaults,
                      "categories": list(rule.categories), "is_active": True},
        )

    for row in _rows("ine_umbral_riesgo_pobreza_complemento.csv"):
        PovertyThreshold.objects.get_or_create(
            survey_year=int(row["ecv_year"]),
            defaults={"income_year": int(row["income_year"]),
                      "one_person_eur_year": Decimal(row["one_person_eur_year"]),
                      "two_adults_two_children_eur_year": Decimal(row["two_adults_two_children_u14_eur_year"]),
                      "source": row["source"]},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("diagnostics", "0001_initial"),
        ("reference", "0002_load_reference_data"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
