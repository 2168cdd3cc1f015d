from django import forms
from django.utils.translation import gettext_lazy as _


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=_("Nota de resolución"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Escriba qué se ha hecho o por qué se cierra la alerta.")},
    )
