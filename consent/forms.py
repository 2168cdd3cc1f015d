"""Forms of the consent workflow: record (or correct) a consent with its scope, and revoke it.

The scope is what the person signs: who may receive their data (service kinds and/or named
organisations), which categories (all, or a list) with exceptions inside them, for which
purposes and during which period; and who signs (the person, or the legal representative:
under 14 the representative must sign, LOPDGDD art. 7). The rules themselves live on the
model (``Consent.clean``) and in ``consent.services``; these forms only parse and explain.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ris.accounts.models import Organisation, ServiceKind

from .models import CATEGORY_CHOICES, Consent, ConsentRevocation
from .purposes import Purpose

DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
PERSON_PURPOSE_CHOICES = [(p.value, p.label) for p in Purpose if p != Purpose.EVALUATION]
SHAREABLE_CATEGORY_CHOICES = [(code, label) for code, label in CATEGORY_CHOICES if code != "ficha_basica"]


def _date_field(label, **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label, input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/aaaa", "inputmode": "numeric",
                                                          "autocomplete": "off"}),
        error_messages={"invalid": _("Escriba la fecha como dd/mm/aaaa (por ejemplo, 14/03/2025)."),
                        "required": _("Indique la fecha.")},
        **kwargs,
    )


def signed_form_field(*, required: bool) -> forms.FileField:
    """The scanned signed form: the same field when recording the consent and when attaching the
    form later (its content is checked by ``consent.services.checked_document`` in both)."""
    widget = forms.FileInput if required else forms.ClearableFileInput
    return forms.FileField(
        label=_("Documento firmado escaneado (PDF, PNG o JPEG)"), required=required,
        widget=widget(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
        error_messages={"required": _("Elija el archivo del documento firmado.")},
    )


class ConsentForm(forms.Form):
    grantor = forms.ChoiceField(label=_("Quién firma"), choices=Consent.Grantor.choices,
                                widget=forms.RadioSelect, initial=Consent.Grantor.PERSON)
    representative_name = forms.CharField(label=_("Nombre del representante legal"), max_length=200,
                                          required=False)
    representative_relation = forms.CharField(label=_("Relación con la persona"), max_length=100, required=False,
                                              help_text=_("Por ejemplo: madre, padre, tutor/a legal."))
    representative_evidence = forms.CharField(label=_("Acreditación de la representación"), max_length=255,
                                              required=False,
                                              help_text=_("Por ejemplo: libro de familia, resolución judicial."))
    given_on = _date_field(_("Fecha de firma"))
    valid_from = _date_field(_("Vigente desde"))
    valid_until = _date_field(_("Vigente hasta"))
    grantee_services = forms.MultipleChoiceField(
        label=_("Servicios autorizados"), choices=ServiceKind.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Todas las organizaciones de ese tipo que atiendan a la persona."),
    )
    grantee_organisations = forms.ModelMultipleChoiceField(
        label=_("Organizaciones autorizadas"), queryset=Organisation.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    all_categories = forms.BooleanField(label=_("Toda la información (salvo las exclusiones)"), required=False)
    permitted_categories = forms.MultipleChoiceField(
        label=_("Información que se comparte"), choices=SHAREABLE_CATEGORY_CHOICES, required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    denied_categories = forms.MultipleChoiceField(
        label=_("Excepto (información excluida)"), choices=SHAREABLE_CATEGORY_CHOICES, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Excepciones dentro de lo autorizado: por ejemplo, todo salvo salud."),
    )
    purposes = forms.MultipleChoiceField(
        label=_("Finalidades"), choices=PERSON_PURPOSE_CHOICES, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Indique al menos una finalidad.")},
    )
    privacy_notice_version = forms.CharField(label=_("Versión de la información de privacidad entregada"),
                                             max_length=20, initial="1.0")
    document = signed_form_field(required=False)

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organisations is not None:
            self.fields["grantee_organisations"].queryset = organisations
        if not self.is_bound and not self.initial.get("given_on"):
            today = timezone.localdate()
            self.initial.update({"given_on": today, "valid_from": today,
                                 "valid_until": today + dt.timedelta(days=365)})

    def clean(self):
        data = super().clean()
        if not data.get("grantee_services") and not data.get("grantee_organisations"):
            self.add_error("grantee_services", _("Indique a qué servicios u organizaciones autoriza."))
        if not data.get("all_categories") and not data.get("permitted_categories"):
            self.add_error("permitted_categories", _("Indique al menos una categoría, o marque toda la información."))
        permitted, denied = set(data.get("permitted_categories") or ()), set(data.get("denied_categories") or ())
        if not data.get("all_categories") and denied - permitted:
            self.add_error("denied_categories", _("Una exclusión solo tiene sentido dentro de lo que se comparte: "
                                                  "quítela o autorice esa información."))
        representative = (data.get("representative_name") or "").strip()
        if data.get("grantor") == Consent.Grantor.REPRESENTATIVE and not representative:
            self.add_error("representative_name", _("Indique quién firma como representante legal."))
        if data.get("valid_from") and data.get("valid_until") and data["valid_until"] < data["valid_from"]:
            self.add_error("valid_until", _("El final de la vigencia no puede ser anterior a su inicio."))
        return data

    def service_kwargs(self) -> dict:
        """The keyword arguments of ``consent.services.consent_record`` / ``consent_correct``."""
        data = self.cleaned_data
        return {
            "given_on": data["given_on"], "valid_from": data["valid_from"], "valid_until": data["valid_until"],
            "purposes": list(data["purposes"]), "grantee_services": list(data["grantee_services"]),
            "grantee_organisation_ids": [o.pk for o in data["grantee_organisations"]],
            "all_categories": bool(data["all_categories"]),
            "permitted_categories": [] if data["all_categories"] else list(data["permitted_categories"]),
            "denied_categories": list(data["denied_categories"]),
            "privacy_notice_version": data["privacy_notice_version"], "grantor": data["grantor"],
            "representative_name": data["representative_name"] if data["grantor"] != Consent.Grantor.PERSON else "",
            "representative_relation": data["representative_relation"]
            if data["grantor"] != Consent.Grantor.PERSON else "",
            "representative_evidence": data["representative_evidence"]
            if data["grantor"] != Consent.Grantor.PERSON else "",
            "document": data.get("document") or None,
        }

    @classmethod
    def initial_from(cls, consent: Consent) -> dict:
        """A correction starts from the consent it corrects."""
        return {
            "grantor": consent.grantor, "representative_name": consent.representative_name,
            "representative_relation": consent.representative_relation,
            "representative_evidence": consent.representative_evidence,
            "given_on": consent.given_on, "valid_from": consent.valid_from, "valid_until": consent.valid_until,
            "grantee_services": list(consent.grantee_services),
            "grantee_organisations": [o.pk for o in consent.grantee_organisations.all()],
            "all_categories": consent.all_categories, "permitted_categories": list(consent.permitted_categories),
            "denied_categories": list(consent.denied_categories), "purposes": list(consent.purposes),
            "privacy_notice_version": consent.privacy_notice_version,
        }


class SignedFormForm(forms.Form):
    """The signed form of a consent recorded without it."""

    document = signed_form_field(required=True)


class RevocationForm(forms.Form):
    channel = forms.ChoiceField(label=_("Cómo lo ha comunicado la persona"), choices=ConsentRevocation.Channel.choices,
                                error_messages={"required": _("Indique el canal de la revocación.")})
    reason = forms.CharField(label=_("Motivo (opcional)"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                             max_length=2000)


class ScopePurposeForm(forms.Form):
    finalidad = forms.ChoiceField(label=_("Finalidad"), choices=PERSON_PURPOSE_CHOICES, required=False)
