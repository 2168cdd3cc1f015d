"""Diagnostics and risk alerts: instruments, assessments, alert rules and alerts.

The assessments are service entries of the record (``cases.models.ServiceEntry``):
the exclusion assessment belongs to the category ``exclusion_social`` (recorded by
social services), the employability diagnosis and the basic screening to
``empleabilidad`` (the screening may be recorded by any service that attends the
person, and is shown under that service). Their fields are declared in the project's
one field catalogue, ``cases/catalogue.py``.

Instruments are data, not code: an ``Instrument`` version has areas, items with a
score and cut-offs per area and for the total, all editable in the admin; an
assessment keeps the score each item had when it was answered, so editing an
instrument never rewrites past assessments.

Alerts are derived: a rule (``AlertRule``, its SQL in ``diagnostics/rules.py``)
fires for a person, an ``Alert`` records it once (one unresolved alert per rule and
person, guarded by a partial unique constraint) and each organisation that attends
the person gets an ``AlertDelivery`` whose text was built from what that recipient
may see (decision 0007).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import ExclusionSituation, Level, ServiceEntry, validate_not_future
from sharing.categories import CATEGORIES

ExclusionLevel = ExclusionSituation.Severity
EXCLUSION_RANK = {
    ExclusionLevel.INTEGRATION: 0,
    ExclusionLevel.RISK: 1,
    ExclusionLevel.MODERATE: 2,
    ExclusionLevel.SEVERE: 3,
}
CATEGORY_CHOICES = [(c.code, c.lazy_label) for c in CATEGORIES]


# --- Instruments ----------------------------------------------------------------------------


class AreaKind(models.TextChoices):
    """The six areas of a social exclusion assessment."""

    ECONOMIC = "economic", _("Económica")
    EMPLOYMENT = "employment", _("Empleo")
    HOUSING = "housing", _("Vivienda")
    HEALTH = "health", _("Salud")
    FAMILY_RELATIONS = "family_relations", _("Familia y relaciones")
    PERSONAL_LEGAL = "personal_legal", _("Situación personal y jurídica")


class Instrument(models.Model):
    """One version of an assessment instrument, with its published source."""

    code = models.SlugField(_("código"), max_length=40)
    version = models.CharField(_("versión"), max_length=40)
    name = models.CharField(_("nombre"), max_length=200)
    source = models.TextField(
        _("fuente publicada"), help_text=_("Cita completa de la fuente de ítems y puntos de corte.")
    )
    source_url = models.URLField(_("dirección de la fuente"), max_length=500, blank=True)
    unverified = models.TextField(
        _("lo que no se ha podido verificar"),
        blank=True,
        help_text=_("Qué partes del instrumento no se han contrastado con la fuente original."),
    )
    is_active = models.BooleanField(_("en uso"), default=True)
    created_at = models.DateTimeField(_("alta"), auto_now_add=True)

    class Meta:
        verbose_name = _("instrumento de valoración")
        verbose_name_plural = _("instrumentos de valoración")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="instrument_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.version})"


class Area(models.Model):
    instrument = models.ForeignKey(
        Instrument, on_delete=models.CASCADE, related_name="areas", verbose_name=_("instrumento")
    )
    kind = models.CharField(_("área"), max_length=20, choices=AreaKind.choices)
    label = models.CharField(_("denominación en el instrumento"), max_length=200)
    position = models.PositiveSmallIntegerField(_("orden"), default=0)

    class Meta:
        verbose_name = _("área del instrumento")
        verbose_name_plural = _("áreas del instrumento")
        ordering = ["instrument", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "kind"], name="area_unique_kind_per_instrument"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.instrument}"


class Item(models.Model):
    area = models.ForeignKey(
        Area, on_delete=models.CASCADE, related_name="items", verbose_name=_("área")
    )
    code = models.SlugField(_("código"), max_length=20)
    text = models.TextField(_("enunciado"))
    source_dimension = models.CharField(_("dimensión en la fuente"), max_length=100, blank=True)
    score = models.DecimalField(
        _("puntuación"),
        max_digits=5,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(0)],
    )
    verified = models.BooleanField(_("enunciado verificado con la fuente"), default=False)
    position = models.PositiveSmallIntegerField(_("orden"), default=0)

    class Meta:
        verbose_name = _("ítem del instrumento")
        verbose_name_plural = _("ítems del instrumento")
        ordering = ["area", "position"]
        constraints = [
            models.UniqueConstraint(fields=["area", "code"], name="item_unique_code_per_area"),
            models.CheckConstraint(condition=Q(score__gte=0), name="item_score_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.text[:60]}"


class CutOff(models.Model):
    """The lowest score at which a level starts, for one area or (area empty) for the total."""

    instrument = models.ForeignKey(
        Instrument, on_delete=models.CASCADE, related_name="cutoffs", verbose_name=_("instrumento")
    )
    area = models.ForeignKey(
        Area,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="cutoffs",
        verbose_name=_("área"),
        help_text=_("Vacío: punto de corte de la puntuación total."),
    )
    level = models.CharField(_("nivel"), max_length=12, choices=ExclusionLevel.choices)
    min_score = models.DecimalField(
        _("puntuación mínima"), max_digits=6, decimal_places=2, validators=[MinValueValidator(0)]
    )
    from_source = models.BooleanField(
        _("tomado de la fuente"),
        default=True,
        help_text=_("Desmarcado: convención de RIS, no publicada por la fuente."),
    )

    class Meta:
        verbose_name = _("punto de corte")
        verbose_name_plural = _("puntos de corte")
        ordering = ["instrument", "area", "min_score"]
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "level"],
                condition=Q(area__isnull=True),
                name="cutoff_unique_total_level",
            ),
            models.UniqueConstraint(
                fields=["instrument", "area", "level"],
                condition=Q(area__isnull=False),
                name="cutoff_unique_area_level",
            ),
        ]

    def __str__(self) -> str:
        where = self.area.get_kind_display() if self.area_id else _("total")
        return f"{where}: {self.get_level_display()} ≥ {self.min_score}"

    def clean(self) -> None:
        if self.area_id and self.instrument_id and self.area.instrument_id != self.instrument_id:
            raise ValidationError({"area": _("El área pertenece a otro instrumento.")})


# --- Assessments (service entries of the record) ---------------------------------------------


class ExclusionAssessment(ServiceEntry):
    """Valoración de la exclusión social con un instrumento, por servicios sociales."""

    CATEGORY = "exclusion_social"

    instrument = models.ForeignKey(
        Instrument,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("instrumento"),
    )
    assessed_on = models.DateField(_("fecha de valoración"), validators=[validate_not_future])
    total_score = models.DecimalField(_("puntuación total"), max_digits=7, decimal_places=2)
    level = models.CharField(_("situación"), max_length=12, choices=ExclusionLevel.choices)
    notes = models.TextField(_("observaciones"), blank=True)

    class Meta:
        verbose_name = _("valoración de la exclusión social")
        verbose_name_plural = _("valoraciones de la exclusión social")
        ordering = ["-assessed_on", "-pk"]
        indexes = [
            models.Index(fields=["person", "-assessed_on"], name="exclusion_assess_person_idx")
        ]


class ExclusionAnswer(models.Model):
    """One item of the instrument as answered, with the score the item had then."""

    assessment = models.ForeignKey(
        ExclusionAssessment,
        on_delete=models.CASCADE,
        related_name="answers",
        verbose_name=_("valoración"),
    )
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="+", verbose_name=_("ítem")
    )
    present = models.BooleanField(_("se da la situación"))
    score = models.DecimalField(
        _("puntuación del ítem al responder"), max_digits=5, decimal_places=2
    )

    class Meta:
        verbose_name = _("respuesta de la valoración")
        verbose_name_plural = _("respuestas de la valoración")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "item"], name="answer_unique_item"),
        ]

    def __str__(self) -> str:
        return f"{self.item.code}: {_('sí') if self.present else _('no')}"


class ExclusionAreaResult(models.Model):
    assessment = models.ForeignKey(
        ExclusionAssessment,
        on_delete=models.CASCADE,
        related_name="area_results",
        verbose_name=_("valoración"),
    )
    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("área")
    )
    score = models.DecimalField(_("puntuación"), max_digits=7, decimal_places=2)
    level = models.CharField(
        _("situación en el área"), max_length=12, choices=ExclusionLevel.choices, blank=True
    )

    class Meta:
        verbose_name = _("resultado por área")
        verbose_name_plural = _("resultados por área")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "area"], name="area_result_unique_area"),
        ]

    def __str__(self) -> str:
        return f"{self.area.get_kind_display()}: {self.score}"


class EmployabilityAssessment(ServiceEntry):
    """Diagnóstico de empleabilidad del servicio público de empleo, con sus factores."""

    CATEGORY = "empleabilidad"

    assessed_on = models.DateField(_("fecha del diagnóstico"), validators=[validate_not_future])
    level = models.CharField(
        _("nivel de empleabilidad"),
        max_length=6,
        choices=Level.choices,
        help_text=_("Lo decide el profesional; la sugerencia es orientativa."),
    )
    suggested_level = models.CharField(
        _("nivel sugerido por los factores"), max_length=6, choices=Level.choices
    )
    months_unemployed = models.PositiveSmallIntegerField(
        _("meses en desempleo"), null=True, blank=True, validators=[MaxValueValidator(600)]
    )
    education_level = models.ForeignKey(
        "reference.EducationLevel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("nivel de formación (CNED)"),
    )
    occupation = models.ForeignKey(
        "reference.Occupation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ocupación principal (CNO-11)"),
    )
    age = models.PositiveSmallIntegerField(
        _("edad"), validators=[MinValueValidator(16), MaxValueValidator(100)]
    )
    languages = ArrayField(
        models.CharField(max_length=3),
        blank=True,
        default=list,
        verbose_name=_("idiomas (ISO 639)"),
    )
    driving_licence = models.BooleanField(_("permiso de conducir"), default=False)
    months_worked_last_two_years = models.PositiveSmallIntegerField(
        _("meses trabajados en los últimos 24 meses"),
        default=0,
        validators=[MaxValueValidator(24)],
    )
    factors = models.TextField(_("otros factores y observaciones"), blank=True)

    class Meta:
        verbose_name = _("diagnóstico de empleabilidad")
        verbose_name_plural = _("diagnósticos de empleabilidad")
        ordering = ["-assessed_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(months_worked_last_two_years__lte=24),
                name="employability_months_worked_max_24",
            ),
        ]


class BasicEmployabilityScreening(ServiceEntry):
    """Cribado básico de empleabilidad: orientativo, lo pueden registrar servicios sociales y
    entidades; no sustituye al diagnóstico del servicio de empleo."""

    CATEGORY = "empleabilidad"

    screened_on = models.DateField(_("fecha del cribado"), validators=[validate_not_future])
    has_work_experience = models.BooleanField(_("tiene experiencia laboral"))
    completed_compulsory_education = models.BooleanField(_("terminó la educación obligatoria"))
    speaks_spanish = models.BooleanField(_("se comunica en castellano"))
    available_for_work = models.BooleanField(_("disponible para trabajar"))
    has_driving_licence = models.BooleanField(_("permiso de conducir"))
    basic_digital_skills = models.BooleanField(_("competencias digitales básicas"))
    result = models.CharField(
        _("resultado orientativo del cribado"), max_length=6, choices=Level.choices
    )
    refer_to_employment = models.BooleanField(
        _("proponer diagnóstico al servicio de empleo"),
        default=True,
    )
    notes = models.TextField(_("observaciones"), blank=True)

    class Meta:
        verbose_name = _("cribado básico de empleabilidad (orientativo)")
        verbose_name_plural = _("cribados básicos de empleabilidad (orientativos)")
        ordering = ["-screened_on", "-pk"]


# --- Alerts ---------------------------------------------------------------------------------


class AlertRule(models.Model):
    """A risk rule: its SQL lives in ``diagnostics.rules`` under the same code; its thresholds,
    description and whether it runs are configured here."""

    code = models.SlugField(_("código"), max_length=60, unique=True)
    description = models.TextField(_("descripción"))
    thresholds = models.JSONField(
        _("umbrales"),
        default=dict,
        blank=True,
        help_text=_("Valores de la regla (días, meses, porcentajes...)."),
    )
    categories = ArrayField(
        models.CharField(max_length=40, choices=CATEGORY_CHOICES),
        default=list,
        verbose_name=_("categorías que lee"),
        help_text=_("La alerta solo llega a quien ve al menos un indicador de todas ellas."),
    )
    is_active = models.BooleanField(_("activa"), default=True)

    class Meta:
        verbose_name = _("regla de alerta")
        verbose_name_plural = _("reglas de alerta")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        from .rules import RULES

        if self.code and self.code not in RULES:
            raise ValidationError({"code": _("No hay ninguna regla programada con ese código.")})
        if not isinstance(self.thresholds, dict):
            raise ValidationError({"thresholds": _("Los umbrales deben ser un objeto JSON.")})
        if self.code in RULES:
            try:
                RULES[self.code].parameters(self.thresholds)
            except (TypeError, ValueError) as exc:
                raise ValidationError(
                    {"thresholds": _("Umbral no válido: %(e)s") % {"e": exc}}
                ) from exc


class AlertState(models.TextChoices):
    """Whether the situation has been dealt with: shared by every organisation that received it.

    ``acknowledged`` is no longer written: "seen" belongs to each organisation's delivery
    (``AlertDelivery.seen_at``). Rows that still carry it (acknowledged before that) are
    unresolved, exactly like ``open``."""

    OPEN = "open", _("Abierta")
    ACKNOWLEDGED = "acknowledged", _("Vista")
    RESOLVED = "resolved", _("Resuelta")


UNRESOLVED = (AlertState.OPEN, AlertState.ACKNOWLEDGED)


class Alert(models.Model):
    """A rule fired for a person. At most one unresolved alert per rule and person.

    Resolving it is shared: the situation was dealt with, for every organisation that received
    it. The note is the resolving organisation's own text (``resolved_by_organisation``): only
    its members read it; the automatic resolution's fixed note is read by all (decision 0007).
    ``acknowledged_at``/``acknowledged_by`` keep who saw the alert before "seen" became a
    property of each delivery; nothing writes them any more."""

    # indexed by the composite indexes below (rule, person, ...) and (person, state)
    rule = models.ForeignKey(
        AlertRule,
        on_delete=models.PROTECT,
        related_name="alerts",
        verbose_name=_("regla"),
        db_index=False,
    )
    person = models.ForeignKey(
        "cases.Person",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("persona"),
        db_index=False,
    )
    state = models.CharField(
        _("estado"), max_length=12, choices=AlertState.choices, default=AlertState.OPEN
    )
    created_at = models.DateTimeField(_("creada"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("vista el"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("vista por"),
    )
    resolved_at = models.DateTimeField(_("resuelta el"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resuelta por"),
        help_text=_("Vacío en una alerta resuelta: la condición dejó de cumplirse."),
    )
    resolved_by_organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resuelta por la organización"),
    )
    resolution_note = models.TextField(_("nota de resolución"), blank=True)

    class Meta:
        verbose_name = _("alerta")
        verbose_name_plural = _("alertas")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "person"],
                condition=Q(state__in=["open", "acknowledged"]),
                name="alert_one_unresolved_per_rule_person",
                violation_error_message=_(
                    "Ya hay una alerta sin resolver de esta regla para esta persona."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(state="resolved") | Q(resolved_at__isnull=False),
                name="alert_resolved_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["person", "state"], name="alert_person_state_idx"),
            models.Index(
                fields=["rule", "person", "-resolved_at"], name="alert_rule_person_resolved_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule.code} · {self.person_id} · {self.get_state_display()}"


class AlertDelivery(models.Model):
    """What one organisation (its reference professional, or its queue) receives of an alert.

    A personal delivery whose recipient no longer reads alerts there (left, deactivated, another
    role) is read from the organisation's queue. ``text`` was built from the categories the
    recipient saw in full; ``plain_text`` names only the rule's conclusion (no values);
    ``levels`` records the level of each category read at delivery time, so that a page shows
    the detailed text only while those levels still hold (decision 0007)."""

    # indexed by the unique (alert, organisation) and the (organisation, recipient) indexes
    alert = models.ForeignKey(
        Alert,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("alerta"),
        db_index=False,
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organización"),
        db_index=False,
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("profesional destinatario"),
        help_text=_("Vacío: bandeja de la organización."),
    )
    text = models.TextField(_("texto"))
    plain_text = models.TextField(_("texto sin valores"))
    levels = models.JSONField(_("niveles al entregar"), default=dict)
    delivered_at = models.DateTimeField(_("entregada"), default=timezone.now)
    #: "Seen" is the organisation's: any of its readers marking it seen marks it for the
    #: organisation, never for the others that received the same alert.
    seen_at = models.DateTimeField(_("vista el"), null=True, blank=True)
    seen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("vista por"),
    )

    class Meta:
        verbose_name = _("entrega de alerta")
        verbose_name_plural = _("entregas de alertas")
        ordering = ["-delivered_at"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "organisation"], name="delivery_one_per_org"),
        ]
        indexes = [
            models.Index(fields=["organisation", "recipient"], name="delivery_org_recipient_idx")
        ]

    def __str__(self) -> str:
        return f"{self.alert} → {self.organisation_id}"
