"""The historia social única: the person, the household and the service-owned sections.

Every field of every model here is declared in the data catalogue
(``cases/catalogue.py``) with its category; reads that cross a service boundary go
through ``sharing``.
"""

from __future__ import annotations

import datetime as dt

import pgtrigger
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, RangeOperators
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ris.accounts.models import ServiceKind

from .identity import DOCUMENT_REFUSED, normalise_document, validate_dni, validate_nie


def validate_not_future(value: dt.date) -> None:
    if value and value > timezone.localdate():
        raise ValidationError(_("La fecha no puede ser posterior a hoy."), code="future_date")


class Versioned(models.Model):
    """Optimistic locking: a save carries the version it was read at."""

    version = models.PositiveIntegerField(_("versión"), default=1, editable=False)

    class Meta:
        abstract = True


class Sex(models.TextChoices):
    FEMALE = "F", _("Mujer")
    MALE = "M", _("Hombre")
    OTHER = "X", _("Otro / no consta")


class PersonQuerySet(models.QuerySet):
    def with_document(self, document_type: str, number: str) -> PersonQuerySet:
        return self.filter(document_type=document_type, document_number=normalise_document(number))


class Person(Versioned):
    class DocumentType(models.TextChoices):
        DNI = "dni", _("DNI")
        NIE = "nie", _("NIE")
        PASSPORT = "passport", _("Pasaporte")
        NONE = "none", _("Sin documento")

    class NoDocumentReason(models.TextChoices):
        UNDOCUMENTED = "undocumented", _("Persona en situación administrativa irregular sin documentación")
        MINOR = "minor", _("Menor sin documentación propia")
        LOST = "lost", _("Documentación perdida o en trámite")
        OTHER = "other", _("Otro motivo")

    first_name = models.CharField(_("nombre"), max_length=80)
    last_name_1 = models.CharField(_("primer apellido"), max_length=80)
    last_name_2 = models.CharField(_("segundo apellido"), max_length=80, blank=True)
    document_type = models.CharField(_("tipo de documento"), max_length=10, choices=DocumentType.choices)
    document_number = models.CharField(_("número de documento"), max_length=20, blank=True)
    no_document_reason = models.CharField(
        _("motivo de no tener documento"), max_length=20, choices=NoDocumentReason.choices, blank=True,
    )
    birth_date = models.DateField(_("fecha de nacimiento"), validators=[validate_not_future])
    sex = models.CharField(_("sexo"), max_length=1, choices=Sex.choices)
    nationality = models.CharField(_("nacionalidad (ISO 3166)"), max_length=2, default="ES")
    address_line = models.CharField(_("domicilio"), max_length=200, blank=True)
    postal_code = models.CharField(_("código postal"), max_length=5, blank=True)
    municipality = models.ForeignKey(
        "reference.Municipality", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("municipio"),
    )
    phone = models.CharField(_("teléfono"), max_length=20, blank=True)
    email = models.EmailField(_("correo electrónico"), blank=True)
    education_level = models.ForeignKey(
        "reference.EducationLevel", on_delete=models.PROTECT, null=True, blank=True,
        verbose_name=_("nivel de formación (CNED)"),
    )
    languages = ArrayField(
        models.CharField(max_length=3), blank=True, default=list, verbose_name=_("idiomas (ISO 639)"),
    )
    created_at = models.DateTimeField(_("fecha de alta"), auto_now_add=True)
    updated_at = models.DateTimeField(_("última modificación"), auto_now=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="absorbed_records",
        verbose_name=_("fusionado en"),
        help_text=_("El registro que permanece, si este se fusionó en otro (siempre el último de la cadena)."),
    )
    search_name = models.GeneratedField(
        expression=Func(
            Func(Concat(F("first_name"), Value(" "), F("last_name_1"), Value(" "), F("last_name_2")),
                 function="lower"),
            function="ris_unaccent",
        ),
        output_field=models.TextField(),
        db_persist=True,
        verbose_name=_("nombre para búsqueda"),
    )

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("persona")
        verbose_name_plural = _("personas")
        ordering = ["last_name_1", "last_name_2", "first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["document_type", "document_number"],
                condition=~Q(document_number=""),
                name="person_unique_document",
                violation_error_message=_("Ya existe una persona registrada con ese documento."),
            ),
            models.CheckConstraint(
                condition=Q(document_type="none", document_number="") | (~Q(document_type="none") & ~Q(document_number="")),
                name="person_document_number_matches_type",
                violation_error_message=_("El número de documento no corresponde al tipo indicado."),
            ),
            models.CheckConstraint(
                condition=~Q(document_type="none") | ~Q(no_document_reason=""),
                name="person_no_document_has_reason",
                violation_error_message=_("Indique por qué la persona no tiene documento."),
            ),
        ]
        indexes = [
            models.Index(fields=["birth_date"], name="person_birth_date_idx"),
            GinIndex(OpClass(F("search_name"), name="gin_trgm_ops"), name="person_search_name_trgm"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name_1, self.last_name_2) if p)

    def get_additional_data(self) -> dict:
        """Stored with each change-history event so the history can be filtered like the record."""
        return {"person_id": self.pk, "category": "ficha_basica", "source": "common"}

    def age_on(self, day: dt.date) -> int:
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def clean(self) -> None:
        errors: dict[str, list] = {}
        number = normalise_document(self.document_number)
        try:
            if self.document_type == self.DocumentType.DNI:
                self.document_number = validate_dni(number)
            elif self.document_type == self.DocumentType.NIE:
                self.document_number = validate_nie(number)
            elif self.document_type == self.DocumentType.PASSPORT:
                if not (5 <= len(number) <= 20 and number.isalnum()):
                    raise ValidationError(
                        _("El número de pasaporte debe tener entre 5 y 20 letras o cifras."), code="passport",
                    )
                self.document_number = number
            elif self.document_type == self.DocumentType.NONE:
                if number:
                    raise ValidationError(
                        _("Si la persona no tiene documento, deje el número en blanco."), code="no_document",
                    )
                if not self.no_document_reason:
                    errors["no_document_reason"] = [_("Indique por qué la persona no tiene documento.")]
        except ValidationError as exc:
            errors["document_number"] = exc.error_list
        if self.document_type != self.DocumentType.NONE:
            self.no_document_reason = ""
        if self.birth_date and self.birth_date < dt.date(1900, 1, 1):
            errors["birth_date"] = [_("La fecha de nacimiento no es verosímil.")]
        if self.postal_code and not (len(self.postal_code) == 5 and self.postal_code.isdigit()):
            errors["postal_code"] = [_("El código postal tiene 5 cifras.")]
        if errors:
            raise ValidationError(errors)

    def validate_constraints(self, exclude=None) -> None:
        """Django's, except that a document another record holds is refused with
        ``DOCUMENT_REFUSED`` on the document, which does not say that someone holds it: only
        registration and the start of a referral may tell that (docs/decisions/0008). The
        constraint keeps its own message, which is part of the schema's state."""
        try:
            super().validate_constraints(exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict({})
            taken = next(c for c in self._meta.constraints if c.name == "person_unique_document")
            general = errors.pop(NON_FIELD_ERRORS, [])
            kept = [e for e in general if getattr(e, "message", None) != taken.get_violation_error_message()]
            if kept:
                errors[NON_FIELD_ERRORS] = kept
            if len(kept) < len(general):
                errors.setdefault("document_number", []).append(
                    ValidationError(DOCUMENT_REFUSED, code="document_refused"))
            raise ValidationError(errors) from None


class Household(Versioned):
    """Unidad de convivencia: who lives together, and the household's economy."""

    class Tenure(models.TextChoices):
        OWNED = "owned", _("Propiedad")
        RENTED = "rented", _("Alquiler")
        ROOM = "room", _("Habitación alquilada")
        CEDED = "ceded", _("Cesión gratuita")
        INSECURE = "insecure", _("Vivienda insegura u ocupada")
        NONE = "none", _("Sin vivienda")

    address_line = models.CharField(_("domicilio"), max_length=200, blank=True)
    municipality = models.ForeignKey(
        "reference.Municipality", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("municipio"),
    )
    housing_tenure = models.CharField(_("régimen de tenencia"), max_length=10, choices=Tenure.choices, blank=True)
    monthly_income = models.DecimalField(
        _("ingresos mensuales del hogar (€)"), max_digits=9, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0)],
    )
    monthly_expenses = models.DecimalField(
        _("gastos mensuales del hogar (€)"), max_digits=9, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0)],
    )
    deprivation_items = models.ManyToManyField(
        "reference.DeprivationItem", blank=True, verbose_name=_("carencias materiales y sociales"),
        help_text=_("Ítems que el hogar o sus miembros no pueden permitirse (indicador SMSD de la UE)."),
    )
    economy_recorded_on = models.DateField(
        _("fecha de los datos económicos"), null=True, blank=True, validators=[validate_not_future],
    )
    created_at = models.DateTimeField(_("fecha de alta"), auto_now_add=True)
    updated_at = models.DateTimeField(_("última modificación"), auto_now=True)

    class Meta:
        verbose_name = _("unidad de convivencia")
        verbose_name_plural = _("unidades de convivencia")

    def __str__(self) -> str:
        return _("Unidad de convivencia %(id)s") % {"id": self.pk}

    def get_additional_data(self) -> dict:
        return {"household_id": self.pk, "category": "situacion_economica", "source": "social"}


