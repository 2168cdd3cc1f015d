"""Forms of the record page: the sections of the viewer's own service, the basic sheet and attachments.

One ModelForm per section model, built from the model itself, so that a new field of a
section is editable without touching this module. Dates are typed as dd/mm/aaaa. An
edit form carries the version it was read at (optimistic locking, ``cases.services``).
"""

from __future__ import annotations

from functools import cache

from django import forms
from django.db import models
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext_lazy as _

from sharing.categories import BY_CODE, COMMON

from .models import SECTION_MODELS, Attachment, Person, ServiceEntry

#: Fields that say who recorded an entry or when: set by ``cases.services``, never typed.
ENTRY_EXCLUDE = ("person", "recorded_by_service", "recorded_by_org", "recorded_by", "version",
                 "created_at", "updated_at")
PERSON_FIELDS = (
    "first_name", "last_name_1", "last_name_2", "document_type", "document_number", "no_document_reason",
    "birth_date", "sex", "nationality", "address_line", "postal_code", "municipality", "phone", "email",
    "education_level", "languages",
)

DATE_FORMAT = "%d/%m/%Y"
DATETIME_FORMAT = "%d/%m/%Y %H:%M"


def _date_widget() -> forms.DateInput:
    return forms.DateInput(format=DATE_FORMAT, attrs={"placeholder": "dd/mm/aaaa", "inputmode": "numeric",
                                                      "autocomplete": "off"})


def _formfield(field: models.Field, **kwargs):
    messages = {"required": format_lazy(_("Indique «{}»: es obligatorio."), capfirst(field.verbose_name))}
    if isinstance(field, models.DateTimeField):
        kwargs.setdefault("widget", forms.DateTimeInput(format=DATETIME_FORMAT,
                                                        attrs={"placeholder": "dd/mm/aaaa hh:mm"}))
        kwargs.setdefault("help_text", _("Formato dd/mm/aaaa hh:mm."))
        messages["invalid"] = _("Escriba la fecha y la hora como dd/mm/aaaa hh:mm (por ejemplo, 14/03/2025 10:30).")
    elif isinstance(field, models.DateField):
        kwargs.setdefault("widget", _date_widget())
        kwargs.setdefault("help_text", field.help_text or _("Formato dd/mm/aaaa."))
        messages["invalid"] = _("Escriba la fecha como dd/mm/aaaa (por ejemplo, 14/03/2025).")
    elif isinstance(field, models.TextField):
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
    formfield = field.formfield(**kwargs)
    if formfield is not None:
        formfield.error_messages.update(messages)
    return formfield


class VersionedForm(forms.ModelForm):
    """A form that carries the version of the row it edits."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:  # a new row has no version to carry
            del self.fields["version"]
            return
        self.fields["version"].required = True
        self.fields["version"].error_messages["required"] = _(
            "Falta la versión de la ficha que editaba: vuelva a abrirla desde la historia.")
        if not self.is_bound:
            self.initial["version"] = self.instance.version

    @property
    def model_data(self) -> dict:
        """The cleaned values of the model's own fields (what the service writes)."""
        names = {f.name for f in self._meta.model._meta.get_fields()}
        return {k: v for k, v in self.cleaned_data.items() if k in names}


def section_slug(model: type[ServiceEntry]) -> str:
    return model._meta.model_name


SECTIONS_BY_SLUG: dict[str, type[ServiceEntry]] = {section_slug(m): m for m in SECTION_MODELS}


def sections_of(service: str) -> list[type[ServiceEntry]]:
    """The section models a service records: those of its own categories and the common diary."""
    return [m for m in SECTION_MODELS
            if m.CATEGORY != "ficha_basica" and BY_CODE[m.CATEGORY].owner_service in (COMMON, service)]


def section_for(slug: str, service: str) -> type[ServiceEntry] | None:
    model = SECTIONS_BY_SLUG.get(slug)
    return model if model is not None and model in sections_of(service) else None


@cache
def section_form_class(model: type[ServiceEntry]) -> type[VersionedForm]:
    """The create/edit form of one section model."""
    return forms.modelform_factory(model, form=VersionedForm, exclude=ENTRY_EXCLUDE,
                                   formfield_callback=_formfield)


class PersonForm(VersionedForm):
    """The basic sheet (ficha básica), common to every service that attends the person."""

    class Meta:
        model = Person
        fields = PERSON_FIELDS
        formfield_callback = _formfield
        widgets = {"municipality": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off",
                                                          "maxlength": 5})}
        labels = {"municipality": _("Municipio (código INE)")}
        help_texts = {
            "languages": _("Códigos ISO 639 separados por comas, por ejemplo: es, ar, ro."),
            "municipality": _("Cinco cifras: por ejemplo, 47186 es Valladolid."),
            "nationality": _("Código de dos letras del país (ES, MA, RO…)."),
            "document_number": _("DNI: 8 cifras y letra (12345678Z). NIE: X, Y o Z, 7 cifras y letra (X1234567L)."),
        }
        error_messages = {"municipality": {"invalid_choice": _("No hay ningún municipio con ese código INE.")}}

    def clean_nationality(self) -> str:
        value = (self.cleaned_data.get("nationality") or "").strip().upper()
        if len(value) != 2 or not value.isalpha():
            raise forms.ValidationError(_("Escriba el código de dos letras del país (por ejemplo, ES)."))
        return value


class AttachmentForm(forms.Form):
    category = forms.ChoiceField(label=_("Área de información a la que pertenece"),
                                 help_text=_("El documento se verá con las mismas reglas que esa área."))
    kind = forms.ChoiceField(label=_("Tipo de documento"), choices=Attachment.Kind.choices)
    title = forms.CharField(label=_("Descripción"), max_length=200)
    file = forms.FileField(label=_("Archivo (PDF, PNG o JPEG)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}))
    restricted = forms.BooleanField(
        label=_("Restringir: los demás servicios solo sabrán que existe información en esta área"),
        required=False,
    )

    def __init__(self, *args, categories: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "---------"), *categories]


def field_pairs(form: forms.ModelForm, current: models.Model) -> list[dict]:
    """For a stale save: each field with the value the user typed and the value saved meanwhile."""
    cleaned = getattr(form, "cleaned_data", {})
    rows = []
    for name, field in form.fields.items():
        if name == "version":
            continue
        model_field = current._meta.get_field(name)
        saved = getattr(current, name)
        typed = cleaned.get(name, form[name].value())
        rows.append({
            "name": name,
            "label": field.label,
            "typed": _display(model_field, typed),
            "saved": _display(model_field, saved),
            "differs": _key(typed) != _key(saved),
        })
    return rows


def _key(value):
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple):
        return tuple(value)
    return value if value != "" else None


def _display(model_field: models.Field, value) -> str:
    import datetime as dt

    from django.utils import timezone

    if value is None or value == "":
        return "—"
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return str(_("Sí") if value else _("No"))
    if isinstance(value, dt.datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).strftime(DATETIME_FORMAT)
    if isinstance(value, dt.date):
        return value.strftime(DATE_FORMAT)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)
