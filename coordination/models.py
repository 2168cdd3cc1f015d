"""Coordination between services: referrals, information requests, joint plans, case
conferences and the resource catalogue.

These tables record what services agree and hand over to each other; they never decide
who sees what. Every page that shows another service's data asks ``sharing`` (decision
0006): a referral produces an enrolment through ``sharing.caseload``, and a plan action
or a commitment carries a data category so that participants see the plan filtered like
the record.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Versioned
from consent.purposes import Purpose
from ris.accounts.models import ServiceKind
from sharing.categories import CATEGORIES, label_of

CATEGORY_CHOICES = [(c.code, c.lazy_label) for c in CATEGORIES]
#: an action's goal must be one of the same plan (``PlanAction.clean``; the database too)
GOAL_OF_ANOTHER_PLAN = _("El objetivo debe ser de este mismo itinerario.")
PERSON_PURPOSE_CHOICES = [(p.value, p.label) for p in Purpose if p != Purpose.EVALUATION]


# --- Derivaciones ----------------------------------------------------------------------------


class Referral(models.Model):
    """Derivación: one organisation hands the person to another, which accepts or not."""

    class State(models.TextChoices):
        SENT = "sent", _("Enviada")
        ACCEPTED = "accepted", _("Aceptada")
        REJECTED = "rejected", _("Rechazada")
        COMPLETED = "completed", _("Finalizada")
        CANCELLED = "cancelled", _("Anulada")

    class Action(models.TextChoices):
        ACCEPT = "accept", _("aceptar")
        REJECT = "reject", _("rechazar")
        COMPLETE = "complete", _("finalizar")
        CANCEL = "cancel", _("anular")

    #: state → {action: next state}. Anything not here is refused by ``coordination.services``.
    TRANSITIONS: dict[str, dict[str, str]] = {
        State.SENT: {
            Action.ACCEPT: State.ACCEPTED,
            Action.REJECT: State.REJECTED,
            Action.CANCEL: State.CANCELLED,
        },
        State.ACCEPTED: {Action.COMPLETE: State.COMPLETED},
        State.REJECTED: {},
        State.COMPLETED: {},
        State.CANCELLED: {},
    }
    #: which side of the referral may take each action
    SIDE: dict[str, str] = {
        Action.ACCEPT: "receiver",
        Action.REJECT: "receiver",
        Action.COMPLETE: "receiver",
        Action.CANCEL: "sender",
    }

    person = models.ForeignKey(
        "cases.Person",
        on_delete=models.PROTECT,
        related_name="referrals",
        verbose_name=_("persona"),
    )
    from_organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="referrals_sent",
        verbose_name=_("organización que deriva"),
    )
    to_organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="referrals_received",
        verbose_name=_("organización receptora"),
    )
    reason = models.TextField(_("motivo de la derivación"))
    categories = ArrayField(
        models.CharField(max_length=40, choices=CATEGORY_CHOICES),
        verbose_name=_("categorías que se envían con la derivación"),
        help_text=_(
            "Las áreas que recoge el resumen de la derivación. Una vez aceptada, la organización "
            "receptora ve de la historia lo que le permita el consentimiento de la persona."
        ),
    )
    purpose = models.CharField(
        _("finalidad"), max_length=16, choices=PERSON_PURPOSE_CHOICES, default=Purpose.REFERRAL
    )
    consent_ids = ArrayField(
        models.PositiveIntegerField(),
        default=list,
        blank=True,
        verbose_name=_("consentimientos que la amparan al enviarla"),
    )
    state = models.CharField(_("estado"), max_length=10, choices=State.choices, default=State.SENT)
    sent_at = models.DateTimeField(_("enviada el"), default=timezone.now)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("enviada por"),
    )
    accepted_at = models.DateTimeField(_("aceptada el"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("aceptada por"),
    )
    rejected_at = models.DateTimeField(_("rechazada el"), null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("rechazada por"),
    )
    rejection_reason = models.TextField(_("motivo del rechazo"), blank=True)
    completed_at = models.DateTimeField(_("finalizada el"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("finalizada por"),
    )
    completion_note = models.TextField(_("nota de finalización"), blank=True)
    cancelled_at = models.DateTimeField(_("anulada el"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("anulada por"),
    )

    class Meta:
        verbose_name = _("derivación")
        verbose_name_plural = _("derivaciones")
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_organisation=F("to_organisation")),
                name="referral_not_to_itself",
                violation_error_message=_("Una organización no puede derivarse a sí misma."),
            ),
            models.CheckConstraint(
                condition=~Q(state="rejected") | ~Q(rejection_reason=""),
                name="referral_rejection_has_reason",
                violation_error_message=_("Indique el motivo del rechazo."),
            ),
            models.CheckConstraint(
                condition=~Q(categories=[]),
                name="referral_has_categories",
                violation_error_message=_("Indique al menos una categoría."),
            ),
            models.UniqueConstraint(
                fields=["person", "to_organisation"],
                condition=Q(state="sent"),
                name="referral_one_pending_per_receiver",
                violation_error_message=_(
                    "Ya hay una derivación pendiente de esta persona a esa organización."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["to_organisation", "state"], name="referral_to_state_idx"),
            models.Index(fields=["from_organisation", "state"], name="referral_from_state_idx"),
        ]

    def __str__(self) -> str:
        return _("Derivación %(id)s de %(from)s a %(to)s") % {
            "id": self.pk,
            "from": self.from_organisation,
            "to": self.to_organisation,
        }

    def get_absolute_url(self) -> str:
        return reverse("coordination:referral_detail", args=[self.pk])

    @property
    def category_labels(self) -> list[str]:
        return [label_of(c) for c in self.categories]

    def allowed_actions(self) -> dict[str, str]:
        return self.TRANSITIONS[self.State(self.state)]


class LinkRequest(models.Model):
    """Solicitud de vinculación: after "esta persona ya consta en el sistema", an organisation that
    does not attend the person asks the organisations that do to refer the person to it.

    The requester learns nothing about the person (not even who attends them); the organisations
    that attend the person see the request and answer with a referral or decline it."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pendiente")
        REFERRED = "referred", _("Derivación enviada")
        DECLINED = "declined", _("No atendida")

    person = models.ForeignKey(
        "cases.Person",
        on_delete=models.PROTECT,
        related_name="link_requests",
        verbose_name=_("persona"),
    )
    from_organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="link_requests_sent",
        verbose_name=_("organización que solicita"),
    )
    reason = models.TextField(_("motivo de la solicitud"))
    state = models.CharField(
        _("estado"), max_length=10, choices=State.choices, default=State.PENDING
    )
    requested_at = models.DateTimeField(_("solicitada el"), default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("solicitada por"),
    )
    referral = models.OneToOneField(
        Referral,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="link_request",
        verbose_name=_("derivación enviada"),
    )
    answered_at = models.DateTimeField(_("atendida el"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("atendida por"),
    )
    answered_by_organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("organización que la atiende"),
    )
    decline_reason = models.TextField(_("motivo por el que no se deriva"), blank=True)

    class Meta:
        verbose_name = _("solicitud de vinculación")
        verbose_name_plural = _("solicitudes de vinculación")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "from_organisation"],
                condition=Q(state="pending"),
                name="link_request_one_pending_per_organisation",
                violation_error_message=_(
                    "Su organización ya tiene una solicitud de vinculación pendiente para esta "
                    "persona."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(state="referred") | Q(referral__isnull=False),
                name="link_request_referred_has_referral",
            ),
            models.CheckConstraint(
                condition=~Q(state="declined") | ~Q(decline_reason=""),
                name="link_request_declined_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["from_organisation", "state"], name="linkreq_from_state_idx"),
            models.Index(fields=["person", "state"], name="linkreq_person_state_idx"),
        ]

    def __str__(self) -> str:
        return _("Solicitud de vinculación %(id)s de %(org)s") % {
            "id": self.pk,
            "org": self.from_organisation,
        }