class HouseholdMember(models.Model):
    class Relationship(models.TextChoices):
        HOLDER = "holder", _("Persona titular")
        PARTNER = "partner", _("Cónyuge o pareja")
        CHILD = "child", _("Hijo/a")
        PARENT = "parent", _("Padre/madre")
        SIBLING = "sibling", _("Hermano/a")
        GRANDCHILD = "grandchild", _("Nieto/a")
        OTHER_RELATIVE = "other_relative", _("Otro familiar")
        NON_RELATIVE = "non_relative", _("Sin parentesco")

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members",
                                  verbose_name=_("unidad de convivencia"))
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="household_memberships",
                               verbose_name=_("persona"))
    relationship = models.CharField(_("parentesco con la persona titular"), max_length=16,
                                    choices=Relationship.choices)
    start_date = models.DateField(_("desde"), validators=[validate_not_future])
    end_date = models.DateField(_("hasta"), null=True, blank=True)
    months_worked_last_year = models.PositiveSmallIntegerField(
        _("meses trabajados en los últimos 12 meses"), null=True, blank=True,
        validators=[MaxValueValidator(12)],
    )

    class Meta:
        verbose_name = _("miembro de la unidad de convivencia")
        verbose_name_plural = _("miembros de la unidad de convivencia")
        ordering = ["household", "start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gt=F("start_date")),
                name="household_member_dates_ordered",
                violation_error_message=_("La fecha de baja debe ser posterior a la de alta."),
            ),
            models.CheckConstraint(
                condition=Q(months_worked_last_year__isnull=True) | Q(months_worked_last_year__lte=12),
                name="household_member_months_worked_max_12",
                violation_error_message=_("Un año tiene como máximo 12 meses trabajados."),
            ),
            ExclusionConstraint(
                name="household_member_one_household_at_a_time",
                expressions=[
                    ("person", RangeOperators.EQUAL),
                    (Func(F("start_date"), F("end_date"), Value("[)"), function="daterange",
                          output_field=models.DateField()), RangeOperators.OVERLAPS),
                ],
                violation_error_message=_(
                    "Esta persona ya figura en una unidad de convivencia en esas fechas."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_relationship_display()}"

    def get_additional_data(self) -> dict:
        return {"person_id": self.person_id, "household_id": self.household_id,
                "category": "unidad_convivencia", "source": "social"}

    def clean(self) -> None:
        if self.end_date and self.start_date and self.end_date <= self.start_date:
            raise ValidationError({"end_date": _("La fecha de baja debe ser posterior a la de alta.")})


class ServiceEntry(Versioned):
    """Base of every service-owned section: who recorded it, and whether it is restricted."""

    CATEGORY: str = ""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+", verbose_name=_("persona"))
    recorded_by_service = models.CharField(_("servicio que registra"), max_length=20, choices=ServiceKind.choices)
    recorded_by_org = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("organización que registra"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True,
        verbose_name=_("profesional que registra"),
    )
    restricted = models.BooleanField(
        _("acceso restringido por el servicio de origen"), default=False,
        help_text=_("Los demás servicios solo sabrán que existe información en esta área."),
    )
    created_at = models.DateTimeField(_("fecha de registro"), auto_now_add=True)
    updated_at = models.DateTimeField(_("última modificación"), auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"

    @classmethod
    def category_code(cls) -> str:
        return cls.CATEGORY

    def get_additional_data(self) -> dict:
        return {"person_id": self.person_id, "category": self.CATEGORY, "source": self.recorded_by_service,
                "organisation": self.recorded_by_org_id}


# --- Servicios sociales ---------------------------------------------------------------

class Level(models.TextChoices):
    LOW = "low", _("Bajo")
    MEDIUM = "medium", _("Medio")
    HIGH = "high", _("Alto")


class SocialCompetences(ServiceEntry):
    CATEGORY = "competencias"

    assessed_on = models.DateField(_("fecha de valoración"), validators=[validate_not_future])
    pre_work_skills = models.TextField(_("habilidades prelaborales"))
    can_follow_itinerary = models.BooleanField(_("puede seguir un itinerario de inserción"))
    notes = models.TextField(_("observaciones"), blank=True)

    class Meta:
        verbose_name = _("competencias y habilidades prelaborales")
        verbose_name_plural = verbose_name


class MotivationAssessment(ServiceEntry):
    CATEGORY = "motivacion"

    assessed_on = models.DateField(_("fecha de valoración"), validators=[validate_not_future])
    motivation_level = models.CharField(_("nivel de motivación"), max_length=6, choices=Level.choices)
    emotional_factors = models.TextField(_("factores emocionales"), blank=True)

    class Meta:
        verbose_name = _("valoración motivacional")
        verbose_name_plural = _("valoraciones motivacionales")


class PlannedService(ServiceEntry):
    CATEGORY = "servicios_planificados"

    basic_service = models.ForeignKey("reference.BasicSocialService", on_delete=models.PROTECT,
                                      verbose_name=_("prestación básica"))
    description = models.CharField(_("descripción"), max_length=255)
    start_date = models.DateField(_("inicio"))
    end_date = models.DateField(_("fin"), null=True, blank=True)

    class Meta:
        verbose_name = _("servicio social planificado")
        verbose_name_plural = _("servicios sociales planificados")


class MinimumIncome(ServiceEntry):
    CATEGORY = "rentas_minimas"

    class Scheme(models.TextChoices):
        IMV = "imv", _("Ingreso mínimo vital")
        REGIONAL = "regional", _("Renta mínima autonómica")
        EMERGENCY = "emergency", _("Ayuda de emergencia social")

    class Status(models.TextChoices):
        APPLIED = "applied", _("Solicitada")
        GRANTED = "granted", _("Concedida")
        DENIED = "denied", _("Denegada")
        ENDED = "ended", _("Extinguida")

    scheme = models.CharField(_("prestación"), max_length=10, choices=Scheme.choices)
    status = models.CharField(_("estado"), max_length=8, choices=Status.choices)
    monthly_amount = models.DecimalField(_("importe mensual (€)"), max_digits=8, decimal_places=2,
                                         null=True, blank=True, validators=[MinValueValidator(0)])
    start_date = models.DateField(_("inicio"))
    end_date = models.DateField(_("fin"), null=True, blank=True)

    class Meta:
        verbose_name = _("renta mínima o prestación no estatal")
        verbose_name_plural = _("rentas mínimas y prestaciones no estatales")


class FamilySituation(ServiceEntry):
    CATEGORY = "situacion_familiar"

    description = models.TextField(_("situación personal y familiar"))
    caring_responsibilities = models.BooleanField(_("cargas familiares o de cuidados"), default=False)
    single_parent = models.BooleanField(_("familia monoparental"), default=False)

    class Meta:
        verbose_name = _("situación personal y familiar")
        verbose_name_plural = verbose_name


class ExclusionSituation(ServiceEntry):
    CATEGORY = "exclusion_social"

    class Severity(models.TextChoices):
        INTEGRATION = "integration", _("Integración")
        RISK = "risk", _("Riesgo")
        MODERATE = "moderate", _("Exclusión moderada")
        SEVERE = "severe", _("Exclusión grave")

    assessed_on = models.DateField(_("fecha de valoración"), validators=[validate_not_future])
    severity = models.CharField(_("situación"), max_length=12, choices=Severity.choices)
    need_assessment = models.TextField(_("valoración de la necesidad"))

    class Meta:
        verbose_name = _("situación de exclusión social")
        verbose_name_plural = verbose_name


class InformalWork(ServiceEntry):
    CATEGORY = "trabajo_informal"

    activity = models.CharField(_("actividad"), max_length=200)
    hours_per_week = models.PositiveSmallIntegerField(_("horas semanales"), null=True, blank=True,
                                                      validators=[MaxValueValidator(100)])
    notes = models.TextField(_("observaciones"), blank=True)

    class Meta:
        verbose_name = _("trabajo informal")
        verbose_name_plural = verbose_name


class LegalStatus(ServiceEntry):
    CATEGORY = "situacion_juridica"

    class Residence(models.TextChoices):
        NATIONAL = "national", _("Nacionalidad española")
        EU = "eu", _("Ciudadanía de la UE")
        RESIDENCE_WORK = "residence_work", _("Residencia y trabajo")
        RESIDENCE = "residence", _("Residencia sin autorización de trabajo")
        ASYLUM = "asylum", _("Solicitante o beneficiaria de protección internacional")
        IRREGULAR = "irregular", _("Situación administrativa irregular")

    residence_status = models.CharField(_("situación administrativa"), max_length=16, choices=Residence.choices)
    valid_until = models.DateField(_("vigente hasta"), null=True, blank=True)
    notes = models.TextField(_("observaciones"), blank=True)

    class Meta:
        verbose_name = _("situación jurídica y documental")
        verbose_name_plural = verbose_name


class HealthRecord(ServiceEntry):
    CATEGORY = "salud"

    description = models.TextField(_("situación de salud"))
    disability_degree = models.PositiveSmallIntegerField(_("grado de discapacidad (%)"), null=True, blank=True,
                                                         validators=[MaxValueValidator(100)])
    dependency_grade = models.CharField(_("grado de dependencia"), max_length=3, blank=True,
                                        choices=[("I", "I"), ("II", "II"), ("III", "III")])

    class Meta:
        verbose_name = _("salud y discapacidad")
        verbose_name_plural = verbose_name


class CriminalRecord(ServiceEntry):
    CATEGORY = "antecedentes_penales"

    description = models.TextField(_("descripción"))
    measure_until = models.DateField(_("medida vigente hasta"), null=True, blank=True)

    class Meta:
        verbose_name = _("antecedentes penales")
        verbose_name_plural = verbose_name


# --- Servicio público de empleo --------------------------------------------------------

class JobSeekerRecord(ServiceEntry):
    CATEGORY = "demanda_empleo"

    class Status(models.TextChoices):
        UNEMPLOYED = "unemployed", _("Desempleada")
        EMPLOYED = "employed", _("Ocupada (mejora de empleo)")
        NOT_REGISTERED = "not_registered", _("No inscrita")

    status = models.CharField(_("situación"), max_length=16, choices=Status.choices)
    registered_on = models.DateField(_("fecha de inscripción"), null=True, blank=True,
                                     validators=[validate_not_future])
    unemployed_since = models.DateField(_("en desempleo desde"), null=True, blank=True,
                                        validators=[validate_not_future])
    occupation_sought = models.ForeignKey("reference.Occupation", on_delete=models.PROTECT, null=True, blank=True,
                                          verbose_name=_("ocupación solicitada (CNO-11)"))
    driving_licence = models.BooleanField(_("permiso de conducir"), default=False)

    class Meta:
        verbose_name = _("demanda de empleo")
        verbose_name_plural = _("demandas de empleo")


class EmploymentHistoryEntry(ServiceEntry):
    CATEGORY = "demanda_empleo"

    employer = models.CharField(_("empresa"), max_length=200, blank=True)
    occupation = models.ForeignKey("reference.Occupation", on_delete=models.PROTECT, null=True, blank=True,
                                   verbose_name=_("ocupación (CNO-11)"))
    start_date = models.DateField(_("inicio"), validators=[validate_not_future])
    end_date = models.DateField(_("fin"), null=True, blank=True)

    class Meta:
        verbose_name = _("empleo anterior")
        verbose_name_plural = _("historial laboral")


class UnemploymentBenefit(ServiceEntry):
    CATEGORY = "prestaciones_estatales"

    class Kind(models.TextChoices):
        CONTRIBUTORY = "contributory", _("Prestación contributiva por desempleo")
        ASSISTANCE = "assistance", _("Subsidio por desempleo")
        RAI = "rai", _("Renta activa de inserción (RAI)")
        PENSION = "pension", _("Pensión")
        OTHER = "other", _("Otra prestación estatal")

    kind = models.CharField(_("tipo"), max_length=12, choices=Kind.choices)
    monthly_amount = models.DecimalField(_("importe mensual (€)"), max_digits=8, decimal_places=2,
                                         null=True, blank=True, validators=[MinValueValidator(0)])
    start_date = models.DateField(_("inicio"))
    end_date = models.DateField(_("fin previsto"), null=True, blank=True)

    class Meta:
        verbose_name = _("prestación por desempleo")
        verbose_name_plural = _("prestaciones por desempleo")


class EmployabilityLevel(ServiceEntry):
    CATEGORY = "empleabilidad"

    assessed_on = models.DateField(_("fecha del diagnóstico"), validators=[validate_not_future])
    level = models.CharField(_("nivel de empleabilidad"), max_length=6, choices=Level.choices)
    factors = models.TextField(_("factores"), blank=True)

    class Meta:
        verbose_name = _("nivel de empleabilidad")
        verbose_name_plural = _("niveles de empleabilidad")


class ActivePolicyItinerary(ServiceEntry):
    CATEGORY = "itinerario_empleo"

    class Status(models.TextChoices):
        ACTIVE = "active", _("En curso")
        COMPLETED = "completed", _("Finalizado")
        DROPPED = "dropped", _("Abandonado")

    programme = models.CharField(_("programa o acción"), max_length=200)
    start_date = models.DateField(_("inicio"))
    end_date = models.DateField(_("fin"), null=True, blank=True)
    status = models.CharField(_("estado"), max_length=10, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        verbose_name = _("itinerario de políticas activas")
        verbose_name_plural = _("itinerarios de políticas activas")


# --- Tercer Sector ----------------------------------------------------------------------

class SocialFolderIntervention(ServiceEntry):
    CATEGORY = "carpeta_social"

    class Kind(models.TextChoices):
        ACCOMPANIMENT = "accompaniment", _("Acompañamiento")
        MATERIAL_AID = "material_aid", _("Ayuda material")
        TRAINING = "training", _("Formación")
        GUIDANCE = "guidance", _("Orientación")
        OTHER = "other", _("Otra")

    date = models.DateField(_("fecha"), validators=[validate_not_future])
    kind = models.CharField(_("tipo de intervención"), max_length=14, choices=Kind.choices)
    description = models.TextField(_("descripción"))

    class Meta:
        verbose_name = _("intervención de la carpeta social")
        verbose_name_plural = _("intervenciones de la carpeta social")


class CompanyIntermediation(ServiceEntry):
    CATEGORY = "intermediacion"

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pendiente")
        INTERVIEW = "interview", _("Entrevista")
        HIRED = "hired", _("Contratación")
        REJECTED = "rejected", _("Sin éxito")

    date = models.DateField(_("fecha"), validators=[validate_not_future])
    company = models.CharField(_("empresa"), max_length=200)
    position = models.CharField(_("puesto"), max_length=200)
    outcome = models.CharField(_("resultado"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING)

    class Meta:
        verbose_name = _("intermediación con empresa")
        verbose_name_plural = _("intermediaciones con empresas")


class ChildPovertyDetection(ServiceEntry):
    CATEGORY = "pobreza_infantil"

    detected_on = models.DateField(_("fecha de detección"), validators=[validate_not_future])
    minors_affected = models.PositiveSmallIntegerField(_("menores afectados"))
    description = models.TextField(_("situación detectada"))

    class Meta:
        verbose_name = _("detección de pobreza infantil")
        verbose_name_plural = _("detecciones de pobreza infantil")


# --- Común: diario y profesionales de referencia -------------------------------------------

class DiaryEntry(ServiceEntry):
    CATEGORY = "atenciones"

    class Kind(models.TextChoices):
        APPOINTMENT = "appointment", _("Cita")
        INTERVIEW = "interview", _("Entrevista")
        HOME_VISIT = "home_visit", _("Visita a domicilio")
        PHONE_CALL = "phone_call", _("Llamada telefónica")

    kind = models.CharField(_("tipo"), max_length=12, choices=Kind.choices)
    happened_at = models.DateTimeField(_("fecha y hora"))
    demand = models.TextField(_("demanda"), blank=True)
    assessment = models.TextField(_("valoración"), blank=True)
    resource = models.ForeignKey("reference.BasicSocialService", on_delete=models.PROTECT, null=True, blank=True,
                                 verbose_name=_("recurso aplicado"))
    notes = models.TextField(_("observaciones"), blank=True)

    class Meta:
        verbose_name = _("anotación del diario")
        verbose_name_plural = _("diario de atenciones")
        ordering = ["-happened_at"]
        indexes = [models.Index(fields=["person", "-happened_at"], name="diary_person_time_idx")]

    def clean(self) -> None:
        if self.happened_at and self.kind != self.Kind.APPOINTMENT and self.happened_at > timezone.now():
            raise ValidationError({"happened_at": _("Solo una cita puede tener fecha futura.")})


class ReferenceProfessional(models.Model):
    """The profesional de referencia of each organisation that attends the person."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="reference_professionals",
                               verbose_name=_("persona"))
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("organización"))
    professional = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("profesional"))
    since = models.DateField(_("desde"), default=dt.date.today)

    class Meta:
        verbose_name = _("profesional de referencia")
        verbose_name_plural = _("profesionales de referencia")
        constraints = [
            models.UniqueConstraint(fields=["person", "organisation"], name="one_reference_professional_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.professional} ({self.organisation})"


SECTION_MODELS: tuple[type[ServiceEntry], ...] = (
    SocialCompetences, MotivationAssessment, PlannedService, MinimumIncome, FamilySituation,
    ExclusionSituation, InformalWork, LegalStatus, HealthRecord, CriminalRecord,
    JobSeekerRecord, EmploymentHistoryEntry, UnemploymentBenefit, EmployabilityLevel, ActivePolicyItinerary,
    SocialFolderIntervention, CompanyIntermediation, ChildPovertyDetection,
    DiaryEntry,
)


# --- Documentos adjuntos -------------------------------------------------------------------

def _attachment_category_choices() -> list[tuple[str, str]]:
    from sharing.categories import CATEGORIES

    return [(c.code, c.lazy_label) for c in CATEGORIES if c.code != "ficha_basica"]


class Attachment(ServiceEntry):
    """A document attached to the record (padrón certificate, resolution, copy of an ID...).

    Unlike the sections, an attachment has no fixed category: the service that uploads it
    chooses the category it belongs to (one it owns, or the common diary), and the document
    is then shown, downloaded and logged exactly like that category's entries. ``CATEGORY``
    is deliberately empty so that code that reads a class-level category fails instead of
    misfiling attachments: always use ``category`` (per row). Not in ``SECTION_MODELS`` for
    the same reason; ``sharing.record`` reads it on its own (decision 0009).
    """

    CATEGORY = ""

    class Kind(models.TextChoices):
        PADRON = "padron", _("Certificado de empadronamiento")
        RESOLUTION = "resolucion", _("Resolución administrativa")
        IDENTITY = "documento_identidad", _("Copia del documento de identidad")
        REPORT = "informe", _("Informe")
        OTHER = "otro", _("Otro documento")

    category = models.CharField(_("área de información"), max_length=40, choices=_attachment_category_choices)
    kind = models.CharField(_("tipo de documento"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("descripción"), max_length=200)
    file = models.FileField(_("archivo"), upload_to="attachments/%Y/%m/", blank=True)
    original_name = models.CharField(_("nombre del archivo"), max_length=255, blank=True)
    content_type = models.CharField(_("tipo de contenido"), max_length=60, blank=True)
    size = models.PositiveIntegerField(_("tamaño (bytes)"), default=0)
    sha256 = models.CharField(_("huella SHA-256"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("documento adjunto")
        verbose_name_plural = _("documentos adjuntos")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["person", "category"], name="attachment_person_category_idx")]

    def get_additional_data(self) -> dict:
        return {"person_id": self.person_id, "category": self.category, "source": self.recorded_by_service,
                "organisation": self.recorded_by_org_id}

    @classmethod
    def category_code(cls) -> str:
        raise TypeError("An attachment's category is chosen per row: read Attachment.category")

    def clean(self) -> None:
        from sharing.categories import BY_CODE, COMMON

        meta = BY_CODE.get(self.category)
        if meta is not None and self.recorded_by_service and meta.owner_service not in (
            COMMON, self.recorded_by_service,
        ):
            raise ValidationError({"category": _("Su servicio solo puede adjuntar documentos a las áreas que "
                                                  "registra.")})


def _register_attachment_history() -> None:
    from auditlog.registry import auditlog

    auditlog.register(Attachment, exclude_fields=["created_at", "updated_at", "version"])


_register_attachment_history()


@pgtrigger.register(
    pgtrigger.Protect(name="person_merge_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
)
class PersonMerge(models.Model):
    """Two records of one person were merged: the evidence of who did it, when, why and what moved.

    ``Person.merged_into`` is what readers follow (one join); this table is the account of each
    merge and, like consents and the disclosure log, cannot be changed once written.
    """

    surviving = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="absorbed_merges",
                                  verbose_name=_("registro que permanece"))
    merged = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="merge",
                                  verbose_name=_("registro fusionado"))
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("fusionado por"))
    merged_at = models.DateTimeField(_("fecha de la fusión"), default=timezone.now)
    reason = models.TextField(_("motivo"))
    moved = models.JSONField(_("filas trasladadas por tabla"), default=dict, blank=True)

    class Meta:
        verbose_name = _("fusión de registros")
        verbose_name_plural = _("fusiones de registros")
        constraints = [
            models.CheckConstraint(condition=~Q(surviving=F("merged")), name="person_merge_not_itself"),
            models.CheckConstraint(condition=~Q(reason=""), name="person_merge_reason_required"),
        ]

    def __str__(self) -> str:
        return f"{self.merged_id} → {self.surviving_id}"

