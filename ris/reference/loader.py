"""Loads the reference CSV files shipped in ``ris/reference/data`` (idempotent upserts).

The files keep their provenance comments (lines starting with ``#``); see SOURCES.md.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
#: The IMV amounts by year: (year, file). Rules use the latest year not after the day evaluated.
IMV_FILES = ((2025, "imv_renta_garantizada_2025.csv"), (2026, "imv_renta_garantizada_2026.csv"))


def imv_source(year: int, filename: str) -> str:
    return f"Ley 19/2021; importes {year} según {filename} (ver SOURCES.md)"


def read_rows(filename: str) -> Iterator[dict[str, str]]:
    with open(DATA_DIR / filename, encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(line for line in handle if not line.startswith("#"))


def _upsert(model, objs: list, unique_fields: list[str], update_fields: list[str]) -> None:
    model.objects.bulk_create(
        objs, update_conflicts=True, unique_fields=unique_fields, update_fields=update_fields,
        batch_size=2000,
    )


def load_reference_data(apps=None) -> None:
    """Load every reference table. ``apps`` is the migration app registry, if any."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps

    def model(name: str):
        return apps.get_model("reference", name)

    community, province, municipality = model("AutonomousCommunity"), model("Province"), model("Municipality")
    provinces = list(read_rows("provincias_ccaa_ine.csv"))
    _upsert(
        community,
        [community(code=r["codauto"], name=r["comunidad_autonoma"]) for r in {r["codauto"]: r for r in provinces}.values()],
        ["code"], ["name"],
    )
    _upsert(
        province,
        [province(code=r["cpro"], name=r["provincia"], community_id=r["codauto"]) for r in provinces],
        ["code"], ["name", "community"],
    )
    _upsert(
        municipality,
        [municipality(code=r["codigo_ine"], name=r["nombre"], province_id=r["cpro"]) for r in read_rows("municipios_ine_2024.csv")],
        ["code"], ["name", "province"],
    )

    occupation = model("Occupation")
    occupations = [
        occupation(code=r["code"], label=r["label"], major_group=r["code"])
        for r in read_rows("cno11_grandes_grupos.csv")
    ] + [
        occupation(code=r["code"], label=r["label"], major_group=r["gran_grupo"])
        for r in read_rows("cno11_subgrupos_3d.csv")
    ]
    _upsert(occupation, occupations, ["code"], ["label", "major_group"])

    education = model("EducationLevel")
    levels = []
    seen: dict[str, int] = {}
    for row in read_rows("nivel_formacion_cned2014.csv"):
        level = row["isced_level"]
        seen[level] = seen.get(level, 0) + 1
        code = level if seen[level] == 1 else f"{level}{'abcdef'[seen[level] - 1]}"
        levels.append(
            education(code=code, isced_level=int(level), label=row["label_es"], verified=row["verified"] == "yes")
        )
    _upsert(education, levels, ["code"], ["isced_level", "label", "verified"])

    item = model("DeprivationItem")
    _upsert(
        item,
        [item(code=r["item_id"], level=r["level"], label=r["etiqueta_es_sugerida"]) for r in read_rows("eu_smsd_13_items.csv")],
        ["code"], ["level", "label"],
    )

    basic = model("BasicSocialService")
    _upsert(
        basic,
        [basic(code=int(r["order"]), label=r["prestacion"], description=r["descripcion_resumida"]) for r in read_rows("prestaciones_basicas_servicios_sociales.csv")],
        ["code"], ["label", "description"],
    )

    threshold = model("PovertyThreshold")
    _upsert(
        threshold,
        [
            threshold(
                survey_year=int(r["ecv_year"]), income_year=int(r["income_year"]),
                one_person_eur_year=Decimal(r["one_person_eur_year"]),
                two_adults_two_children_eur_year=Decimal(r["two_adults_two_children_u14_eur_year"]),
                source=r["source"],
            )
            for r in read_rows("ine_umbral_riesgo_pobreza.csv")
        ],
        ["survey_year"], ["income_year", "one_person_eur_year", "two_adults_two_children_eur_year", "source"],
    )

    imv = model("MinimumIncomeThreshold")
    _upsert(
        imv,
        [
            imv(year=year, members=int(r["members"]), monthly_eur=Decimal(r["monthly_eur"]),
                source=imv_source(year, filename))
            for year, filename in IMV_FILES
            for r in read_rows(filename)
        ],
        ["year", "members"], ["monthly_eur", "source"],
    )