# --- Consultas bajo demanda -------------------------------------------------------------------


class InformationRequest(models.Model):
    """A question from one organisation to another that both attend the person, without referral."""

    person = models.ForeignKey(
        "cases.Person",
        on_delete=models.PROTECT,
        related_name="information_requests",
        verbose_name=_("persona"),
    )
    from_organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organización que consulta"),
    )
    to_organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organización consultada"),
    )
    question = models.TextField(_("consulta"))
    categories = ArrayField(
        models.CharField(max_length=40, choices=CATEGORY_CHOICES),
        verbose_name=_("categorías a las que se refiere"),
    )
    purpose = models.CharField(
        _("finalidad"), max_length=16, choices=PERSON_PURPOSE_CHOICES, default=Purpose.FOLLOW_UP
    )
    asked_at = models.DateTimeField(_("enviada el"), default=timezone.now)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("enviada por"),
    )
    answer = models.TextField(_("respuesta"), blank=True)
    answered_at = models.DateTimeField(_("respondida el"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("respondida por"),
    )

    class Meta:
        verbose_name = _("consulta sin derivación")
        verbose_name_plural = _("consultas sin derivación")
        ordering = ["-asked_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_organisation=F("to_organisation")),
                name="information_request_not_to_itself",
            ),
            models.CheckConstraint(
                condition=(Q(answer="") & Q(answered_at__isnull=True))
                | (~Q(answer="") & Q(answered_at__isnull=False)),
                name="information_request_answer_dated",
            ),
            models.CheckConstraint(
                condition=~Q(categories=[]), name="information_request_has_categories"
            ),
        ]
        indexes = [
            models.Index(fields=["to_organisation", "answered_at"], name="inforeq_to_answered_idx"),
            models.Index(fields=["from_organisation", "asked_at"], name="inforeq_from_asked_idx"),
        ]

    def __str__(self) -> str:
        return _("Consulta %(id)s de %(from)s a %(to)s") % {
            "id": self.pk,
            "from": self.from_organisation,
            "to": self.to_organisation,
        }

    def get_absolute_url(self) -> str:
        return reverse("coordination:request_detail", args=[self.pk])

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None

    @property
    def category_labels(self) -> list[str]:
        return [label_of(c) for c in self.categories]


