from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.identity import normalise_document
from consent.purposes import Purpose
from ris.accounts.models import Membership, Organisation, Role
from ris.accounts.viewer import Viewer
from ris.reference.models import AutonomousCommunity, Municipality, Province
from sharing.caseload import persons_attended_by

from .models import (
    CATEGORY_CHOICES,
    PERSON_PURPOSE_CHOICES,
    CaseConference,
    JointPlan,
    PlanAction,
    PlanGoal,
    Referral,
    Resource,
)
from .selectors import (
    GOAL_NOT_LINKABLE,
    active_plans_of,
    organisations_attending,
    resources_for_actions,
    writable_categories,
)

DATE_WIDGET = forms.DateInput(
    format="%d/%m/%Y", attrs={"placeholder": "dd/mm/aaaa", "inputmode": "numeric"}
)
STAFF_ROLES = (
    Role.SOCIAL_WORKER,
    Role.EMPLOYMENT_COUNSELLOR,
    Role.NGO_TECHNICIAN,
    Role.COORDINATOR,
)


def date_field(label, *, required: bool = True, **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=DATE_WIDGET,
        help_text=_("Formato dd/mm/aaaa."),
        **kwargs,
    )


class OrganisationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organisation) -> str:
        return f"{obj.name} · {obj.get_kind_display()}"


class OrganisationMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Organisation) -> str:
        return f"{obj.name} · {obj.get_kind_display()}"


def categories_field(label, choices=CATEGORY_CHOICES, help_text="") -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        choices=choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=help_text,
        error_messages={"required": _("Indique al menos una categoría.")},
    )


# --- Derivaciones ---------------------------------------------------------------------------------


class ReferralForm(forms.Form):
    to_organisation = OrganisationChoiceField(
        label=_("Organización receptora"),
        queryset=Organisation.objects.none(),
        empty_label=_("— Elija una organización —"),
    )
    reason = forms.CharField(
        label=_("Motivo de la derivación"), widget=forms.Textarea(attrs={"rows": 4})
    )
    categories = categories_field(
        _("Categorías que se envían con la derivación"),
        help_text=_(
            "Son las áreas que recoge el resumen de la derivación y que la organización "
            "receptora consulta para decidir si la acepta; la persona debe haber consentido que "
            "esa organización las vea. Si la acepta, pasa a atender a la persona y ve de su "
            "historia lo que le permita el consentimiento de la persona, como cualquier "
            "organización que la atiende: no solo estas áreas."
        ),
    )
    purpose = forms.ChoiceField(
        label=_("Finalidad"), choices=PERSON_PURPOSE_CHOICES, initial=Purpose.REFERRAL
    )

    def __init__(self, *args, viewer: Viewer, receiver: Organisation | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        queryset = Organisation.objects.filter(is_active=True).exclude(pk=viewer.organisation_id)
        if receiver is not None:  # answering a request for a link: to the organisation that asked
            queryset = queryset.filter(pk=receiver.pk)
            self.fields["to_organisation"].initial = receiver.pk
        self.fields["to_organisation"].queryset = queryset.order_by("kind", "name")


class LinkRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Motivo de la solicitud"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Para qué necesita su organización atender a la persona. Lo leen las organizaciones "
            "que ya la atienden."
        ),
        error_messages={"required": _("Explique para qué necesita la vinculación.")},
    )


class LinkRequestDeclineForm(forms.Form):
    decline_reason = forms.CharField(
        label=_("Motivo por el que no deriva a la persona"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Lo lee la organización que lo solicita, que no atiende a la persona: no incluya "
            "datos de su historia."
        ),
        error_messages={"required": _("Indique por qué no deriva a la persona.")},
    )


