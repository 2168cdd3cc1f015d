"""Forms of the evaluation pages: the filter (territory, organisation, period), the
coordinators' follow-up of a dimension, and the pilot in the admin."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from .indicators import Scope, month_end
from .models import DimensionFollowUp, Pilot


def _month_value(month: dt.date) -> str:
    return month.strftime("%Y-%m")


def _month_label(month: dt.date) -> str:
    return formats.date_format(month, "F Y").capitalize()


class FilterForm(forms.Form):
    """What part of the pilot's protected publication a page shows.

    The period decides the publication; the territory and the organisation only select
    cells of it (see ``pilots.indicators``)."""

    desde = forms.ChoiceField(label=_("Desde (mes)"))
    hasta = forms.ChoiceField(label=_("Hasta (mes, incluido)"))
    territorio = forms.ChoiceField(label=_("Territorio"), required=False)
    organizacion = forms.ChoiceField(label=_("Organización"), required=False)

    def __init__(self, data=None, *, months: list[dt.date], scope: Scope):
        super().__init__(data)
        scope_orgs, territories, territory_labels = scope.organisations, scope.territories, scope.territory_labels
        choices = [(_month_value(m), _month_label(m)) for m in months]
        self.fields["desde"].choices = choices
        self.fields["hasta"].choices = choices
        self.fields["territorio"].choices = [("", _("Todos los territorios"))] + [
            (code or "-", territory_labels.get(code, code)) for code in territories
        ]
        self.fields["organizacion"].choices = [("", _("Todas las organizaciones"))] + [
            (str(o.id), o.name) for o in scope_orgs
        ]
        self.months = months
        self.organisation_territory = {o.id: o.territory for o in scope_orgs}
        if data is None or not any(k in data for k in ("desde", "hasta", "territorio", "organizacion")):
            self.initial = {"desde": choices[0][0], "hasta": choices[-1][0]}

    def clean(self):
        data = super().clean()
        start, end = data.get("desde"), data.get("hasta")
        if start and end and start > end:
            raise forms.ValidationError(_("El mes inicial no puede ser posterior al mes final."), code="period")
        organisation, territory = data.get("organizacion"), data.get("territorio")
        if organisation and territory:
            org_territory = self.organisation_territory.get(int(organisation))
            if (org_territory or "-") != territory:
                raise forms.ValidationError(
                    _("La organización elegida no está en el territorio elegido."), code="territory",
                )
        return data

    def period(self) -> tuple[dt.date, dt.date]:
        """The chosen period; the whole available range if the form is unbound or invalid."""
        if self.is_bound and self.is_valid():
            start = dt.date.fromisoformat(self.cleaned_data["desde"] + "-01")
            end = month_end(dt.date.fromisoformat(self.cleaned_data["hasta"] + "-01"))
            return start, end
        return self.months[0], month_end(self.months[-1])

    def selection(self) -> tuple[int | None, str | None]:
        if not (self.is_bound and self.is_valid()):
            return None, None
        organisation = self.cleaned_data.get("organizacion")
        territory = self.cleaned_data.get("territorio")
        if organisation:
            return int(organisation), None
        if territory:
            return None, "" if territory == "-" else territory
        return None, None

    def query_string(self) -> str:
        """The filter as a query string, for the download and report links."""
        from urllib.parse import urlencode

        if not (self.is_bound and self.is_valid()):
            return ""
        return urlencode({k: v for k, v in self.cleaned_data.items() if v})


class FollowUpForm(forms.ModelForm):
    class Meta:
        model = DimensionFollowUp
        fields = ["dimension", "date", "state", "obstacles", "success_factors", "next_steps"]
        widgets = {
            "date": forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/aaaa"}),
            "obstacles": forms.Textarea(attrs={"rows": 3}),
            "success_factors": forms.Textarea(attrs={"rows": 3}),
            "next_steps": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "obstacles": _("No escriba datos de personas atendidas: este seguimiento es de la organización del "
                           "piloto, no de casos."),
        }

    def __init__(self, *args, pilot: Pilot, **kwargs):
        super().__init__(*args, **kwargs)
        self.pilot = pilot
        self.fields["date"].initial = timezone.localdate()
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}-help"

    def clean_date(self):
        date = self.cleaned_data["date"]
        if date > timezone.localdate():
            raise forms.ValidationError(_("La fecha no puede ser posterior a hoy."), code="future_date")
        if date < self.pilot.start_date:
            raise forms.ValidationError(_("La fecha es anterior al inicio del piloto."), code="before_pilot")
        return date

    def clean(self):
        data = super().clean()
        if not any(data.get(f) for f in ("obstacles", "success_factors", "next_steps")):
            raise forms.ValidationError(
                _("Describa al menos los obstáculos, los factores de éxito o los próximos pasos."), code="empty",
            )
        return data


class PilotAdminForm(forms.ModelForm):
    """Provinces, municipalities and organisations must belong to the pilot's community."""

    class Meta:
        model = Pilot
        fields = ["name", "code", "objectives", "community", "provinces", "municipalities", "organisations",
                  "start_date", "end_date", "funding_lines", "funding_reference"]

    def clean(self):
        data = super().clean()
        community = data.get("community")
        if community is None:
            return data
        errors = {}
        provinces = data.get("provinces") or []
        if any(p.community_id != community.pk for p in provinces):
            errors["provinces"] = _("Todas las provincias deben ser de la comunidad autónoma del piloto.")
        municipalities = data.get("municipalities") or []
        province_ids = {p.pk for p in provinces}
        for municipality in municipalities:
            province = municipality.province
            if province.community_id != community.pk or (province_ids and province.pk not in province_ids):
                errors["municipalities"] = _(
                    "Todos los municipios deben ser de la comunidad autónoma (y de las provincias) del piloto."
                )
                break
        organisations = data.get("organisations") or []
        if any(o.community_id != community.pk for o in organisations):
            errors["organisations"] = _("Todas las organizaciones deben ser de la comunidad autónoma del piloto.")
        if errors:
            raise forms.ValidationError(errors)
        return data