# --- Mapa de recursos ---------------------------------------------------------------------------


class Resource(models.Model):
    """A public or private programme of the resource catalogue (mapa de recursos).

    No personal data.
    """

    class TargetGroup(models.TextChoices):
        GENERAL = "general", _("Población general en riesgo de exclusión")
        LONG_TERM_UNEMPLOYED = "long_term_unemployed", _("Personas desempleadas de larga duración")
        YOUTH = "youth", _("Jóvenes (Garantía Juvenil)")
        WOMEN = "women", _("Mujeres (incluidas víctimas de violencia de género)")
        MIGRANTS = "migrants", _("Personas migrantes")
        DISABILITY = "disability", _("Personas con discapacidad")
        HOMELESS = "homeless", _("Personas sin hogar")
        FAMILIES = "families", _("Familias con menores a cargo")
        MINIMUM_INCOME = "minimum_income", _("Perceptores de renta mínima o IMV")
        ROMA = "roma", _("Población gitana")
        OTHER = "other", _("Otro colectivo")

    class Funding(models.TextChoices):
        ESF_PLUS = "fse_plus", _("FSE+")
        RRF = "mrr", _("MRR (Mecanismo de Recuperación y Resiliencia)")
        STATE = "estatal", _("Estatal")
        REGIONAL = "autonomica", _("Autonómica")
        LOCAL = "local", _("Local")
        PRIVATE = "privada", _("Privada")

    name = models.CharField(_("nombre"), max_length=200)
    owner_organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organización titular"),
    )
    description = models.TextField(_("descripción"))
    community = models.ForeignKey(
        "reference.AutonomousCommunity",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("comunidad autónoma"),
    )
    province = models.ForeignKey(
        "reference.Province",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("provincia"),
    )
    municipality = models.ForeignKey(
        "reference.Municipality",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("municipio"),
    )
    target_group = models.CharField(
        _("colectivo destinatario"), max_length=24, choices=TargetGroup.choices
    )
    eligibility = models.TextField(_("requisitos de acceso"), blank=True)
    places = models.PositiveIntegerField(_("plazas"), null=True, blank=True)
    funding_source = models.CharField(
        _("fuente de financiación"), max_length=10, choices=Funding.choices
    )
    start_date = models.DateField(_("inicio"))
    end_date = models.DateField(_("fin"), null=True, blank=True)
    contact = models.CharField(_("contacto"), max_length=255, blank=True)
    is_active = models.BooleanField(_("activo"), default=True)
    created_at = models.DateTimeField(_("fecha de alta"), auto_now_add=True)
    updated_at = models.DateTimeField(_("última modificación"), auto_now=True)

    class Meta:
        verbose_name = _("recurso")
        verbose_name_plural = _("mapa de recursos")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="resource_dates_ordered",
                violation_error_message=_("El fin no puede ser anterior al inicio."),
            ),
        ]
        indexes = [
            models.Index(fields=["community", "target_group"], name="resource_community_group_idx")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("coordination:resource_detail", args=[self.pk])


# --- Itinerario conjunto ---------------------------------------------------------------------


class JointPlan(Versioned):
    """Itinerario conjunto / proyecto individualizado de inserción, agreed with the person."""

    class State(models.TextChoices):
        DRAFT = "draft", _("En elaboración")
        ACTIVE = "active", _("Vigente")
        CLOSED = "closed", _("Cerrado")

    person = models.ForeignKey(
        "cases.Person",
        on_delete=models.PROTECT,
        related_name="joint_plans",
        verbose_name=_("persona"),
    )
    title = models.CharField(_("título"), max_length=200)
    start_date = models.DateField(_("inicio"))
    review_date = models.DateField(_("próxima revisión"))
    state = models.CharField(_("estado"), max_length=8, choices=State.choices, default=State.DRAFT)
    person_agreed = models.BooleanField(_("la persona está de acuerdo"), default=False)
    signed_on = models.DateField(_("fecha de firma de la persona"), null=True, blank=True)
    organisations = models.ManyToManyField(
        "accounts.Organisation", related_name="+", verbose_name=_("organizaciones participantes")
    )
    organising_organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organización que lo impulsa"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("creado por"),
    )
    created_at = models.DateTimeField(_("fecha de alta"), auto_now_add=True)
    updated_at = models.DateTimeField(_("última modificación"), auto_now=True)

    class Meta:
        verbose_name = _("itinerario conjunto")
        verbose_name_plural = _("itinerarios conjuntos")
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(review_date__gte=F("start_date")),
                name="plan_review_after_start",
                violation_error_message=_("La revisión no puede ser anterior al inicio."),
            ),
            models.CheckConstraint(
                condition=Q(person_agreed=False) | Q(signed_on__isnull=False),
                name="plan_agreement_signed",
                violation_error_message=_("Indique la fecha en que la persona firmó su acuerdo."),
            ),
        ]
        indexes = [models.Index(fields=["state", "review_date"], name="plan_state_review_idx")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("coordination:plan_detail", args=[self.pk])


class OwnedPlanItem(Versioned):
    """What a plan's actions and goals share: the organisation and service that own the item
    (and alone edit it, with the version it read) and the data category by which the other
    participants see it (decision 0006)."""

    owner_organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organización responsable"),
    )
    owner_service = models.CharField(
        _("servicio responsable"), max_length=20, choices=ServiceKind.choices
    )
    category = models.CharField(
        _("área (categoría de datos)"), max_length=40, choices=CATEGORY_CHOICES
    )
    created_at = models.DateTimeField(_("fecha de alta"), auto_now_add=True)
    updated_at = models.DateTimeField(_("última modificación"), auto_now=True)

    class Meta:
        abstract = True