class ReferralRejectForm(forms.Form):
    rejection_reason = forms.CharField(
        label=_("Motivo del rechazo"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Indique el motivo del rechazo.")},
    )


class ReferralCompleteForm(forms.Form):
    note = forms.CharField(
        label=_("Nota de finalización"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReferralFilterForm(forms.Form):
    bandeja = forms.ChoiceField(
        label=_("Bandeja"),
        required=False,
        choices=[
            ("", _("Recibidas y enviadas")),
            ("received", _("Recibidas")),
            ("sent", _("Enviadas")),
        ],
    )
    estado = forms.ChoiceField(
        label=_("Estado"), required=False, choices=[("", _("Todos")), *Referral.State.choices]
    )


# --- Consultas ------------------------------------------------------------------------------------


class InformationRequestForm(forms.Form):
    to_organisation = OrganisationChoiceField(
        label=_("Organización consultada"),
        queryset=Organisation.objects.none(),
        empty_label=_("— Elija una organización que atiende a la persona —"),
    )
    question = forms.CharField(label=_("Consulta"), widget=forms.Textarea(attrs={"rows": 4}))
    categories = categories_field(_("Categorías a las que se refiere"))
    purpose = forms.ChoiceField(
        label=_("Finalidad"), choices=PERSON_PURPOSE_CHOICES, initial=Purpose.FOLLOW_UP
    )

    def __init__(self, *args, viewer: Viewer, person_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_organisation"].queryset = organisations_attending(
            person_id=person_id
        ).exclude(pk=viewer.organisation_id)


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Respuesta"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Escriba la respuesta.")},
    )


class InformationRequestFilterForm(forms.Form):
    bandeja = forms.ChoiceField(
        label=_("Bandeja"),
        required=False,
        choices=[
            ("", _("Recibidas y enviadas")),
            ("received", _("Recibidas")),
            ("sent", _("Enviadas")),
        ],
    )


# --- Itinerarios ----------------------------------------------------------------------------------


class PlanForm(forms.Form):
    title = forms.CharField(
        label=_("Título"),
        max_length=200,
        help_text=_(
            "Lo ven todas las organizaciones participantes, sea cual sea el área de sus acciones: "
            "no escriba en él datos personales ni de salud, familiares, penales u otros de la "
            "historia (por ejemplo, «Itinerario de inserción 2025»)."
        ),
    )
    start_date = date_field(_("Inicio"))
    review_date = date_field(_("Próxima revisión"))
    state = forms.ChoiceField(
        label=_("Estado"), choices=JointPlan.State.choices, initial=JointPlan.State.DRAFT
    )
    person_agreed = forms.BooleanField(
        label=_("La persona está de acuerdo y lo ha firmado"), required=False
    )
    signed_on = date_field(_("Fecha de firma de la persona"), required=False)
    organisations = OrganisationMultipleChoiceField(
        label=_("Organizaciones participantes"),
        queryset=Organisation.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Solo organizaciones que atienden a la persona. La suya participa siempre."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, person_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisations"].queryset = organisations_attending(person_id=person_id)

    def clean(self):
        data = super().clean()
        start, review = data.get("start_date"), data.get("review_date")
        if start and review and review < start:
            self.add_error("review_date", _("La revisión no puede ser anterior al inicio."))
        if data.get("person_agreed") and not data.get("signed_on"):
            self.add_error("signed_on", _("Indique la fecha en que la persona firmó su acuerdo."))
        signed = data.get("signed_on")
        if signed and signed > timezone.localdate():
            self.add_error("signed_on", _("La fecha no puede ser posterior a hoy."))
        return data


class PlanActionForm(forms.Form):
    """A new action of the viewer's service. ``goals``: the (id, label) of the plan's goals the
    viewer sees in full (``selectors.linkable_goals``), the only ones it may choose; any other
    posted id (a hidden goal, an indicator, another plan's) is refused with one message."""

    action_type = forms.ChoiceField(label=_("Tipo de acción"), choices=PlanAction.Type.choices)
    description = forms.CharField(label=_("Descripción"), widget=forms.Textarea(attrs={"rows": 3}))
    category = forms.ChoiceField(
        label=_("Área (categoría de datos)"),
        choices=(),
        help_text=_("Decide quién verá la acción: como en la historia social."),
    )
    goal = forms.TypedChoiceField(
        label=_("Objetivo al que contribuye"),
        choices=(),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_(
            "Los objetivos son comunes a todo el itinerario: puede elegir también uno de otro "
            "servicio. Solo aparecen los que usted puede ver."
        ),
        error_messages={"invalid_choice": GOAL_NOT_LINKABLE},
    )
    start_date = date_field(_("Inicio"))
    end_date = date_field(_("Fin"), required=False)
    review_date = date_field(_("Revisión"), required=False)
    resource = forms.ModelChoiceField(
        label=_("Recurso del catálogo"),
        queryset=Resource.objects.none(),
        required=False,
        empty_label=_("— Ninguno —"),
    )

    def __init__(
        self,
        *args,
        viewer: Viewer,
        goals: list[tuple[int, str]] = (),
        current_resource_id: int | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = writable_categories(viewer.service)
        self.fields["goal"].choices = [("", _("— Sin objetivo —")), *goals]
        resources = resources_for_actions(community_code=viewer.community_code)
        if current_resource_id is not None:  # an edit keeps the resource it had, even if closed
            resources = Resource.objects.filter(
                Q(pk__in=resources.values("pk")) | Q(pk=current_resource_id)
            ).order_by("name", "id")
        self.fields["resource"].queryset = resources

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("El fin no puede ser anterior al inicio."))
        return data


