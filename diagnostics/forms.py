"""Forms of the diagnostics app: resolving an alert, and recording assessments from the record.

The assessment forms validate on the server, in Spanish, and say what to do: dates are
typed dd/mm/aaaa and may not be later than today, numbers have their bounds in the
message, every screening question needs an answer (yes or no: an unanswered question
is not a "no"). What they record goes through ``diagnostics.services``, which checks
again who may record it and for whom.

The same forms edit an entry (``entry=``): they start from its values and carry the
version it was read at, so that a stale save is refused (optimistic locking) and shown
next to what is saved now (``conflict_rows``).
"""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from cases.forms import date_field
from cases.models import Level
from ris.reference.models import EducationLevel, Occupation

from .employability import SCREENING_QUESTIONS
from .models import Area, Instrument, Item


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=_("Nota de resolución"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Escriba qué se ha hecho o por qué se cierra la alerta.")},
    )


# --- Shared pieces ---------------------------------------------------------------------------------


def _not_future(value, message):
    if value and value > timezone.localdate():
        raise forms.ValidationError(message, code="future_date")
    return value


def _months(label, *, maximum: int, required: bool, help_text="") -> forms.IntegerField:
    bounds = format_lazy(_("Escriba un número de meses entre 0 y {}."), maximum)
    return forms.IntegerField(
        label=label,
        min_value=0,
        max_value=maximum,
        required=required,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": format_lazy(_("Indique «{}»: es obligatorio."), label),
            "invalid": bounds,
            "min_value": bounds,
            "max_value": bounds,
        },
    )


