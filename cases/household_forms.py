"""Forms of the household pages (``cases.household_views``).

Dates are typed as dd/mm/aaaa and may not be in the future; every form that changes an
existing household carries the household it was read from and its version (optimistic
locking, ``cases.household``). Labels come from the models and the reference data, so
the deprivation items read as the catalogue defines them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ris.accounts.viewer import Viewer
from ris.reference.models import DeprivationItem

from .forms import PersonRegistrationForm
from .household import before_birth_message, find_attended_person, not_found_message
from .identity import normalise_document, validate_dni, validate_nie
from .models import Household, HouseholdMember, Person, validate_not_future
from .record_forms import DATE_FORMAT, _formfield


def _date_field(model: type, name: str, **kwargs) -> forms.DateField:
    return _formfield(model._meta.get_field(name), validators=[validate_not_future], **kwargs)


def _relationship_field(**kwargs) -> forms.ChoiceField:
    field = HouseholdMember._meta.get_field("relationship")
    return forms.ChoiceField(label=capfirst(field.verbose_name), choices=[("", "---------"), *field.choices],
                             error_messages={"required": _("Indique el parentesco con la persona titular.")},
                             **kwargs)


def _add_version_fields(form: forms.BaseForm) -> None:
    """The household the form was read from and its version (hidden): optimistic locking."""
    missing = _("Falta la versión de la unidad de convivencia que editaba: vuelva a abrir la página.")
    labels = {"household": HouseholdMember._meta.get_field("household").verbose_name,
              "version": Household._meta.get_field("version").verbose_name}
    for name, label in labels.items():
        form.fields[name] = forms.IntegerField(widget=forms.HiddenInput, min_value=1, label=capfirst(label),
                                               error_messages={"required": missing})


class HouseholdCreateForm(forms.Form):
    """A household for a person who has none: the person is its first member."""

    relationship = _relationship_field(initial=HouseholdMember.Relationship.HOLDER)
    start_date = _date_field(HouseholdMember, "start_date", label=_("Convive en este hogar desde"))
    address_line = forms.CharField(label=_("Domicilio del hogar"), max_length=200, required=False,
                                   help_text=_("Si es el de la ficha básica, ya está escrito."))


class MemberAddForm(forms.Form):
    """Another person the organisation attends joins the household, found by DNI/NIE and birth date."""

    document_number = forms.CharField(
        label=_("DNI o NIE"), max_length=20,
        help_text=_("De una persona que su organización ya atiende. DNI: 8 cifras y letra (12345678Z); "
                    "NIE: X, Y o Z, 7 cifras y letra (X1234567L)."),
        error_messages={"required": _("Indique el DNI o NIE de la persona.")},
    )
    birth_date = _formfield(Person._meta.get_field("birth_date"), validators=[validate_not_future])
    relationship = _relationship_field()
    start_date = _date_field(HouseholdMember, "start_date", label=_("Convive en este hogar desde"))

    def __init__(self, *args, viewer: Viewer, **kwargs):
        super().__init__(*args, **kwargs)
        _add_version_fields(self)
        self.viewer = viewer
        self.fields["document_number"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def clean_document_number(self) -> str:
        value = normalise_document(self.cleaned_data["document_number"])
        return validate_nie(value) if value[:1] in ("X", "Y", "Z") else validate_dni(value)

    def clean(self):
        data = super().clean()
        if self.errors.get("document_number") or self.errors.get("birth_date"):
            return data
        if data.get("document_number") and data.get("birth_date"):
            person = find_attended_person(viewer=self.viewer, document_number=data["document_number"],
                                          birth_date=data["birth_date"])
            if person is None:
                self.add_error("document_number", not_found_message())
            else:
                data["person"] = person
        return data


class MemberRegisterForm(PersonRegistrationForm):
    """A member with no DNI or NIE who is not in RIS yet (a baby, a minor without a document of their
    own, a person without documentation, a passport holder) joins the household: registration's form
    (its rules: ``Person.clean`` for the passport and the reason for having no document, a birth date
    not in the future, the nationality's two letters) restricted to the basic sheet a household needs
    and to those two document types, plus the membership."""

    DOCUMENT_TYPES = (Person.DocumentType.NONE, Person.DocumentType.PASSPORT)

    relationship = _relationship_field()
    start_date = _date_field(HouseholdMember, "start_date", label=_("Convive en este hogar desde"))

    class Meta(PersonRegistrationForm.Meta):
        fields = ["first_name", "last_name_1", "last_name_2", "birth_date", "sex", "nationality",
                  "document_type", "document_number", "no_document_reason"]
        labels = {"document_number": _("Número de pasaporte")}
        help_texts = {
            **PersonRegistrationForm.Meta.help_texts,
            "document_number": _("Solo si tiene pasaporte: entre 5 y 20 letras o cifras."),
        }
        widgets = {"document_type": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _add_version_fields(self)
        document_type = self.fields["document_type"]
        document_type.choices = [(kind.value, kind.label) for kind in self.DOCUMENT_TYPES]
        document_type.initial = Person.DocumentType.NONE
        document_type.error_messages["invalid_choice"] = _(
            "Escoja «Sin documento» o «Pasaporte». Si tiene DNI o NIE, añádala con el formulario anterior, "
            "por su documento.")
        self.fields["document_number"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        self.fields["birth_date"].help_text = _("Formato dd/mm/aaaa.")

    def clean(self):
        data = super().clean()
        born, since = data.get("birth_date"), data.get("start_date")
        if born and since and since < born and "start_date" not in self.errors:
            self.add_error("start_date", before_birth_message())
        return data


class MemberEndForm(forms.Form):
    """A member stops living in the household: an end date, never a deletion."""

    member = forms.TypedChoiceField(label=_("Persona que deja de convivir"), coerce=int,
                                    error_messages={"required": _("Escoja a la persona que deja de convivir.")})
    end_date = _date_field(HouseholdMember, "end_date", label=_("Fecha de baja"), required=True,
                           help_text=_("Primer día que ya no convive en el hogar (dd/mm/aaaa). Su paso por el "
                                       "hogar se conserva en el historial."))

    def __init__(self, *args, members: list[HouseholdMember], **kwargs):
        super().__init__(*args, **kwargs)
        _add_version_fields(self)
        self.fields["member"].choices = [("", "---------")] + [
            (m.pk, f"{m.person.full_name} ({m.get_relationship_display()})") for m in members
        ]
        self.fields["end_date"].error_messages["required"] = _("Indique la fecha de baja.")


class HouseholdEconomyForm(forms.ModelForm):
    """The household's economy and the months worked by each working-age member."""

    deprivation_items = forms.MultipleChoiceField(
        label=capfirst(Household._meta.get_field("deprivation_items").verbose_name),
        help_text=Household._meta.get_field("deprivation_items").help_text,
        widget=forms.CheckboxSelectMultiple, required=False,
        error_messages={"invalid_choice": _("Escoja solo carencias de la lista.")},
    )

    class Meta:
        model = Household
        fields = ("monthly_income", "monthly_expenses", "economy_recorded_on", "housing_tenure")
        formfield_callback = _formfield
        localized_fields = ("monthly_income", "monthly_expenses")  # typed with a decimal comma
        help_texts = {
            "monthly_income": _("Suma de los ingresos netos de todas las personas del hogar, en euros al mes "
                                "(por ejemplo, 950,50)."),
            "monthly_expenses": _("Vivienda, suministros y otros gastos fijos, en euros al mes."),
            "economy_recorded_on": _("Fecha a la que se refieren estos datos (dd/mm/aaaa)."),
        }

    def __init__(self, *args, working_members: list[HouseholdMember], items: list[DeprivationItem],
                 selected: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        _add_version_fields(self)
        for name in ("monthly_income", "monthly_expenses"):
            self.fields[name].widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})
            self.fields[name].error_messages["invalid"] = _("Escriba una cantidad en euros, por ejemplo 950,50.")
        self.fields["economy_recorded_on"].validators.append(validate_not_future)
        self.fields["deprivation_items"].choices = [(i.code, i.label) for i in items]
        self._item_levels = {i.code: i.level for i in items}
        if not self.is_bound:
            self.initial.update(household=self.instance.pk, version=self.instance.version, deprivation_items=selected)
            if self.instance.economy_recorded_on is None:
                self.initial["economy_recorded_on"] = timezone.localdate()
        today = timezone.localdate()
        self.month_fields: list[str] = []
        for member in working_members:
            name = f"meses_{member.pk}"
            self.fields[name] = forms.IntegerField(
                label=gettext("%(name)s (%(age)s años)") % {"name": member.person.full_name,
                                                            "age": member.person.age_on(today)},
                required=False, min_value=0, max_value=12, initial=member.months_worked_last_year,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": 12}),
                error_messages={"invalid": _("Escriba un número de meses entre 0 y 12.")},
            )
            self.month_fields.append(name)
        self.working_members = working_members

    @property
    def months(self) -> dict[int, int | None]:
        return {m.pk: self.cleaned_data.get(f"meses_{m.pk}") for m in self.working_members}

    @property
    def model_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self._meta.fields}

    def month_bound_fields(self):
        return [self[name] for name in self.month_fields]

    def deprivation_groups(self) -> list[tuple[str, list]]:
        """The checkboxes of the 13 items, in two groups as the EU defines them: the household's and
        each adult's (rendered as two fieldsets in the page)."""
        household, personal = [], []
        for widget in self["deprivation_items"].subwidgets:
            level = self._item_levels.get(str(widget.data["value"]))
            (household if level == DeprivationItem.Level.HOUSEHOLD else personal).append(widget)
        return [(gettext("Del hogar"), household), (gettext("De cada persona del hogar de 16 años o más"), personal)]


