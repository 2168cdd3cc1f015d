"""Evaluation pages: aggregates of the pilots, never a person.

Evaluators (and coordinators) open the pilots they may see (``Pilot.objects.visible_to``);
any other pilot is a 404. Every number comes from the protected publication of
``pilots.indicators`` / ``pilots.esf``; the filters select cells of it.
"""

from __future__ import annotations

from dataclasses import replace

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
from .indicators import month_end
from .presentation import build_dashboard
from .report import pilot_report_pdf
from .selectors import (
    Selection,
    available_months,
    esf_tables_for,
    follow_ups_of,
    latest_follow_ups,
    pilot_for,
    pilots_for,
    publication_for,
    scope_for,
    viewer_takes_part,
)
from .services import aggregate_read_log, follow_up_record

EVALUATION_ROLES = (Role.EVALUATOR, Role.COORDINATOR)
HEALTH = "salud"  # the ESF+ disability count is computed from this special category
DATASETS = ("indicadores", "fse")
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _state(request, pilot_id: int):
    """The pilot, its filter form, the scope of the chosen period and the selection."""
    pilot = pilot_for(viewer=request.viewer, pilot_id=pilot_id)
    months = available_months(pilot=pilot)
    base = scope_for(pilot=pilot, start=months[0], end=months[-1])
    form = FilterForm(request.GET or None, months=months, scope=base)
    start, end = form.period()
    scope = replace(base, start=start, end=month_end(end))
    organisation_id, territory = form.selection()
    return pilot, form, scope, Selection(organisation_id, territory)


def _period_code(scope) -> str:
    return f"{scope.start:%Y-%m}..{scope.end:%Y-%m}"


@role_required(*EVALUATION_ROLES)
def home(request):
    pilots = list(pilots_for(viewer=request.viewer))
    return render(request, "pilots/home.html", {"pilots": pilots})


@role_required(*EVALUATION_ROLES)
def dashboard(request, pilot_id: int):
    pilot, form, scope, selection = _state(request, pilot_id)
    board = build_dashboard(
        publication_for(scope=scope), organisation_id=selection.organisation_id, territory=selection.territory,
        selection_label=selection.label(scope),
    )
    return render(request, "pilots/dashboard.html", {
        "pilot": pilot, "form": form, "scope": scope, "board": board, "charts": board.charts(),
        "query": form.query_string(), "follow_ups": latest_follow_ups(pilot=pilot), "tab": "dashboard",
    })


@role_required(*EVALUATION_ROLES)
def esf_indicators(request, pilot_id: int):
    pilot, form, scope, _selection = _state(request, pilot_id)
    tables = esf_tables_for(scope=scope)
    aggregate_read_log(viewer=request.viewer, pilot=pilot, what=f"fse {_period_code(scope)}", channel=Channel.WEB,
                       request_id=getattr(request, "id", ""), categories=(HEALTH,))
    return render(request, "pilots/esf.html", {
        "pilot": pilot, "form": form, "scope": scope, "tables": tables, "query": form.query_string(), "tab": "esf",
        "sexes": SEXES,
    })


@role_required(*EVALUATION_ROLES)
def download(request, pilot_id: int, dataset: str, fmt: str):
    if dataset not in DATASETS or fmt not in FORMATS:
        raise Http404
    pilot, _form, scope, _selection = _state(request, pilot_id)
    if dataset == "indicadores":
        publication = publication_for(scope=scope)
        meta = exports.metadata(scope, pilot, _("Indicadores de evaluación del piloto"))
        sheets = [exports.indicator_sheet(publication), exports.definitions_sheet(publication)]
        categories: tuple[str, ...] = ()
    else:
        tables = esf_tables_for(scope=scope)
        meta = exports.metadata(scope, pilot, _("Indicadores comunes FSE+ de participantes"))
        sheets = [exports.esf_sheet(tables), exports.definitions_sheet(None, tables)]
        categories = (HEALTH,)
    content = exports.to_csv(meta, sheets[0]) if fmt == "csv" else exports.to_xlsx(meta, sheets)
    aggregate_read_log(viewer=request.viewer, pilot=pilot, what=f"{dataset}.{fmt} {_period_code(scope)}",
                       channel=Channel.EXPORT, request_id=getattr(request, "id", ""), categories=categories)
    response = HttpResponse(content, content_type=FORMATS[fmt])
    filename = f"{pilot.code}-{dataset}-{scope.start:%Y%m}-{scope.end:%Y%m}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@role_required(*EVALUATION_ROLES)
def report(request, pilot_id: int):
    pilot, _form, scope, selection = _state(request, pilot_id)
    board = build_dashboard(
        publication_for(scope=scope), organisation_id=selection.organisation_id, territory=selection.territory,
        selection_label=selection.label(scope),
    )
    content = pilot_report_pdf(pilot=pilot, dashboard=board, esf_tables=esf_tables_for(scope=scope),
                               follow_ups=latest_follow_ups(pilot=pilot))
    aggregate_read_log(viewer=request.viewer, pilot=pilot, what=f"informe.pdf {_period_code(scope)}",
                       channel=Channel.EXPORT, request_id=getattr(request, "id", ""), categories=(HEALTH,))
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="{pilot.code}-informe-{scope.start:%Y%m}-{scope.end:%Y%m}.pdf"'
    )
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