def _notes(label=None) -> forms.CharField:
    return forms.CharField(
        label=label or _("Observaciones"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _restricted() -> forms.BooleanField:
    return forms.BooleanField(
        label=_("Restringir: los demás servicios solo sabrán que existe información en esta área"),
        required=False,
    )


class EntryForm(forms.Form):
    """Records an entry, or edits one (``entry``): then the form starts from the entry's values
    and carries the version it was read at (optimistic locking, ``diagnostics.services``)."""

    def __init__(self, *args, entry=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.entry = entry
        if entry is None:
            return
        self.fields["version"] = forms.IntegerField(
            widget=forms.HiddenInput,
            min_value=1,
            error_messages={
                "required": _(
                    "Falta la versión de la anotación que editaba: vuelva a abrirla desde la "
                    "historia."
                )
            },
        )
        if not self.is_bound:
            self.initial.update(self.initial_from(entry), version=entry.version)

    def initial_from(self, entry) -> dict:
        """The entry's values as the form's fields take them."""
        raise NotImplementedError


def _shown(field: forms.Field, value) -> str:
    """A value of a form field (as typed, or as saved) in the words the form uses."""
    if isinstance(field, forms.BooleanField):
        return str(_("Sí") if field.to_python(value) else _("No"))
    if value in (None, "", [], ()):
        return "—"
    choices = getattr(field, "choices", None)
    if choices is not None:
        labels = {str(key): str(label) for key, label in choices}
        values = value if isinstance(value, list | tuple) else [value]
        return "; ".join(labels.get(str(v), str(v)) for v in values)
    if isinstance(field, forms.DateField):
        try:
            value = field.to_python(value)
        except ValidationError:
            return str(value)
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def conflict_rows(typed: forms.Form, saved: forms.Form) -> list[dict]:
    """For a stale save: each field with what the user typed (``typed``, the bound form) and what
    is saved now (``saved``, an unbound form of the current entry)."""
    rows = []
    for name, field in typed.fields.items():
        if name == "version":
            continue
        mine, theirs = _shown(field, typed[name].value()), _shown(field, saved[name].value())
        rows.append(
            {
                "name": name,
                "label": field.label,
                "typed": mine,
                "saved": theirs,
                "differs": mine != theirs,
            }
        )
    return rows


class OccupationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Occupation) -> str:
        return f"{obj.code} · {obj.label}"


# --- Employability diagnosis (employment service) ------------------------------------------------


LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


class EmployabilityAssessmentForm(EntryForm):
    """The employment counsellor's diagnosis: the level is theirs, the factors suggest one."""

    assessed_on = date_field(_("Fecha del diagnóstico"), help_text=_("Formato dd/mm/aaaa."))
    level = forms.ChoiceField(
        label=_("Nivel de empleabilidad"),
        choices=[("", "---------"), *Level.choices],
        help_text=_(
            "Lo decide usted. RIS guarda a su lado el nivel que sugieren los factores, que es solo "
            "orientativo."
        ),
        error_messages={"required": _("Indique el nivel de empleabilidad que usted decide.")},
    )
    months_unemployed = _months(
        _("Meses en desempleo"),
        maximum=600,
        required=False,
        help_text=_("Vacío si no consta. 0 si no está en desempleo."),
    )
    education_level = forms.ModelChoiceField(
        label=_("Nivel de formación (CNED-2014)"),
        queryset=EducationLevel.objects.order_by("isced_level", "code"),
        required=False,
        empty_label=_("No consta"),
    )
    occupation = OccupationChoiceField(
        label=_("Ocupación principal (CNO-11)"),
        queryset=Occupation.objects.order_by("code"),
        required=False,
        empty_label=_("Sin ocupación o no consta"),
    )
    age = forms.IntegerField(
        label=_("Edad"),
        min_value=16,
        max_value=100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": _("Indique la edad de la persona."),
            "invalid": _("Escriba la edad en años, entre 16 y 100."),
            "min_value": _("Escriba la edad en años, entre 16 y 100."),
            "max_value": _("Escriba la edad en años, entre 16 y 100."),
        },
    )
    languages = forms.CharField(
        label=_("Idiomas"),
        required=False,
        max_length=200,
        help_text=_("Códigos ISO 639 separados por comas, por ejemplo: es, ar, ro."),
    )
    driving_licence = forms.BooleanField(label=_("Tiene permiso de conducir"), required=False)
    months_worked_last_two_years = _months(
        _("Meses trabajados en los últimos 24 meses"), maximum=24, required=True
    )
    factors = _notes(_("Otros factores y observaciones"))
    restricted = _restricted()

    def initial_from(self, entry) -> dict:
        return {
            "assessed_on": entry.assessed_on,
            "level": entry.level,
            "months_unemployed": entry.months_unemployed,
            "education_level": entry.education_level_id,
            "occupation": entry.occupation_id,
            "age": entry.age,
            "languages": ", ".join(entry.languages),
            "driving_licence": entry.driving_licence,
            "months_worked_last_two_years": entry.months_worked_last_two_years,
            "factors": entry.factors,
            "restricted": entry.restricted,
        }

    def clean_assessed_on(self):
        return _not_future(
            self.cleaned_data.get("assessed_on"),
            _("La fecha del diagnóstico no puede ser posterior a hoy."),
        )

    def clean_languages(self) -> list[str]:
        raw = self.cleaned_data.get("languages") or ""
        codes = [c.strip().lower() for c in re.split(r"[,;\s]+", raw) if c.strip()]
        wrong = [c for c in codes if not LANGUAGE_CODE.match(c)]
        if wrong:
            raise forms.ValidationError(
                _(
                    "«%(codes)s» no es un código de idioma ISO 639: escriba dos o tres letras por "
                    "idioma, separadas por comas (por ejemplo: es, ar, ro)."
                )
                % {"codes": ", ".join(wrong)}
            )
        return list(dict.fromkeys(codes))

    @property
    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "assessed_on": data["assessed_on"],
            "level": data["level"],
            "months_unemployed": data["months_unemployed"],
            "education_level": data["education_level"],
            "occupation": data["occupation"],
            "age": data["age"],
            "languages": data["languages"],
            "driving_licence": data["driving_licence"],
            "months_worked_last_two_years": data["months_worked_last_two_years"],
            "factors": data["factors"],
            "restricted": data["restricted"],
        }


# --- Basic screening (any service) ---------------------------------------------------------------


YES_NO = [("si", _("Sí")), ("no", _("No"))]
SCREENING_LABELS = {
    "has_work_experience": _("¿Tiene experiencia laboral?"),
    "completed_compulsory_education": _("¿Terminó la educación obligatoria?"),
    "speaks_spanish": _("¿Se comunica en castellano?"),
    "available_for_work": _("¿Está disponible para trabajar?"),
    "has_driving_licence": _("¿Tiene permiso de conducir?"),
    "basic_digital_skills": _(
        "¿Tiene competencias digitales básicas (móvil, correo, formularios)?"
    ),
}


