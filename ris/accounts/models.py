"""Users, organisations and memberships: who a viewer is, for the sharing engine."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, Group
from django.db import models
from django.utils.translation import gettext_lazy as _


class ServiceKind(models.TextChoices):
    SOCIAL = "social", _("Servicios sociales")
    EMPLOYMENT = "employment", _("Servicio público de empleo")
    THIRD_SECTOR = "third_sector", _("Entidad del Tercer Sector")


class Role(models.TextChoices):
    SOCIAL_WORKER = "social_worker", _("Trabajador/a social")
    EMPLOYMENT_COUNSELLOR = "employment_counsellor", _("Orientador/a laboral")
    NGO_TECHNICIAN = "ngo_technician", _("Técnico/a de entidad social")
    COORDINATOR = "coordinator", _("Coordinador/a")
    EVALUATOR = "evaluator", _("Evaluador/a")
    DATA_PROTECTION_OFFICER = "dpo", _("Delegado/a de protección de datos")
    ADMINISTRATOR = "administrator", _("Administrador/a")


class User(AbstractUser):
    """A person who signs in. What they may see depends on their memberships."""

    class Meta(AbstractUser.Meta):
        verbose_name = _("usuario")
        verbose_name_plural = _("usuarios")
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def has_role(self, role: str) -> bool:
        return self.memberships.filter(role=role, is_active=True).exists()


class Organisation(models.Model):
    class Level(models.TextChoices):
        UNIT = "unit", _("Unidad (CSS/UTS, oficina de empleo, sede)")
        MUNICIPAL = "municipal", _("Municipal")
        REGIONAL = "regional", _("Autonómico")

    name = models.CharField(_("nombre"), max_length=200)
    code = models.SlugField(_("código"), max_length=40, unique=True)
    kind = models.CharField(_("tipo de servicio"), max_length=20, choices=ServiceKind.choices)
    level = models.CharField(_("nivel"), max_length=12, choices=Level.choices)
    community = models.ForeignKey(
        "reference.AutonomousCommunity", on_delete=models.PROTECT, verbose_name=_("comunidad autónoma"),
    )
    province = models.ForeignKey(
        "reference.Province", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("provincia"),
    )
    municipality = models.ForeignKey(
        "reference.Municipality", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("municipio"),
    )
    group = models.OneToOneField(
        Group, on_delete=models.PROTECT, related_name="organisation", editable=False,
        verbose_name=_("grupo de permisos"),
    )
    is_active = models.BooleanField(_("activa"), default=True)

    class Meta:
        verbose_name = _("organización")
        verbose_name_plural = _("organizaciones")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if self.group_id is None:
            self.group = Group.objects.get_or_create(name=f"org:{self.code}")[0]
        super().save(*args, **kwargs)


class Membership(models.Model):
    """A user's role in an organisation; coordinators and DPOs may hold several."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("usuario"))
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("organización"),
    )
    role = models.CharField(_("rol"), max_length=24, choices=Role.choices)
    is_active = models.BooleanField(_("activa"), default=True)
    created_at = models.DateTimeField(_("alta"), auto_now_add=True)

    class Meta:
        verbose_name = _("pertenencia")
        verbose_name_plural = _("pertenencias")
        ordering = ["user", "organisation"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation", "role"], name="membership_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organisation}"