class PlanAction(OwnedPlanItem):
    """One action of the plan, owned by one organisation's service and carrying a data category.

    It may serve one goal of the same plan (``goal``), whoever owns the goal: goals are the plan's
    shared objectives. The database refuses a goal of another plan (a composite foreign key on
    (goal, plan), migration 0004) and ``clean`` says so in words. Only a goal the action's author
    sees in full may be chosen (``coordination.services``); pages show an action under its goal
    only to viewers who see that goal in full (decision 0006).
    """

    class Type(models.TextChoices):
        GUIDANCE = "orientacion", _("Orientación")
        TRAINING = "formacion", _("Formación")
        JOB_SEARCH = "busqueda_empleo", _("Búsqueda de empleo")
        SOCIAL_SUPPORT = "apoyo_social", _("Apoyo social")
        HOUSING = "vivienda", _("Vivienda")
        HEALTH = "salud", _("Salud")
        BENEFIT_PROCESSING = "tramitacion_prestacion", _("Tramitación de prestación")
        OTHER = "otra", _("Otra")

    class State(models.TextChoices):
        PENDING = "pendiente", _("Pendiente")
        IN_PROGRESS = "en_curso", _("En curso")
        COMPLETED = "completada", _("Completada")
        CANCELLED = "cancelada", _("Cancelada")

    plan = models.ForeignKey(
        JointPlan, on_delete=models.CASCADE, related_name="actions", verbose_name=_("itinerario")
    )
    action_type = models.CharField(_("tipo de acción"), max_length=24, choices=Type.choices)
    description = models.TextField(_("descripción"))
    start_date = models.DateField(_("inicio"))
    end_date = models.DateField(_("fin"), null=True, blank=True)
    review_date = models.DateField(_("revisión"), null=True, blank=True)
    state = models.CharField(
        _("estado"), max_length=12, choices=State.choices, default=State.PENDING
    )
    resource = models.ForeignKey(
        Resource,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recurso del catálogo"),
    )
    goal = models.ForeignKey(
        "PlanGoal",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
        verbose_name=_("objetivo al que contribuye"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("registrada por"),
    )

    class Meta(OwnedPlanItem.Meta):
        verbose_name = _("acción del itinerario")
        verbose_name_plural = _("acciones del itinerario")
        ordering = ["start_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="plan_action_dates_ordered",
                violation_error_message=_("El fin no puede ser anterior al inicio."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_type_display()} · {self.owner_organisation}"

    def clean(self) -> None:
        super().clean()
        if self.goal_id is None or self.plan_id is None:
            return
        goal_plan = PlanGoal.objects.filter(pk=self.goal_id).values_list("plan_id", flat=True)
        if goal_plan.first() != self.plan_id:
            raise ValidationError({"goal": GOAL_OF_ANOTHER_PLAN})


class PlanGoal(OwnedPlanItem):
    """An objective of the plan (objetivo), owned by one organisation's service and carrying a data
    category: participants see it as they see actions (decision 0006). Only the owner edits it,
    with the version it read (optimistic locking)."""

    class State(models.TextChoices):
        PENDING = "pendiente", _("Pendiente")
        IN_PROGRESS = "en_curso", _("En curso")
        ACHIEVED = "alcanzado", _("Alcanzado")
        NOT_ACHIEVED = "no_alcanzado", _("No alcanzado")
        CANCELLED = "cancelado", _("Cancelado")

    plan = models.ForeignKey(
        JointPlan, on_delete=models.CASCADE, related_name="goals", verbose_name=_("itinerario")
    )
    description = models.TextField(_("objetivo"))
    state = models.CharField(
        _("estado"), max_length=12, choices=State.choices, default=State.PENDING
    )
    start_date = models.DateField(_("inicio"))
    target_date = models.DateField(_("fecha prevista"), null=True, blank=True)
    review_date = models.DateField(_("revisión"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("registrado por"),
    )

    class Meta(OwnedPlanItem.Meta):
        verbose_name = _("objetivo del itinerario")
        verbose_name_plural = _("objetivos del itinerario")
        ordering = ["start_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(target_date__isnull=True) | Q(target_date__gte=F("start_date")),
                name="plan_goal_dates_ordered",
                violation_error_message=_(
                    "La fecha prevista no puede ser anterior al inicio."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.description[:60]

    def clean(self) -> None:
        super().clean()
        if self.pk is None or self.plan_id is None:
            return
        if PlanAction.objects.filter(goal_id=self.pk).exclude(plan_id=self.plan_id).exists():
            raise ValidationError(
                {
                    "plan": _(
                        "Hay acciones vinculadas a este objetivo en su itinerario: desvincúlelas "
                        "antes de pasar el objetivo a otro itinerario."
                    )
                }
            )


class PlanCommitment(models.Model):
    """A commitment of the person (e.g. a minimum-income duty), checked by one organisation."""

    plan = models.ForeignKey(
        JointPlan,
        on_delete=models.CASCADE,
        related_name="commitments",
        verbose_name=_("itinerario"),
    )
    description = models.TextField(_("compromiso"))
    category = models.CharField(
        _("área (categoría de datos)"), max_length=40, choices=CATEGORY_CHOICES
    )
    checked_by_organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organización que lo verifica"),
    )
    checked_by_service = models.CharField(
        _("servicio que lo verifica"), max_length=20, choices=ServiceKind.choices
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("registrado por"),
    )
    created_at = models.DateTimeField(_("fecha de alta"), auto_now_add=True)

    class Meta:
        verbose_name = _("compromiso del itinerario")
        verbose_name_plural = _("compromisos del itinerario")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.description[:60]


class CommitmentCompliance(models.Model):
    """A check of a commitment, recorded only by the organisation that verifies it."""

    commitment = models.ForeignKey(
        PlanCommitment,
        on_delete=models.CASCADE,
        related_name="compliance_records",
        verbose_name=_("compromiso"),
    )
    date = models.DateField(_("fecha"))
    complied = models.BooleanField(_("cumplido"))
    note = models.TextField(_("observaciones"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("registrado por"),
    )
    recorded_by_org = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organización que registra"),
    )
    recorded_at = models.DateTimeField(_("registrado el"), default=timezone.now)

    class Meta:
        verbose_name = _("seguimiento de un compromiso")
        verbose_name_plural = _("seguimiento de los compromisos")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} · {_('cumplido') if self.complied else _('no cumplido')}"


# --- Comisiones de caso ----------------------------------------------------------------------


class CaseConference(models.Model):
    """Comisión de inclusión social o técnica: several services review cases together."""

    class Kind(models.TextChoices):
        SOCIAL_INCLUSION = "inclusion", _("Comisión de inclusión social")
        TECHNICAL = "technical", _("Comisión técnica")

    kind = models.CharField(_("tipo"), max_length=10, choices=Kind.choices, default=Kind.TECHNICAL)
    date = models.DateField(_("fecha"))
    title = models.CharField(_("título"), max_length=200)
    community = models.ForeignKey(
        "reference.AutonomousCommunity",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("comunidad autónoma"),
    )
    territory = models.CharField(
        _("ámbito territorial"),
        max_length=200,
        blank=True,
        help_text=_("Municipio, área o zona de servicios sociales."),
    )
    organising_organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organización convocante"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("creada por"),
    )
    created_at = models.DateTimeField(_("fecha de alta"), auto_now_add=True)

    class Meta:
        verbose_name = _("comisión de caso")
        verbose_name_plural = _("comisiones de caso")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.date:%d/%m/%Y})"

    def get_absolute_url(self) -> str:
        return reverse("coordination:conference_detail", args=[self.pk])