class PlanGoalForm(forms.Form):
    description = forms.CharField(
        label=_("Objetivo"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Describa el objetivo.")},
    )
    category = forms.ChoiceField(
        label=_("Área (categoría de datos)"),
        choices=(),
        help_text=_("Decide quién verá el objetivo: como en la historia social."),
    )
    state = forms.ChoiceField(
        label=_("Estado"), choices=PlanGoal.State.choices, initial=PlanGoal.State.PENDING
    )
    start_date = date_field(_("Inicio"))
    target_date = date_field(_("Fecha prevista"), required=False)
    review_date = date_field(_("Revisión"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, viewer: Viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = writable_categories(viewer.service)

    def clean(self):
        data = super().clean()
        start, target = data.get("start_date"), data.get("target_date")
        if start and target and target < start:
            self.add_error("target_date", _("La fecha prevista no puede ser anterior al inicio."))
        return data


class PlanActionEditForm(PlanActionForm):
    """The owner's edit of an action, with the version it read (optimistic locking). An action
    that was a conference agreement keeps the agreement's text and area (decision 0006)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, from_agreement: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if from_agreement:
            del self.fields["description"]
            del self.fields["category"]


class ActionStateForm(forms.Form):
    state = forms.ChoiceField(label=_("Estado"), choices=PlanAction.State.choices)
    version = forms.IntegerField(widget=forms.HiddenInput)


class CommitmentForm(forms.Form):
    description = forms.CharField(
        label=_("Compromiso de la persona"), widget=forms.Textarea(attrs={"rows": 3})
    )
    category = forms.ChoiceField(label=_("Área (categoría de datos)"), choices=())

    def __init__(self, *args, viewer: Viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = writable_categories(viewer.service)


class ComplianceForm(forms.Form):
    date = date_field(_("Fecha de la comprobación"), initial=timezone.localdate)
    complied = forms.TypedChoiceField(
        label=_("¿Ha cumplido?"),
        choices=[("1", _("Sí")), ("0", _("No"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        error_messages={"required": _("Indique si ha cumplido.")},
    )
    note = forms.CharField(
        label=_("Observaciones"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


# --- Comisiones -----------------------------------------------------------------------------------


class MembershipChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        return f"{obj.user} · {obj.organisation.name}"


class ConferenceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Tipo"), choices=CaseConference.Kind.choices)
    title = forms.CharField(label=_("Título"), max_length=200)
    date = date_field(_("Fecha"))
    community = forms.ModelChoiceField(
        label=_("Comunidad autónoma"), queryset=AutonomousCommunity.objects.all()
    )
    territory = forms.CharField(
        label=_("Ámbito territorial"),
        max_length=200,
        required=False,
        help_text=_("Municipio, área o zona de servicios sociales."),
    )
    attendees = MembershipChoiceField(
        label=_("Asistentes"),
        queryset=Membership.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Usted asiste siempre."),
    )

    def __init__(self, *args, viewer: Viewer, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("community", viewer.community_code)
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = (
            Membership.objects.filter(
                is_active=True,
                organisation__is_active=True,
                role__in=STAFF_ROLES,
                organisation__community_id=viewer.community_code,
            )
            .exclude(pk=viewer.membership_id)
            .select_related("user", "organisation")
            .order_by("organisation__name", "user__last_name", "user__first_name")
        )


class ConferenceCaseForm(forms.Form):
    """The person to present: by document, or already chosen from the record (``persona``)."""

    document_number = forms.CharField(
        label=_("DNI, NIE o pasaporte de la persona"),
        max_length=20,
        required=False,
        help_text=_("Solo personas que atiende su organización."),
    )
    persona = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, viewer: Viewer, **kwargs):
        self.viewer = viewer
        self.person = None
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        caseload = persons_attended_by(self.viewer.organisation_id)
        number = normalise_document(data.get("document_number") or "")
        if data.get("persona"):
            self.person = caseload.filter(pk=data["persona"]).first()
        elif number:
            self.person = caseload.filter(document_number=number).first()
        else:
            self.add_error("document_number", _("Indique el documento de la persona."))
            return data
        if self.person is None:
            self.add_error(
                "document_number",
                _(
                    "No hay ninguna persona con ese documento entre las que atiende "
                    "su organización."
                ),
            )
        return data


class AgreementForm(forms.Form):
    text = forms.CharField(
        label=_("Acuerdo"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Escriba el acuerdo.")},
    )
    category = forms.ChoiceField(
        label=_("Área (categoría de datos)"),
        choices=(),
        help_text=_(
            "Decide quién verá el acuerdo: cada asistente lo ve como vería esa área de la "
            "historia social."
        ),
        error_messages={"required": _("Indique el área a la que se refiere el acuerdo.")},
    )

    def __init__(self, *args, viewer: Viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [
            ("", _("— Elija un área —")),
            *writable_categories(viewer.service),
        ]


class AgreementActionForm(PlanActionForm):
    plan = forms.ModelChoiceField(
        label=_("Itinerario de la persona"),
        queryset=JointPlan.objects.none(),
        empty_label=_("— Elija un itinerario —"),
    )
    field_order = [
        "plan",
        "action_type",
        "start_date",
        "end_date",
        "review_date",
        "resource",
    ]

    def __init__(self, *args, viewer: Viewer, person_id: int, **kwargs):
        super().__init__(*args, viewer=viewer, **kwargs)
        del self.fields["description"]
        del self.fields["category"]  # the action keeps the agreement's area
        del self.fields["goal"]  # the plan is chosen here: its goals are chosen later, on edit
        self.fields["plan"].queryset = active_plans_of(viewer=viewer, person_id=person_id)


# --- Recursos -------------------------------------------------------------------------------------


class ResourceForm(forms.ModelForm):
    municipality = forms.ModelChoiceField(
        label=_("Municipio (código INE, 5 cifras)"),
        queryset=Municipality.objects.select_related("province"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 5}),
        error_messages={"invalid_choice": _("No hay ningún municipio con ese código INE.")},
        help_text=_("Déjelo en blanco si el recurso cubre toda la provincia o la comunidad."),
    )
    owner_organisation = OrganisationChoiceField(
        label=_("Organización titular"), queryset=Organisation.objects.filter(is_active=True)
    )

    class Meta:
        model = Resource
        fields = [
            "name",
            "owner_organisation",
            "description",
            "community",
            "province",
            "municipality",
            "target_group",
            "eligibility",
            "places",
            "funding_source",
            "start_date",
            "end_date",
            "contact",
            "is_active",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "eligibility": forms.Textarea(attrs={"rows": 3}),
            "start_date": DATE_WIDGET,
            "end_date": DATE_WIDGET,
        }
        labels = {"start_date": _("Inicio (dd/mm/aaaa)"), "end_date": _("Fin (dd/mm/aaaa)")}


class ResourceSearchForm(forms.Form):
    q = forms.CharField(label=_("Buscar por nombre o descripción"), required=False, max_length=100)
    comunidad = forms.ModelChoiceField(
        label=_("Comunidad autónoma"),
        queryset=AutonomousCommunity.objects.all(),
        required=False,
        empty_label=_("Todas"),
    )
    provincia = forms.ModelChoiceField(
        label=_("Provincia"),
        queryset=Province.objects.all(),
        required=False,
        empty_label=_("Todas"),
    )
    municipio = forms.ModelChoiceField(
        label=_("Municipio"),
        queryset=Municipality.objects.none(),
        required=False,
        empty_label=_("Todos"),
    )
    colectivo = forms.ChoiceField(
        label=_("Colectivo destinatario"),
        required=False,
        choices=[("", _("Todos")), *Resource.TargetGroup.choices],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the municipalities some resource names: the full list has more than 8 000.
        self.fields["municipio"].queryset = (
            Municipality.objects.filter(
                pk__in=Resource.objects.filter(municipality__isnull=False).values("municipality_id")
            )
            .select_related("province")
            .order_by("name")
        )
