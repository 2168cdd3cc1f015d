"""Consent (modelled on HL7 FHIR Consent), legal bases and objections.

A given consent never changes: a revocation is a ``ConsentRevocation`` row and a
correction is a new ``Consent`` that supersedes the old one. Both tables refuse
UPDATE and DELETE in the database (django-pgtrigger), not only in Python.

One exception, enforced by the same database trigger: a consent recorded without its signed
form may receive it later, once (``consent.services.consent_attach_document``). That UPDATE
may only fill the empty document columns; it changes nothing the person signed, and a form
once attached can be neither replaced nor removed.
"""

from __future__ import annotations

import datetime as dt

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ris.accounts.models import ServiceKind
from sharing.categories import CATEGORIES, label_of

from .purposes import Purpose

CATEGORY_CHOICES = [(c.code, c.lazy_label) for c in CATEGORIES]
MINOR_SELF_CONSENT_AGE = 14  # LOPDGDD art. 7


class ConsentState(models.TextChoices):
    """Computed, never stored: see ``Consent.state_at``."""

    PENDING = "pending", _("Pendiente de vigencia")
    ACTIVE = "active", _("Vigente")
    EXPIRED = "expired", _("Caducado")
    REVOKED = "revoked", _("Revocado")
    SUPERSEDED = "superseded", _("Sustituido por una corrección")


# Which actions each state admits; anything else is refused by consent.services.
TRANSITIONS: dict[str, frozenset[str]] = {
    ConsentState.PENDING: frozenset({"revoke", "correct"}),
    ConsentState.ACTIVE: frozenset({"revoke", "correct"}),
    ConsentState.EXPIRED: frozenset(),
    ConsentState.REVOKED: frozenset(),
    ConsentState.SUPERSEDED: frozenset(),
}


class ConsentQuerySet(models.QuerySet):
    def in_force_at(self, moment: dt.datetime) -> ConsentQuerySet:
        day = timezone.localdate(moment)
        return self.filter(valid_from__lte=day, valid_until__gte=day, superseded_by__isnull=True).filter(
            models.Q(revocation__isnull=True) | models.Q(revocation__revoked_at__gt=moment)
        )


#: The columns the one UPDATE a consent admits fills: its signed form, attached later.
DOCUMENT_COLUMNS = (
    "document", "document_sha256", "document_content_type", "document_added_at", "document_added_by_id",
)
_DOCUMENT_COLUMNS_SQL = "ARRAY[" + ", ".join(f"'{c}'" for c in DOCUMENT_COLUMNS) + "]"
#: When an UPDATE of a consent is refused: anything but filling in a missing signed form. Every
#: other column is compared at once (the row as jsonb, less the document columns), so a column
#: added later is protected without touching this condition.
NOT_ATTACHING_THE_FORM = (
    f"((to_jsonb(OLD.*) - {_DOCUMENT_COLUMNS_SQL}::text[]) IS DISTINCT FROM "
    f"(to_jsonb(NEW.*) - {_DOCUMENT_COLUMNS_SQL}::text[])"
    " OR OLD.document <> '' OR OLD.document_sha256 <> '' OR OLD.document_content_type <> ''"
    " OR NEW.document = '' OR NEW.document_sha256 = '' OR NEW.document_content_type = '')"
)


