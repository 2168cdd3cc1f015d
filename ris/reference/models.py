"""Public reference data (INE territories, CNO-11, CNED-2014, EU deprivation items,
poverty and minimum-income thresholds), loaded from ``ris/reference/data`` with the
sources listed in ``ris/reference/data/SOURCES.md``."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AutonomousCommunity(models.Model):
    code = models.CharField(_("código INE"), max_length=2, primary_key=True)
    name = models.CharField(_("nombre"), max_length=80)

    class Meta:
        verbose_name = _("comunidad autónoma")
        verbose_name_plural = _("comunidades autónomas")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Province(models.Model):
    code = models.CharField(_("código INE"), max_length=2, primary_key=True)
    name = models.CharField(_("nombre"), max_length=80)
    community = models.ForeignKey(
        AutonomousCommunity, on_delete=models.PROTECT, related_name="provinces",
        verbose_name=_("comunidad autónoma"),
    )

    class Meta:
        verbose_name = _("provincia")
        verbose_name_plural = _("provincias")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Municipality(models.Model):
    code = models.CharField(_("código INE"), max_length=5, primary_key=True)
    name = models.CharField(_("nombre"), max_length=120)
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="municipalities",
        verbose_name=_("provincia"),
    )

    class Meta:
        verbose_name = _("municipio")
        verbose_name_plural = _("municipios")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Occupation(models.Model):
    """CNO-11 (RD 1591/2010): one-digit major groups and three-digit subgroups."""

    code = models.CharField(_("código CNO-11"), max_length=3, primary_key=True)
    label = models.CharField(_("denominación"), max_length=255)
    major_group = models.CharField(_("gran grupo"), max_length=1)

    class Meta:
        verbose_name = _("ocupación (CNO-11)")
        verbose_name_plural = _("ocupaciones (CNO-11)")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class EducationLevel(models.Model):
    """Nivel de formación alcanzado, CNED-2014 as aggregated by INE."""

    code = models.CharField(_("código"), max_length=3, primary_key=True)
    isced_level = models.PositiveSmallIntegerField(_("nivel CINE/CNED"))
    label = models.CharField(_("denominación"), max_length=255)
    verified = models.BooleanField(_("etiqueta verificada"), default=False)

    class Meta:
        verbose_name = _("nivel de formación (CNED-2014)")
        verbose_name_plural = _("niveles de formación (CNED-2014)")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.label


class DeprivationItem(models.Model):
    """The 13 EU-SILC items of severe material and social deprivation (SMSD)."""

    class Level(models.TextChoices):
        HOUSEHOLD = "household", _("hogar")
        INDIVIDUAL = "individual", _("persona")

    code = models.CharField(_("código"), max_length=3, primary_key=True)
    level = models.CharField(_("nivel"), max_length=12, choices=Level.choices)
    label = models.CharField(_("descripción"), max_length=255)

    class Meta:
        verbose_name = _("ítem de privación material y social")
        verbose_name_plural = _("ítems de privación material y social")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class BasicSocialService(models.Model):
    """Prestaciones básicas de servicios sociales (Plan Concertado)."""

    code = models.PositiveSmallIntegerField(_("orden"), primary_key=True)
    label = models.CharField(_("prestación"), max_length=255)
    description = models.TextField(_("descripción"))

    class Meta:
        verbose_name = _("prestación básica de servicios sociales")
        verbose_name_plural = _("prestaciones básicas de servicios sociales")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.label


class PovertyThreshold(models.Model):
    """INE ECV at-risk-of-poverty threshold (60 % of the median equivalised income)."""

    survey_year = models.PositiveSmallIntegerField(_("año de la encuesta (ECV)"), primary_key=True)
    income_year = models.PositiveSmallIntegerField(_("año de los ingresos"))
    one_person_eur_year = models.DecimalField(_("umbral para una persona (€/año)"), max_digits=9, decimal_places=2)
    two_adults_two_children_eur_year = models.DecimalField(
        _("umbral para dos adultos y dos menores de 14 (€/año)"), max_digits=9, decimal_places=2
    )
    source = models.TextField(_("fuente"))
    is_estimate = models.BooleanField(
        _("estimación"),
        default=False,
        help_text=_(
            "La cifra no es la anual publicada por el INE, sino una estimación derivada de una "
            "cifra publicada (ver la fuente)."
        ),
    )

    class Meta:
        verbose_name = _("umbral de riesgo de pobreza")
        verbose_name_plural = _("umbrales de riesgo de pobreza")
        ordering = ["-survey_year"]

    def __str__(self) -> str:
        return f"ECV {self.survey_year}"


class MinimumIncomeThreshold(models.Model):
    """Ingreso Mínimo Vital guaranteed income per household size (Ley 19/2021)."""

    year = models.PositiveSmallIntegerField(_("año"))
    members = models.PositiveSmallIntegerField(_("miembros de la unidad de convivencia"))
    monthly_eur = models.DecimalField(_("renta garantizada (€/mes)"), max_digits=8, decimal_places=2)
    source = models.TextField(_("fuente"))

    class Meta:
        verbose_name = _("renta garantizada del IMV")
        verbose_name_plural = _("rentas garantizadas del IMV")
        ordering = ["-year", "members"]
        constraints = [
            models.UniqueConstraint(fields=["year", "members"], name="imv_threshold_unique_year_members")
        ]

    def __str__(self) -> str:
        return f"IMV {self.year}: {self.members}"
