"""Pilot projects and their evaluation (aggregates only).

A ``Pilot`` is a regional deployment of coordination between social services,
employment services and Third-Sector organisations (seed 000): its territory, the
organisations taking part, its dates, funding lines and objectives. Its
``DimensionFollowUp`` rows are the coordinators' dated, qualitative follow-up of the
six key dimensions of the RIS working group (strategic, operational, technological,
organisational, legal, governance).

A ``FrozenPeriod`` is the protected figures of one closed period of a pilot, stored once as
they were published and served from then on, never recomputed (decision 0012); a
correction is a new version with its reason.

Nothing here holds personal data: the quantitative indicators are computed from the
platform's own tables by ``pilots.indicators`` and ``pilots.esf``, and only
aggregates protected by ``pilots.sdc`` ever leave the app (a frozen period holds the
published cells only: "<5" where a cell was suppressed, never its value).
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ris.accounts.models import Role


class FundingLine(models.TextChoices):
    ESF_PLUS = "fse_plus", _("FSE+ (Fondo Social Europeo Plus)")
    RRF = "mrr", _("MRR (Mecanismo de Recuperación y Resiliencia)")
    STATE = "estatal", _("Estatal")
    REGIONAL = "autonomica", _("Autonómica")


class Dimension(models.TextChoices):
    """The six key dimensions of a pilot (RIS working group on pilot projects)."""

    STRATEGIC = "estrategica", _("Estratégica")
    OPERATIONAL = "operativa", _("Operativa")
    TECHNOLOGICAL = "tecnologica", _("Tecnológica")
    ORGANISATIONAL = "organizativa", _("Organizativa")
    LEGAL = "juridica", _("Jurídica")
    GOVERNANCE = "gobernanza", _("Gobernanza")


class PilotQuerySet(models.QuerySet):
    def visible_to(self, viewer) -> PilotQuerySet:
        """Coordinators see the pilots their organisation takes part in; evaluators also
        every pilot of their organisation's autonomous community. Nobody else sees any."""
        if viewer is None:
            return self.none()
        if viewer.role == Role.COORDINATOR:
            return self.filter(organisations__id=viewer.organisation_id).distinct()
        if viewer.role == Role.EVALUATOR:
            return self.filter(
                Q(organisations__id=viewer.organisation_id) | Q(community_id=viewer.community_code)
            ).distinct()
        return self.none()


class Pilot(models.Model):
    name = models.CharField(_("nombre"), max_length=200)
    code = models.SlugField(_("código"), max_length=60, unique=True)
    community = models.ForeignKey(
        "reference.AutonomousCommunity", on_delete=models.PROTECT, related_name="+",
        verbose_name=_("comunidad autónoma"),
    )
    provinces = models.ManyToManyField(
        "reference.Province", blank=True, related_name="+", verbose_name=_("provincias"),
        help_text=_("Vacío: toda la comunidad autónoma."),
    )
    municipalities = models.ManyToManyField(
        "reference.Municipality", blank=True, related_name="+", verbose_name=_("municipios"),
        help_text=_("Si el piloto se limita a algunos municipios, indíquelos: las comparaciones "
                    "territoriales serán entonces por municipio."),
    )
    organisations = models.ManyToManyField(
        "accounts.Organisation", related_name="pilots", verbose_name=_("organizaciones participantes"),
    )
    start_date = models.DateField(_("inicio"))
    end_date = models.DateField(_("fin previsto"), null=True, blank=True)
    funding_lines = ArrayField(
        models.CharField(max_length=12, choices=FundingLine.choices), verbose_name=_("líneas de financiación"),
    )
    funding_reference = models.CharField(
        _("referencia de la financiación"), max_length=200, blank=True,
        help_text=_("Programa, operación, componente o convocatoria (p. ej. PRTR C23.I7, programa FSE+ "
                    "autonómico)."),
    )
    objectives = models.TextField(_("objetivos"))
    freeze_after_days = models.PositiveSmallIntegerField(
        _("días de margen antes de cerrar un periodo"), default=7, validators=[MaxValueValidator(92)],
        help_text=_("Cuando un mes, trimestre o año termina, sus cifras siguen siendo provisionales estos días, "
                    "para recoger los registros tardíos; después se cierran y se publican siempre las mismas."),
    )
    created_at = models.DateTimeField(_("fecha de alta"), auto_now_add=True)
    updated_at = models.DateTimeField(_("última modificación"), auto_now=True)

    objects = PilotQuerySet.as_manager()

    class Meta:
        verbose_name = _("proyecto piloto")
        verbose_name_plural = _("proyectos piloto")
        ordering = ["-start_date", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="pilot_dates_ordered",
                violation_error_message=_("El fin no puede ser anterior al inicio."),
            ),
            models.CheckConstraint(
                condition=~Q(funding_lines=[]), name="pilot_has_funding_line",
                violation_error_message=_("Indique al menos una línea de financiación."),
            ),
            models.CheckConstraint(
                condition=Q(freeze_after_days__lte=92), name="pilot_freeze_after_days_at_most_92",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("evaluation:dashboard", args=[self.pk])

    @property
    def funding_labels(self) -> list[str]:
        labels = dict(FundingLine.choices)
        return [str(labels.get(code, code)) for code in self.funding_lines]


class DimensionFollowUp(models.Model):
    """A coordinator's dated, qualitative follow-up of one key dimension of a pilot."""

    class State(models.TextChoices):
        NOT_STARTED = "not_started", _("Sin iniciar")
        ON_TRACK = "on_track", _("Según lo previsto")
        AT_RISK = "at_risk", _("Con dificultades")
        BLOCKED = "blocked", _("Bloqueada")
        ACHIEVED = "achieved", _("Consolidada")

    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="follow_ups",
                              verbose_name=_("proyecto piloto"))
    dimension = models.CharField(_("dimensión"), max_length=14, choices=Dimension.choices)
    date = models.DateField(_("fecha"))
    state = models.CharField(_("estado"), max_length=12, choices=State.choices)
    obstacles = models.TextField(_("obstáculos"), blank=True)
    success_factors = models.TextField(_("factores de éxito"), blank=True)
    next_steps = models.TextField(_("próximos pasos"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("registrado por"))
    recorded_by_org = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+",
                                        verbose_name=_("organización que registra"))
    created_at = models.DateTimeField(_("fecha de registro"), auto_now_add=True)

    class Meta:
        verbose_name = _("seguimiento de una dimensión")
        verbose_name_plural = _("seguimiento de las dimensiones clave")
        ordering = ["pilot", "dimension", "-date", "-id"]
        indexes = [models.Index(fields=["pilot", "dimension", "-date"], name="followup_pilot_dim_date_idx")]

    def __str__(self) -> str:
        return f"{self.pilot} · {self.get_dimension_display()} · {self.date:%d/%m/%Y}"


