"""The policy decision point's tables: catalogue, caseload, matrix, agreements, log."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from consent.purposes import Purpose
from ris.accounts.models import Role, ServiceKind

from .categories import COMMON, CRIMINAL, ORDINARY, SPECIAL


class Level(models.TextChoices):
    HIDDEN = "hidden", _("Oculto")
    INDICATOR = "indicator", _("Indicador")
    FULL = "full", _("Completo")


LEVEL_RANK = {Level.HIDDEN: 0, Level.INDICATOR: 1, Level.FULL: 2}


class DataCategory(models.Model):
    """A category of the data catalogue (synced from ``sharing.categories``)."""

    class Sensitivity(models.TextChoices):
        ORDINARY_ = ORDINARY, _("Ordinaria")
        SPECIAL_ = SPECIAL, _("Categoría especial (art. 9 RGPD)")
        CRIMINAL_ = CRIMINAL, _("Datos penales (art. 10 RGPD)")

    code = models.CharField(_("código"), max_length=40, primary_key=True)
    label = models.CharField(_("nombre"), max_length=120)
    owner_service = models.CharField(
        _("servicio propietario"), max_length=20,
        choices=[*ServiceKind.choices, (COMMON, _("Común a todos los servicios"))],
    )
    sensitivity = models.CharField(_("sensibilidad"), max_length=10, choices=Sensitivity.choices)
    definition = models.TextField(_("definición operativa"))
    position = models.PositiveSmallIntegerField(_("orden"), default=0)

    class Meta:
        verbose_name = _("categoría de datos")
        verbose_name_plural = _("categorías de datos")
        ordering = ["position"]

    def __str__(self) -> str:
        return self.label


class CatalogueField(models.Model):
    """One field of the record and its category (synced from ``cases.catalogue``)."""

    model = models.CharField(_("modelo"), max_length=80)
    field = models.CharField(_("campo"), max_length=80)
    category = models.ForeignKey(DataCategory, on_delete=models.PROTECT, related_name="fields",
                                 verbose_name=_("categoría"))

    class Meta:
        verbose_name = _("campo del catálogo")
        verbose_name_plural = _("catálogo de datos")
        ordering = ["model", "field"]
        constraints = [models.UniqueConstraint(fields=["model", "field"], name="catalogue_field_unique")]

    def __str__(self) -> str:
        return f"{self.model}.{self.field}"


class EnrolmentQuerySet(models.QuerySet):
    def open(self) -> EnrolmentQuerySet:
        today = timezone.localdate()
        return self.filter(start_date__lte=today).filter(Q(end_date__isnull=True) | Q(end_date__gte=today))


class Enrolment(models.Model):
    """The organisation attends the person: the record of truth for the caseload."""

    class Origin(models.TextChoices):
        REGISTRATION = "registration", _("Alta en el servicio")
        REFERRAL = "referral", _("Derivación aceptada")
        IMPORT = "import", _("Importación")

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="enrolments",
                                     verbose_name=_("organización"))
    person = models.ForeignKey("cases.Person", on_delete=models.CASCADE, related_name="enrolments",
                               verbose_name=_("persona"))
    origin = models.CharField(_("origen"), max_length=14, choices=Origin.choices)
    start_date = models.DateField(_("inicio de la atención"), default=timezone.localdate)
    end_date = models.DateField(_("fin de la atención"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("registrado por"))

    objects = EnrolmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("atención (expediente en el servicio)")
        verbose_name_plural = _("atenciones (expedientes en los servicios)")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "person"], condition=Q(end_date__isnull=True),
                name="enrolment_one_open_per_org",
                violation_error_message=_("La organización ya atiende a esta persona."),
            ),
        ]
        indexes = [models.Index(fields=["person", "organisation"], name="enrolment_person_org_idx")]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.person}"


class PersonUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("cases.Person", on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("permiso de usuario sobre persona")
        verbose_name_plural = _("permisos de usuario sobre personas")


class PersonGroupObjectPermission(GroupObjectPermissionBase):
    """Guardian's direct foreign-key permission: the organisation's group may view the person."""

    content_object = models.ForeignKey("cases.Person", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("permiso de organización sobre persona")
        verbose_name_plural = _("permisos de organizaciones sobre personas")


class VisibilityRule(models.Model):
    """The matrix role × category → level; a row with a community overrides the national one."""

    role = models.CharField(_("rol"), max_length=24, choices=Role.choices)
    category = models.ForeignKey(DataCategory, on_delete=models.CASCADE, related_name="visibility_rules",
                                 verbose_name=_("categoría"))
    community = models.ForeignKey("reference.AutonomousCommunity", on_delete=models.CASCADE, null=True, blank=True,
                                  verbose_name=_("comunidad autónoma"),
                                  help_text=_("Vacío: regla general. Con comunidad: sustituye a la general allí."))
    level = models.CharField(_("nivel máximo"), max_length=10, choices=Level.choices)

    class Meta:
        verbose_name = _("regla de visibilidad")
        verbose_name_plural = _("matriz de visibilidad")
        ordering = ["role", "category__position"]
        constraints = [
            models.UniqueConstraint(fields=["role", "category"], condition=Q(community__isnull=True),
                                    name="visibility_rule_unique_national"),
            models.UniqueConstraint(fields=["role", "category", "community"], condition=Q(community__isnull=False),
                                    name="visibility_rule_unique_regional"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} · {self.category} → {self.get_level_display()}"


class SharingAgreement(models.Model):
    """Convenio: an organisation's agreement to take part, with its scope and terms."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="agreements",
                                     verbose_name=_("organización"))
    title = models.CharField(_("título"), max_length=200)
    parties = models.ManyToManyField("accounts.Organisation", related_name="+", verbose_name=_("partes"))
    community = models.ForeignKey("reference.AutonomousCommunity", on_delete=models.PROTECT,
                                  verbose_name=_("comunidad autónoma"))
    categories = ArrayField(models.CharField(max_length=40), verbose_name=_("categorías"))
    purposes = ArrayField(models.CharField(max_length=16, choices=Purpose.choices), verbose_name=_("finalidades"))
    valid_from = models.DateField(_("vigente desde"))
    valid_until = models.DateField(_("vigente hasta"))
    processing_terms = models.TextField(_("encargo de tratamiento"))
    document = models.FileField(_("convenio firmado"), upload_to="agreements/%Y/", blank=True)
    document_sha256 = models.CharField(_("huella SHA-256"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("convenio")
        verbose_name_plural = _("convenios")
        constraints = [
            models.CheckConstraint(condition=Q(valid_until__gte=models.F("valid_from")),
                                   name="agreement_period_ordered"),
        ]

    def __str__(self) -> str:
        return self.title


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    API = "api", _("API")
    JOB = "job", _("Proceso automático")
    EXPORT = "export", _("Exportación")


@pgtrigger.register(
    pgtrigger.Protect(name="disclosure_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
)
class DisclosureLogEntry(models.Model):
    """Append-only, hash-chained: who saw which data of whom, when and on what basis."""

    class Event(models.TextChoices):
        DISCLOSURE = "disclosure", _("Comunicación de datos de otro servicio")
        SPECIAL_READ = "special_read", _("Lectura de categoría especial")
        REFUSED = "refused", _("Solicitud denegada")
        EXPORT = "export", _("Exportación")
        BREAK_GLASS = "break_glass", _("Acceso de emergencia")
        LOOKUP = "lookup", _("Búsqueda exacta fuera del caso")
        ALERT = "alert", _("Entrega de alerta")

    at = models.DateTimeField(_("momento (UTC)"), default=timezone.now, db_index=True)
    event = models.CharField(_("evento"), max_length=14, choices=Event.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name=_("usuario"))
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("organización"))
    role = models.CharField(_("rol"), max_length=24, blank=True)
    person = models.ForeignKey("cases.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("persona"))
    category = models.CharField(_("categoría"), max_length=40, blank=True)
    level = models.CharField(_("nivel entregado"), max_length=10, blank=True)
    purpose = models.CharField(_("finalidad"), max_length=16, blank=True)
    basis = models.CharField(_("base"), max_length=200, blank=True)
    channel = models.CharField(_("canal"), max_length=8, choices=Channel.choices)
    request_id = models.CharField(_("identificador de la petición"), max_length=64, blank=True)
    prev_hash = models.CharField(_("huella anterior"), max_length=64)
    row_hash = models.CharField(_("huella"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("registro de accesos")
        verbose_name_plural = _("registro de accesos")
        ordering = ["id"]
        indexes = [models.Index(fields=["person", "at"], name="disclosure_person_at_idx")]

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.get_event_display()}"


class BreakGlassAccess(models.Model):
    """Emergency access outside the basis rules: logged, time-boxed, reviewed by the DPO."""

    MAX_DURATION_HOURS = 4

    class Outcome(models.TextChoices):
        PENDING = "", _("Pendiente de revisión")
        JUSTIFIED = "justified", _("Justificado")
        UNJUSTIFIED = "unjustified", _("No justificado")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("profesional"))
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("organización"))
    person = models.ForeignKey("cases.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("persona"))
    reason = models.TextField(_("motivo de la urgencia"))
    started_at = models.DateTimeField(_("inicio"), default=timezone.now)
    expires_at = models.DateTimeField(_("caduca"))
    reviewed_at = models.DateTimeField(_("revisado el"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("revisado por"))
    outcome = models.CharField(_("resultado de la revisión"), max_length=12, choices=Outcome.choices,
                               blank=True, default="")
    review_note = models.TextField(_("nota de revisión"), blank=True)

    class Meta:
        verbose_name = _("acceso de emergencia")
        verbose_name_plural = _("accesos de emergencia")
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("started_at"))
                & Q(expires_at__lte=models.F("started_at") + timezone.timedelta(hours=4)),
                name="break_glass_at_most_four_hours",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="break_glass_reason_required"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.person} ({self.started_at:%d/%m/%Y %H:%M})"