class ScreeningForm(EntryForm):
    """The basic, orientative screening: six yes/no questions."""

    screened_on = date_field(_("Fecha del cribado"), help_text=_("Formato dd/mm/aaaa."))
    refer_to_employment = forms.BooleanField(
        label=_("Proponer un diagnóstico de empleabilidad al servicio público de empleo"),
        required=False,
        initial=True,
    )
    notes = _notes()
    restricted = _restricted()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        questions = {
            name: forms.TypedChoiceField(
                label=SCREENING_LABELS[name],
                choices=YES_NO,
                coerce=lambda value: value == "si",
                widget=forms.RadioSelect,
                error_messages={"required": _("Responda sí o no a esta pregunta.")},
            )
            for name in SCREENING_QUESTIONS
        }
        # the questions after the date, before the proposal and the notes
        fields = {"screened_on": self.fields["screened_on"], **questions}
        fields.update((k, v) for k, v in self.fields.items() if k != "screened_on")
        self.fields = fields

    def initial_from(self, entry) -> dict:
        return {
            "screened_on": entry.screened_on,
            **{q: "si" if getattr(entry, q) else "no" for q in SCREENING_QUESTIONS},
            "refer_to_employment": entry.refer_to_employment,
            "notes": entry.notes,
            "restricted": entry.restricted,
        }

    def clean_screened_on(self):
        return _not_future(
            self.cleaned_data.get("screened_on"),
            _("La fecha del cribado no puede ser posterior a hoy."),
        )

    @property
    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "screened_on": data["screened_on"],
            "answers": {q: data[q] for q in SCREENING_QUESTIONS},
            "refer_to_employment": data["refer_to_employment"],
            "notes": data["notes"],
            "restricted": data["restricted"],
        }


# --- Social exclusion assessment (social services) -----------------------------------------------


def active_instruments():
    return Instrument.objects.filter(is_active=True).order_by("name", "-version")


def _area_label(area: Area) -> str:
    kind = str(area.get_kind_display())
    if area.label.strip().lower() == kind.lower():
        return kind
    return _("%(area)s: %(label)s") % {"area": kind, "label": area.label}


class ExclusionAssessmentForm(EntryForm):
    """An instrument's items, grouped by area: mark the situations that are present."""

    assessed_on = date_field(_("Fecha de la valoración"), help_text=_("Formato dd/mm/aaaa."))

    def __init__(self, *args, instrument: Instrument, **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        items: dict[int, list[Item]] = {}
        for item in Item.objects.filter(area__instrument=instrument).order_by("position", "pk"):
            items.setdefault(item.area_id, []).append(item)
        self.area_fields: list[str] = []
        for area in Area.objects.filter(instrument=instrument).order_by("position", "pk"):
            name = f"area_{area.kind}"
            self.fields[name] = forms.TypedMultipleChoiceField(
                label=_area_label(area),
                choices=[(str(i.pk), i.text) for i in items.get(area.pk, [])],
                coerce=int,
                required=False,
                widget=forms.CheckboxSelectMultiple,
                help_text=_("Marque las situaciones que se dan. Sin marcar: no se dan."),
                error_messages={
                    "invalid_choice": _(
                        "Hay respuestas que no pertenecen a este instrumento: vuelva a abrir el "
                        "formulario."
                    )
                },
            )
            self.area_fields.append(name)
        self.fields["notes"] = _notes()
        self.fields["restricted"] = _restricted()

    def initial_from(self, entry) -> dict:
        present: dict[str, list[int]] = {}
        for item_id, kind in entry.answers.filter(present=True).values_list(
            "item_id", "item__area__kind"
        ):
            present.setdefault(f"area_{kind}", []).append(item_id)
        return {
            "assessed_on": entry.assessed_on,
            **present,
            "notes": entry.notes,
            "restricted": entry.restricted,
        }

    def clean_assessed_on(self):
        return _not_future(
            self.cleaned_data.get("assessed_on"),
            _("La fecha de la valoración no puede ser posterior a hoy."),
        )

    @property
    def service_data(self) -> dict:
        data = self.cleaned_data
        present = [pk for name in self.area_fields for pk in data.get(name, [])]
        return {
            "instrument": self.instrument,
            "present_item_ids": present,
            "assessed_on": data["assessed_on"],
            "notes": data["notes"],
            "restricted": data["restricted"],
        }