@pgtrigger.register(
    pgtrigger.Protect(name="consent_append_only", operation=pgtrigger.Delete),
    pgtrigger.Protect(
        name="consent_only_attaches_form",
        operation=pgtrigger.Update,
        condition=pgtrigger.Condition(NOT_ATTACHING_THE_FORM),
    ),
)
class Consent(models.Model):
    class Grantor(models.TextChoices):
        PERSON = "person", _("La propia persona")
        REPRESENTATIVE = "representative", _("Representante legal")

    person = models.ForeignKey("cases.Person", on_delete=models.PROTECT, related_name="consents",
                               verbose_name=_("persona"))
    grantor = models.CharField(_("otorgante"), max_length=16, choices=Grantor.choices, default=Grantor.PERSON)
    representative_name = models.CharField(_("nombre del representante"), max_length=200, blank=True)
    representative_relation = models.CharField(_("relación con la persona"), max_length=100, blank=True)
    representative_evidence = models.CharField(_("acreditación de la representación"), max_length=255, blank=True)
    given_on = models.DateField(_("fecha de firma"))
    valid_from = models.DateField(_("vigente desde"))
    valid_until = models.DateField(_("vigente hasta"))
    grantee_organisations = models.ManyToManyField(
        "accounts.Organisation", blank=True, related_name="+", verbose_name=_("organizaciones autorizadas"),
    )
    grantee_services = ArrayField(
        models.CharField(max_length=20, choices=ServiceKind.choices), blank=True, default=list,
        verbose_name=_("servicios autorizados"),
    )
    all_categories = models.BooleanField(_("todas las categorías"), default=False)
    permitted_categories = ArrayField(
        models.CharField(max_length=40, choices=CATEGORY_CHOICES), blank=True, default=list,
        verbose_name=_("categorías permitidas"),
    )
    denied_categories = ArrayField(
        models.CharField(max_length=40, choices=CATEGORY_CHOICES), blank=True, default=list,
        verbose_name=_("categorías excluidas"),
        help_text=_("Excepciones dentro de lo permitido: por ejemplo, todo lo social salvo salud."),
    )
    purposes = ArrayField(models.CharField(max_length=16, choices=Purpose.choices), verbose_name=_("finalidades"))
    legal_basis_refs = models.CharField(
        _("base jurídica del tratamiento"), max_length=200,
        default="RGPD art. 6.1.a y art. 9.2.a; LOPDGDD art. 6",
    )
    privacy_notice_version = models.CharField(_("versión de la información de privacidad"), max_length=20)
    document = models.FileField(_("documento firmado"), upload_to="consents/%Y/%m/", blank=True)
    document_sha256 = models.CharField(_("huella SHA-256 del documento"), max_length=64, blank=True)
    document_content_type = models.CharField(_("tipo del documento"), max_length=60, blank=True)
    document_added_at = models.DateTimeField(_("documento firmado adjuntado el"), null=True, blank=True)
    document_added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True,
        verbose_name=_("documento firmado adjuntado por"),
    )
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by",
        verbose_name=_("corrige a"),
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("registrado por"))
    recorded_by_org = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+",
                                        verbose_name=_("organización que registra"))
    recorded_at = models.DateTimeField(_("registrado el"), default=timezone.now)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = _("consentimiento")
        verbose_name_plural = _("consentimientos")
        ordering = ["-recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")),
                name="consent_period_ordered",
                violation_error_message=_("El final de la vigencia no puede ser anterior a su inicio."),
            ),
            models.CheckConstraint(
                condition=models.Q(grantor="person") | ~models.Q(representative_name=""),
                name="consent_representative_named",
                violation_error_message=_("Indique quién firma como representante legal."),
            ),
        ]
        indexes = [models.Index(fields=["person", "valid_until"], name="consent_person_until_idx")]

    def __str__(self) -> str:
        return _("Consentimiento %(id)s de %(person)s") % {"id": self.pk, "person": self.person}

    @property
    def has_document(self) -> bool:
        """The scanned signed form is on file (recorded with the consent, or attached later)."""
        return bool(self.document)

    def state_at(self, moment: dt.datetime | None = None) -> str:
        moment = moment or timezone.now()
        day = timezone.localdate(moment)
        if hasattr(self, "revocation") and self.revocation.revoked_at <= moment:
            return ConsentState.REVOKED
        if hasattr(self, "superseded_by"):
            return ConsentState.SUPERSEDED
        if day < self.valid_from:
            return ConsentState.PENDING
        if day > self.valid_until:
            return ConsentState.EXPIRED
        return ConsentState.ACTIVE

    @property
    def grantee_service_labels(self) -> list[str]:
        return [str(ServiceKind(s).label) for s in self.grantee_services]

    @property
    def permitted_category_labels(self) -> list[str]:
        return [label_of(c) for c in self.permitted_categories]

    @property
    def denied_category_labels(self) -> list[str]:
        return [label_of(c) for c in self.denied_categories]

    @property
    def purpose_labels(self) -> list[str]:
        return [str(Purpose(p).label) for p in self.purposes]

    def covers_category(self, code: str) -> bool:
        if code in self.denied_categories:
            return False
        return self.all_categories or code in self.permitted_categories

    def clean(self) -> None:
        errors = {}
        if self.given_on and self.given_on > timezone.localdate():
            errors["given_on"] = _("La fecha de firma no puede ser posterior a hoy.")
        if not self.all_categories and not self.permitted_categories:
            errors["permitted_categories"] = _("Indique al menos una categoría, o todas.")
        if not self.purposes:
            errors["purposes"] = _("Indique al menos una finalidad.")
        if self.grantor == self.Grantor.REPRESENTATIVE and not self.representative_relation:
            errors["representative_relation"] = _("Indique la relación del representante con la persona.")
        if (
            self.grantor == self.Grantor.PERSON and self.person_id and self.given_on
            and self.person.age_on(self.given_on) < MINOR_SELF_CONSENT_AGE
        ):
            errors["grantor"] = _("Una persona menor de 14 años no puede consentir por sí misma: "
                                  "debe firmar su representante legal (LOPDGDD art. 7).")
        # A fresh read: the in-memory reverse relation already points at this new correction.
        if (
            self.supersedes_id and self._state.adding
            and "correct" not in TRANSITIONS[Consent.objects.get(pk=self.supersedes_id).state_at()]
        ):
            errors["supersedes"] = _("Solo se puede corregir un consentimiento vigente o pendiente de vigencia.")
        if errors:
            raise ValidationError(errors)