class FrozenPeriodQuerySet(models.QuerySet):
    def latest_versions(self) -> FrozenPeriodQuerySet:
        """The latest version of each period (``DISTINCT ON``)."""
        return self.order_by("pilot_id", "start", "end", "-version").distinct("pilot_id", "start", "end")


@pgtrigger.register(
    pgtrigger.Protect(name="frozen_period_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
)
class FrozenPeriod(models.Model):
    """The published figures of one closed period of a pilot: append-only.

    ``figures`` is what the pages and downloads of the period show, cell by cell ("<5" for a
    suppressed cell): ``{"indicators": {measure: {"total", "org", "territory", "extra"} or
    None}, "esf": {"outputs": {indicator: {sex: …, "total": …}}, "results": …}}``. A later
    version (a correction by an administrator, with its reason) replaces it in every page;
    the earlier one stays, and the database refuses to change or delete either."""

    class Origin(models.TextChoices):
        SCHEDULED = "scheduled", _("Cierre programado")
        ON_REQUEST = "on_request", _("Cierre en la primera consulta")
        CORRECTION = "correction", _("Corrección")

    pilot = models.ForeignKey(Pilot, on_delete=models.PROTECT, related_name="frozen_periods",
                              verbose_name=_("proyecto piloto"))
    start = models.DateField(_("primer día"))
    end = models.DateField(_("último día"))
    version = models.PositiveSmallIntegerField(_("versión"), default=1)
    origin = models.CharField(_("origen"), max_length=12, choices=Origin.choices)
    reason = models.TextField(_("motivo de la corrección"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("corregido por"))
    frozen_at = models.DateTimeField(_("cerrado el"), default=timezone.now)
    figures = models.JSONField(_("cifras publicadas"))

    objects = FrozenPeriodQuerySet.as_manager()

    class Meta:
        verbose_name = _("periodo cerrado")
        verbose_name_plural = _("periodos cerrados (cifras publicadas)")
        ordering = ["pilot", "-start", "end", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["pilot", "start", "end", "version"], name="frozen_period_one_version"),
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="frozen_period_dates_ordered"),
            models.CheckConstraint(condition=Q(version__gte=1), name="frozen_period_version_positive"),
            models.CheckConstraint(
                condition=(Q(version=1) & ~Q(origin="correction"))
                | (Q(version__gt=1, origin="correction", recorded_by__isnull=False) & ~Q(reason="")),
                name="frozen_period_correction_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pilot} · {self.start:%m/%Y}–{self.end:%m/%Y} · v{self.version}"