# --- What the user typed next to what is saved now (stale saves) -------------------------------------------


def _text(value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, dt.date):
        return value.strftime(DATE_FORMAT)
    if isinstance(value, Decimal):
        return f"{value:.2f} €".replace(".", ",")
    return str(value)


def economy_conflict_rows(form: HouseholdEconomyForm, current: Household, current_codes: list[str],
                          current_months: dict[int, int | None]) -> list[dict]:
    cleaned = getattr(form, "cleaned_data", {})
    rows = []

    def row(label, typed, saved, key_typed=None, key_saved=None):
        rows.append({"label": label, "typed": _text(typed), "saved": _text(saved),
                     "differs": (key_typed if key_typed is not None else typed)
                     != (key_saved if key_saved is not None else saved)})

    for name in ("monthly_income", "monthly_expenses", "economy_recorded_on"):
        row(form.fields[name].label, cleaned.get(name, form[name].value() or None), getattr(current, name))
    tenures = dict(Household.Tenure.choices)
    typed_tenure = cleaned.get("housing_tenure", form["housing_tenure"].value()) or ""
    row(form.fields["housing_tenure"].label, str(tenures.get(typed_tenure, typed_tenure)),
        str(tenures.get(current.housing_tenure, current.housing_tenure)),
        typed_tenure, current.housing_tenure or "")
    labels = dict(form.fields["deprivation_items"].choices)
    typed_codes = sorted(cleaned.get("deprivation_items", form["deprivation_items"].value() or []))
    saved_codes = sorted(current_codes)
    row(form.fields["deprivation_items"].label, "; ".join(labels.get(c, c) for c in typed_codes),
        "; ".join(labels.get(c, c) for c in saved_codes), typed_codes, saved_codes)
    for member in form.working_members:
        name = f"meses_{member.pk}"
        typed = cleaned.get(name, form[name].value())
        typed = None if typed in ("", None) else typed
        row(gettext("Meses trabajados: %(field)s") % {"field": form.fields[name].label}, typed,
            current_months.get(member.pk))
    return rows


def creation_conflict_rows(form: HouseholdCreateForm, membership: HouseholdMember) -> list[dict]:
    cleaned = getattr(form, "cleaned_data", {})
    relationships = dict(HouseholdMember.Relationship.choices)
    typed_relationship = cleaned.get("relationship", form["relationship"].value())
    typed_start = cleaned.get("start_date", form["start_date"].value())
    typed_address = cleaned.get("address_line", form["address_line"].value())
    return [
        {"label": form.fields["relationship"].label, "typed": str(relationships.get(typed_relationship, "—")),
         "saved": membership.get_relationship_display(), "differs": typed_relationship != membership.relationship},
        {"label": form.fields["start_date"].label, "typed": _text(typed_start),
         "saved": _text(membership.start_date), "differs": typed_start != membership.start_date},
        {"label": form.fields["address_line"].label, "typed": _text(typed_address),
         "saved": _text(membership.household.address_line),
         "differs": (typed_address or "") != membership.household.address_line},
    ]
