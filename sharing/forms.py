from django import forms
from django.utils.translation import gettext_lazy as _

from cases.identity import normalise_document
from cases.models import validate_not_future

from .models import BreakGlassAccess


class ExactLookupForm(forms.Form):
    document_number = forms.CharField(label=_("DNI o NIE"), max_length=20)
    birth_date = forms.DateField(label=_("Fecha de nacimiento (dd/mm/aaaa)"), validators=[validate_not_future])

    def clean_document_number(self):
        return normalise_document(self.cleaned_data["document_number"])


class BreakGlassForm(ExactLookupForm):
    reason = forms.CharField(label=_("Motivo de la urgencia"), widget=forms.Textarea(attrs={"rows": 3}))
    hours = forms.IntegerField(label=_("Duración (horas)"), min_value=1,
                               max_value=BreakGlassAccess.MAX_DURATION_HOURS, initial=2)


class BreakGlassReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Resultado"),
        choices=[(BreakGlassAccess.Outcome.JUSTIFIED, _("Justificado")),
                 (BreakGlassAccess.Outcome.UNJUSTIFIED, _("No justificado"))],
    )
    note = forms.CharField(label=_("Nota"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
