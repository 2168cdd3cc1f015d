"""Evaluation pages: aggregates of the pilots, never a person.

Evaluators (and coordinators) open the pilots they may see (``Pilot.objects.visible_to``);
any other pilot is a 404. Every number comes from the protected release of
``pilots.indicators`` / ``pilots.esf``, computed over the pilot's whole grid of periods; the
filters (a period of the grid, a territory or an organisation) select cells of it, and the
pages, the downloads and the report of one filter show the same cells.

A closed period is served from its frozen figures, never recomputed; if it has not been
frozen yet (the nightly task has not run since it closed), the first page that reads the
pilot freezes it. Open periods are computed live and labelled provisional (decision 0012).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from ris.accounts.access import role_required
from ris.accounts.models import Role
from sharing.models import Channel

from . import exports
from .esf import SEXES
from .forms import FilterForm, FollowUpForm
from .indicators import Scope
from .models import FrozenPeriod, Pilot
from .periods import Period
from .presentation import build_dashboard
from .report import pilot_report_pdf
from .selectors import (
    ClosedPeriods,
    DataState,
    Selection,
    closed_periods_of,
    esf_tables_for,
    follow_ups_of,
    latest_follow_ups,
    pilot_for,
    pilot_scope,
    pilots_for,
    publication_for,
    viewer_takes_part,
)
from .services import aggregate_read_log, follow_up_record, periods_freeze

EVALUATION_ROLES = (Role.EVALUATOR, Role.COORDINATOR)
HEALTH = "salud"  # the ESF+ disability count is computed from this special category
DATASETS = ("indicadores", "fse")
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass
class State:
    """What a page of one pilot shows: the filter, the chosen period and selection, and the
    frozen figures of the closed periods."""

    pilot: Pilot
    form: FilterForm
    scope: Scope
    period: Period
    selection: Selection
    closed: ClosedPeriods

    @property
    def span(self):
        return self.period.span

    @property
    def frozen(self):
        return self.closed.figures

    @property
    def data_state(self) -> DataState:
        return self.closed.state(self.span)

    def filename(self, kind: str, extension: str, selection: str = "") -> str:
        return exports.download_filename(
            kind=kind, pilot_code=self.pilot.code, period=self.period, selection=selection,
            provisional=not self.data_state.frozen, version=self.data_state.version, extension=extension,
        )


def _state(request, pilot_id: int) -> State:
    """The pilot, its filter form, the scope of its whole grid, the chosen period and selection,
    and its closed periods (frozen here if the nightly task has not frozen them yet)."""
    pilot = pilot_for(viewer=request.viewer, pilot_id=pilot_id)
    scope = pilot_scope(pilot=pilot)
    form = FilterForm(request.GET or None, grid=scope.grid(), scope=scope)
    organisation_id, territory = form.selection()
    closed = closed_periods_of(pilot=pilot, scope=scope)
    if closed.pending:
        periods_freeze(pilot_id=pilot.pk, origin=FrozenPeriod.Origin.ON_REQUEST)
        closed = closed_periods_of(pilot=pilot, scope=scope)
    return State(pilot, form, scope, form.chosen_period(), Selection(organisation_id, territory), closed)


def _what(name: str, span, selection: Selection | None = None) -> str:
    """What the disclosure log says was read: ``indicadores.csv 2026-01..2026-03 territorio:24``."""
    return " ".join(part for part in (name, span.code, selection.code if selection else "") if part)


@role_required(*EVALUATION_ROLES)
def home(request):
    pilots = list(pilots_for(viewer=request.viewer))
    return render(request, "pilots/home.html", {"pilots": pilots})


def _board(publication, selection: Selection):
    return build_dashboard(
        publication, organisation_id=selection.organisation_id, territory=selection.territory,
        selection_label=selection.label(publication.scope),
    )


@role_required(*EVALUATION_ROLES)
def dashboard(request, pilot_id: int):
    state = _state(request, pilot_id)
    board = _board(publication_for(scope=state.scope, period=state.span, frozen=state.frozen), state.selection)
    return render(request, "pilots/dashboard.html", {
        "pilot": state.pilot, "form": state.form, "scope": board.publication.scope, "board": board,
        "charts": board.charts(), "query": state.form.query_string(), "data_state": state.data_state,
        "follow_ups": latest_follow_ups(pilot=state.pilot), "tab": "dashboard",
    })


@role_required(*EVALUATION_ROLES)
def esf_indicators(request, pilot_id: int):
    state = _state(request, pilot_id)
    tables = esf_tables_for(scope=state.scope, period=state.span, frozen=state.frozen)
    aggregate_read_log(viewer=request.viewer, pilot=state.pilot, what=_what("fse", state.span), channel=Channel.WEB,
                       request_id=getattr(request, "id", ""), categories=(HEALTH,))
    return render(request, "pilots/esf.html", {
        "pilot": state.pilot, "form": state.form, "scope": state.scope.of(state.span), "tables": tables,
        "query": state.form.query_string(), "data_state": state.data_state, "tab": "esf", "sexes": SEXES,
    })


@role_required(*EVALUATION_ROLES)
def download(request, pilot_id: int, dataset: str, fmt: str):
    """The indicators of the dashboard's selection (period, territory or organisation), or the
    ESF+ tables of the period (whole pilot: an ESF+ operation is not split by organisation)."""
    if dataset not in DATASETS or fmt not in FORMATS:
        raise Http404
    state = _state(request, pilot_id)
    pilot, scope, period, selection = state.pilot, state.scope, state.span, state.selection
    if dataset == "indicadores":
        publication = publication_for(scope=scope, period=period, frozen=state.frozen)
        label = selection.label(publication.scope)
        meta = exports.metadata(publication.scope, pilot, _("Indicadores de evaluación del piloto"), label,
                                state.data_state.text)
        sheets = [exports.indicator_sheet(publication, organisation_id=selection.organisation_id,
                                          territory=selection.territory),
                  exports.definitions_sheet(publication)]
        categories: tuple[str, ...] = ()
        logged = selection
        filename = state.filename(dataset, fmt, label if selection.code else "")
    else:
        tables = esf_tables_for(scope=scope, period=period, frozen=state.frozen)
        meta = exports.metadata(scope.of(period), pilot, _("Indicadores comunes FSE+ de participantes"),
                                _("Todo el piloto (los indicadores FSE+ se informan por operación, no por "
                                  "organización ni territorio)"), state.data_state.text)
        sheets = [exports.esf_sheet(tables), exports.definitions_sheet(None, tables)]
        categories = (HEALTH,)
        logged = None
        filename = state.filename(dataset, fmt)
    content = exports.to_csv(meta, sheets[0]) if fmt == "csv" else exports.to_xlsx(meta, sheets)
    aggregate_read_log(viewer=request.viewer, pilot=pilot, what=_what(f"{dataset}.{fmt}", period, logged),
                       channel=Channel.EXPORT, request_id=getattr(request, "id", ""), categories=categories)
    response = HttpResponse(content, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@role_required(*EVALUATION_ROLES)
def report(request, pilot_id: int):
    state = _state(request, pilot_id)
    pilot, scope, period, selection = state.pilot, state.scope, state.span, state.selection
    board = _board(publication_for(scope=scope, period=period, frozen=state.frozen), selection)
    content = pilot_report_pdf(
        pilot=pilot, dashboard=board, esf_tables=esf_tables_for(scope=scope, period=period, frozen=state.frozen),
        follow_ups=latest_follow_ups(pilot=pilot), data_state=state.data_state.text,
    )
    aggregate_read_log(viewer=request.viewer, pilot=pilot, what=_what("informe.pdf", period, selection),
                       channel=Channel.EXPORT, request_id=getattr(request, "id", ""), categories=(HEALTH,))
    response = HttpResponse(content, content_type="application/pdf")
    filename = state.filename("informe", "pdf", board.selection_label if selection.code else "")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@role_required(*EVALUATION_ROLES)
def follow_ups(request, pilot_id: int):
    viewer = request.viewer
    pilot = pilot_for(viewer=viewer, pilot_id=pilot_id)
    may_record = viewer.role == Role.COORDINATOR and viewer_takes_part(viewer=viewer, pilot=pilot)
    form = None
    if request.method == "POST":
        if not may_record:
            raise PermissionDenied
        form = FollowUpForm(request.POST, pilot=pilot)
        if form.is_valid():
            follow_up_record(pilot=pilot, viewer=viewer, **form.cleaned_data)
            messages.success(request, _("Seguimiento registrado."))
            return redirect("evaluation:follow_ups", pilot_id=pilot.pk)
    elif may_record:
        form = FollowUpForm(pilot=pilot)
    return render(request, "pilots/follow_ups.html", {
        "pilot": pilot, "form": form, "follow_ups": list(follow_ups_of(pilot=pilot)),
        "latest": latest_follow_ups(pilot=pilot), "tab": "follow_ups", "query": "",
    })
