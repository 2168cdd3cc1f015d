from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import Membership


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("Usuario o contraseña incorrectos. Revise los datos e inténtelo de nuevo."),
        "inactive": _("Esta cuenta está desactivada."),
    }


class MembershipSwitchForm(forms.Form):
    membership = forms.ModelChoiceField(queryset=Membership.objects.none(), label=_("Actuar como"))

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["membership"].queryset = Membership.objects.filter(user=user, is_active=True)
