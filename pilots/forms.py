"""Forms of the evaluation pages: the filter (period, territory, organisation), the
coordinators' follow-up of a dimension, and the pilot in the admin."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .indicators import Scope
from .models import DimensionFollowUp, FrozenPeriod, Pilot
from .periods import MONTH, PILOT, PILOT_CODE, QUARTER, YEAR, Grid, Period, Span

#: Parameters of the former free range of months ("desde", "hasta"): refused, not guessed.
FREE_RANGE = ("desde", "hasta")
LEVEL_TITLES = ((YEAR, _("Años")), (QUARTER, _("Trimestres")), (MONTH, _("Meses")))


class FilterForm(forms.Form):
    """What part of the pilot's protected release a page shows.

    The period is one of the grid (``pilots.periods``): a calendar month, quarter or year, or
    the whole pilot, never a free range of months, which could be subtracted from another
    range to recover a suppressed month. The territory and the organisation only select
    cells of the release (see ``pilots.indicators``)."""

    periodo = forms.ChoiceField(label=_("Periodo"), required=False)  # none: the whole pilot
    territorio = forms.ChoiceField(label=_("Territorio"), required=False)
    organizacion = forms.ChoiceField(label=_("Organización"), required=False)

    def __init__(self, data=None, *, grid: Grid, scope: Scope):
        super().__init__(data)
        scope_orgs, territories, territory_labels = scope.organisations, scope.territories, scope.territory_labels
        choices: list = [(p.code, p.label) for p in grid.periods if p.level == PILOT]
        for level, title in LEVEL_TITLES:
            choices.append((title, [(p.code, p.label) for p in grid.periods if p.level == level]))
        self.fields["periodo"].choices = choices
        self.fields["territorio"].choices = [("", _("Todos los territorios"))] + [
            (code or "-", territory_labels.get(code, code)) for code in territories
        ]
        self.fields["organizacion"].choices = [("", _("Todas las organizaciones"))] + [
            (str(o.id), o.name) for o in scope_orgs
        ]
        self.grid = grid
        self.organisation_territory = {o.id: o.territory for o in scope_orgs}
        self.initial = {"periodo": PILOT_CODE}

    def clean(self):
        data = super().clean()
        if any(key in self.data for key in FREE_RANGE):
            raise forms.ValidationError(
                _("Los datos se publican por mes, trimestre o año naturales, o para todo el piloto: elija uno de "
                  "esos periodos."), code="free_range",
            )
        organisation, territory = data.get("organizacion"), data.get("territorio")
        if organisation and territory:
            org_territory = self.organisation_territory.get(int(organisation))
            if (org_territory or "-") != territory:
                raise forms.ValidationError(
                    _("La organización elegida no está en el territorio elegido."), code="territory",
                )
        return data

    def chosen_period(self) -> Period:
        """The chosen period of the grid (as named in the address); the whole pilot if the form
        is unbound or invalid."""
        if self.is_bound and self.is_valid() and self.cleaned_data["periodo"]:
            return self.grid.period(self.cleaned_data["periodo"])
        return self.grid.period(PILOT_CODE)

    def period(self) -> Span:
        """The chosen period's months; the whole pilot if the form is unbound or invalid."""
        return self.chosen_period().span

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
                  "start_date", "end_date", "freeze_after_days", "funding_lines", "funding_reference"]

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


class PeriodCorrectionForm(forms.ModelForm):
    """An administrator corrects a frozen period: the pilot, the period (its code, as in the
    filter of the evaluation pages) and the reason, which every page of the period will show."""

    periodo = forms.CharField(
        label=_("Periodo"), max_length=20,
        help_text=_("Código del periodo cerrado, como en el filtro de las páginas de evaluación: 2026-03 (un mes), "
                    "2026-T1 (un trimestre), 2026 (un año) o «piloto» (todo el piloto, si ha terminado)."),
    )

    class Meta:
        model = FrozenPeriod
        fields = ["pilot", "periodo", "reason"]
        help_texts = {
            "reason": _("Se mostrará con las cifras corregidas en las páginas, descargas e informes del periodo."),
        }

    def clean(self):
        from .selectors import closed_periods_of, pilot_scope

        data = super().clean()
        pilot, code = data.get("pilot"), (data.get("periodo") or "").strip()
        if pilot is None or not code:
            return data
        if not (data.get("reason") or "").strip():
            self.add_error("reason", _("Indique el motivo de la corrección."))
        scope = pilot_scope(pilot=pilot)
        period = scope.grid().period(code)
        if period is None:
            self.add_error("periodo", _("Ese periodo no existe en este piloto."))
            return data
        closed = closed_periods_of(pilot=pilot, scope=scope)
        if period.span not in closed.rows and period.span not in closed.pending:
            self.add_error("periodo", _("Ese periodo no está cerrado: sus cifras aún son provisionales y se "
                                        "calculan en cada consulta."))
        data["span"] = period.span
        return data