class ConferenceAttendee(models.Model):
    conference = models.ForeignKey(
        CaseConference,
        on_delete=models.CASCADE,
        related_name="attendees",
        verbose_name=_("comisión"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("profesional"),
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organización"),
    )

    class Meta:
        verbose_name = _("asistente")
        verbose_name_plural = _("asistentes")
        ordering = ["conference", "organisation", "user"]
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "user", "organisation"], name="conference_attendee_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.organisation})"


class ConferenceCase(models.Model):
    conference = models.ForeignKey(
        CaseConference, on_delete=models.CASCADE, related_name="cases", verbose_name=_("comisión")
    )
    person = models.ForeignKey(
        "cases.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("persona")
    )
    presented_by_organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organización que lo presenta"),
    )
    presented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("presentado por"),
    )
    added_at = models.DateTimeField(_("añadido el"), auto_now_add=True)

    class Meta:
        verbose_name = _("caso de la comisión")
        verbose_name_plural = _("casos de la comisión")
        ordering = ["conference", "added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["conference", "person"], name="conference_case_once"),
        ]

    def __str__(self) -> str:
        return _("Caso %(id)s presentado por %(org)s") % {
            "id": self.pk,
            "org": self.presented_by_organisation,
        }


class ConferenceAgreement(models.Model):
    """An agreement about one case; it may become an action of the person's plan.

    Like a plan action it carries the data category it concerns and the service that recorded
    it: each attendee sees it as ``sharing.policy.decide`` gives them that (category, service)
    pair for the purpose "comisión" (decision 0006). The category stays when it becomes an
    action.

    Agreements recorded before they had a category got the most restrictive one their service
    may file under (migration 0002).
    """

    case = models.ForeignKey(
        ConferenceCase, on_delete=models.CASCADE, related_name="agreements", verbose_name=_("caso")
    )
    text = models.TextField(_("acuerdo"))
    category = models.CharField(
        _("área (categoría de datos)"),
        max_length=40,
        choices=CATEGORY_CHOICES,
        help_text=_("Decide quién verá el acuerdo: como en la historia social."),
    )
    recorded_by_service = models.CharField(
        _("servicio que lo registra"), max_length=20, choices=ServiceKind.choices
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("registrado por"),
    )
    recorded_by_org = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organización que registra"),
    )
    recorded_at = models.DateTimeField(_("registrado el"), default=timezone.now)
    plan_action = models.OneToOneField(
        PlanAction,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="source_agreement",
        verbose_name=_("acción del itinerario"),
    )

    class Meta:
        verbose_name = _("acuerdo de la comisión")
        verbose_name_plural = _("acuerdos de la comisión")
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return self.text[:60]
