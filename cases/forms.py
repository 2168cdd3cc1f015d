"""Forms of the staff workspace and the portal: registration, search, merge, portal entries.

Validation messages are Spanish and say what to do; a form with errors is shown again
with everything the user typed.
"""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .identity import normalise_document
from .models import ChildPovertyDetection, Person, SocialFolderIntervention

DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
DATE_ERROR = _("Escriba la fecha como dd/mm/aaaa (por ejemplo, 14/03/1985).")


def date_field(label, **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label,
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(
            format="%d/%m/%Y",
            attrs={"placeholder": "dd/mm/aaaa", "inputmode": "numeric", "autocomplete": "off"},
        ),
        error_messages={"invalid": DATE_ERROR, "required": _("Indique la fecha.")},
        **kwargs,
    )


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Nombre, apellidos, DNI/NIE o fecha de nacimiento"),
        max_length=200,
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "placeholder": _("Por ejemplo: José García, 12345678Z o 14/03/1985"),
            }
        ),
    )


class PersonRegistrationForm(forms.ModelForm):
    """The basic sheet of a new person. Document rules are the model's (``cases.identity``)."""

    birth_date = date_field(_("Fecha de nacimiento"))

    class Meta:
        model = Person
        fields = [
            "first_name",
            "last_name_1",
            "last_name_2",
            "document_type",
            "document_number",
            "no_document_reason",
            "birth_date",
            "sex",
            "nationality",
            "address_line",
            "postal_code",
            "phone",
            "email",
        ]
        help_texts = {
            "document_number": _(
                "DNI: 8 cifras y letra (12345678Z). NIE: X, Y o Z, 7 cifras y letra (X1234567L)."
            ),
            "no_document_reason": _("Solo si la persona no tiene documento."),
            "nationality": _("Código de dos letras del país (ES, MA, RO…)."),
        }
        error_messages = {
            "first_name": {"required": _("Indique el nombre.")},
            "last_name_1": {"required": _("Indique el primer apellido.")},
            "document_type": {"required": _("Indique el tipo de documento, o «Sin documento».")},
            "sex": {"required": _("Indique el sexo.")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document_number"].required = False
        self.fields["no_document_reason"].required = False
        if "email" in self.fields:  # a subclass may ask for less of the basic sheet
            self.fields["email"].error_messages["invalid"] = _("El correo electrónico no es válido.")
        for name in ("first_name", "last_name_1", "last_name_2"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    def clean_document_number(self) -> str:
        return normalise_document(self.cleaned_data.get("document_number", ""))

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        if value and value > timezone.localdate():
            raise forms.ValidationError(
                _("La fecha de nacimiento no puede ser posterior a hoy."), code="future"
            )
        return value

    def clean_nationality(self) -> str:
        value = (self.cleaned_data.get("nationality") or "").strip().upper()
        if len(value) != 2 or not value.isalpha():
            raise forms.ValidationError(
                _("Escriba el código de dos letras del país (por ejemplo, ES).")
            )
        return value

    def _get_validation_exclusions(self):
        # The same document elsewhere is not a form error: the view answers it with
        # cases.search.check_identity ("esta persona ya consta en el sistema", or a neutral refusal
        # that does not say the document is taken). Leaving document_type out of the model's
        # constraint checks skips the unique document rule here; Person.clean() still validates
        # the document fully, and person_register validates every constraint again before saving.
        return {*super()._get_validation_exclusions(), "document_type"}

    def validate_unique(self) -> None:
        """See ``_get_validation_exclusions``."""

    def person_data(self) -> dict:
        """The values for ``cases.services.person_register``, as the model normalised them."""
        data = {name: getattr(self.instance, name) for name in self.Meta.fields}
        data["document_number"] = self.instance.document_number
        return data


class ConfirmNewPersonForm(forms.Form):
    not_a_duplicate = forms.BooleanField(
        label=_("He comprobado que no es ninguna de estas personas"),
        required=True,
        error_messages={
            "required": _("Marque la casilla para confirmar que no es ninguna de estas personas.")
        },
    )


class MergeForm(forms.Form):
    surviving = forms.IntegerField(label=_("Registro que permanece (número)"), min_value=1)
    merged = forms.IntegerField(label=_("Registro que se fusiona en él (número)"), min_value=1)
    reason = forms.CharField(
        label=_("Motivo de la fusión"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=1000,
    )

    def clean(self):
        data = super().clean()
        if data.get("surviving") and data.get("surviving") == data.get("merged"):
            raise forms.ValidationError(_("Elija dos registros distintos."))
        return data


class SocialFolderInterventionForm(forms.ModelForm):
    date = date_field(_("Fecha"))

    class Meta:
        model = SocialFolderIntervention
        fields = ["date", "kind", "description", "restricted"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
        error_messages = {"description": {"required": _("Describa la intervención.")}}

    def clean_date(self):
        value = self.cleaned_data["date"]
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("La fecha no puede ser posterior a hoy."))
        return value


class ChildPovertyDetectionForm(forms.ModelForm):
    detected_on = date_field(_("Fecha de detección"))

    class Meta:
        model = ChildPovertyDetection
        fields = ["detected_on", "minors_affected", "description", "restricted"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
        error_messages = {
            "minors_affected": {"required": _("Indique cuántos menores están afectados.")},
            "description": {"required": _("Describa la situación detectada.")},
        }

    def clean_detected_on(self):
        value = self.cleaned_data["detected_on"]
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("La fecha no puede ser posterior a hoy."))
        return value

    def clean_minors_affected(self):
        value = self.cleaned_data["minors_affected"]
        if value is not None and value < 1:
            raise forms.ValidationError(_("Debe haber al menos un menor afectado."))
        return value