@pgtrigger.register(
    pgtrigger.Protect(name="revocation_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
)
class ConsentRevocation(models.Model):
    class Channel(models.TextChoices):
        IN_PERSON = "in_person", _("En persona")
        WRITTEN = "written", _("Por escrito")
        PHONE = "phone", _("Por teléfono")
        ELECTRONIC = "electronic", _("Sede electrónica")

    consent = models.OneToOneField(Consent, on_delete=models.PROTECT, related_name="revocation",
                                   verbose_name=_("consentimiento"))
    revoked_at = models.DateTimeField(_("revocado el"), default=timezone.now)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("registrado por"))
    channel = models.CharField(_("canal"), max_length=12, choices=Channel.choices)
    reason = models.TextField(_("motivo"), blank=True)

    class Meta:
        verbose_name = _("revocación de consentimiento")
        verbose_name_plural = _("revocaciones de consentimiento")

    def __str__(self) -> str:
        return _("Revocación del consentimiento %(id)s") % {"id": self.consent_id}


class LegalBasis(models.Model):
    """A law or agreement that lets data flow between services without consent."""

    class Mode(models.TextChoices):
        BY_LAW = "by_law", _("Por ley")
        UNLESS_OBJECTION = "unless_objection", _("Por ley salvo oposición de la persona")
        CONSENT_ONLY = "consent_only", _("Solo con consentimiento")

    class Condition(models.TextChoices):
        NONE = "", _("Sin condición")
        MINIMUM_INCOME = "minimum_income", _("Solo personas perceptoras de renta mínima o IMV")

    name = models.CharField(_("nombre"), max_length=200)
    reference = models.CharField(_("norma o convenio"), max_length=255)
    community = models.ForeignKey("reference.AutonomousCommunity", on_delete=models.PROTECT,
                                  verbose_name=_("comunidad autónoma"))
    from_service = models.CharField(_("servicio que comunica"), max_length=20, choices=ServiceKind.choices)
    to_service = models.CharField(_("servicio que recibe"), max_length=20, choices=ServiceKind.choices)
    categories = ArrayField(models.CharField(max_length=40, choices=CATEGORY_CHOICES), verbose_name=_("categorías"))
    purposes = ArrayField(models.CharField(max_length=16, choices=Purpose.choices), verbose_name=_("finalidades"))
    mode = models.CharField(_("modalidad"), max_length=18, choices=Mode.choices, default=Mode.CONSENT_ONLY)
    condition = models.CharField(_("condición"), max_length=20, choices=Condition.choices, blank=True, default="")
    is_active = models.BooleanField(_("activa"), default=True)

    class Meta:
        verbose_name = _("base jurídica")
        verbose_name_plural = _("bases jurídicas")
        ordering = ["community", "name"]

    def __str__(self) -> str:
        return self.name


class Objection(models.Model):
    """The person's objection (oposición, RGPD art. 21) to a flow that rests on law."""

    person = models.ForeignKey("cases.Person", on_delete=models.PROTECT, related_name="objections",
                               verbose_name=_("persona"))
    legal_basis = models.ForeignKey(LegalBasis, on_delete=models.PROTECT, related_name="objections",
                                    verbose_name=_("base jurídica"))
    recorded_at = models.DateTimeField(_("registrada el"), default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("registrada por"))
    reason = models.TextField(_("motivo"), blank=True)

    class Meta:
        verbose_name = _("oposición")
        verbose_name_plural = _("oposiciones")
        constraints = [
            models.UniqueConstraint(fields=["person", "legal_basis"], name="objection_once_per_basis"),
        ]

    def __str__(self) -> str:
        return _("Oposición de %(person)s a %(basis)s") % {"person": self.person, "basis": self.legal_basis}
