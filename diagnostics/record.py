"""The diagnostics part of the person's record: assessments, screenings and the profiling proposal.

``sharing.record`` builds the filtered record from the section models of ``cases``. The
entries of this app are service entries of the record too (the social exclusion
assessment with an instrument, the employment service's employability diagnosis and the
basic employability screening), and ``record_with_diagnostics`` merges them into that
record with the same rules, decided on the facts of the same request:

- each (category, recording service) pair gets its level from ``sharing.policy.decide``;
- a screening belongs to ``empleabilidad`` but any service that attends the person may
  record it, so screenings are read for every recording service and each is shown under
  the service that recorded it, decided for that service (``source_services`` names only
  the category's owner, the employment service);
- a hidden pair is never read, so hidden answers exactly as no data; at "indicator" only
  the existence and the recording service are shown; entries restricted by another
  service count only as existence (origin block), as in ``sharing.record``;
- one query per model and one for the area results of the exclusion assessments,
  whatever the number of entries, and the disclosure lines for what the merge adds to
  the page in one insert.

``profile_of`` computes the profiling proposal (``diagnostics.profiling``) from the merged
record alone, from the entries the viewer sees in full: an input the viewer may not see
counts as absent, so the proposal never tells more than the page.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Collection
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import EmployabilityLevel as LegacyEmployabilityLevel
from cases.models import ExclusionSituation, ServiceEntry
from ris.accounts.models import Role, ServiceKind
from ris.accounts.viewer import Viewer
from sharing.categories import (
    BY_CODE,
    CATEGORIES,
    COMMON,
    EMPLOYMENT,
    SOCIAL,
    THIRD_SECTOR,
)
from sharing.disclosure import LogLine, disclosure_log_append
from sharing.policy import FULL, HIDDEN, INDICATOR, Facts, decide, source_services
from sharing.record import (
    CategoryView,
    RecordView,
    _entry_json,
    assemble_record,
    category_log_line,
    foreign_log_line,
    section_rows,
    split_foreign_entries,
    visible_person,
)

from . import profiling
from .employability import employability_factors
from .models import (
    BasicEmployabilityScreening,
    EmployabilityAssessment,
    ExclusionAreaResult,
    ExclusionAssessment,
)

ENTRY_MODELS: tuple[type[ServiceEntry], ...] = (
    ExclusionAssessment,
    EmployabilityAssessment,
    BasicEmployabilityScreening,
)
_DATE_FIELD = {
    ExclusionAssessment: "assessed_on",
    EmployabilityAssessment: "assessed_on",
    BasicEmployabilityScreening: "screened_on",
}
SERVICES = tuple(ServiceKind.values)
SCREENING_NOTE = gettext_lazy(
    "Cribado básico orientativo: no sustituye al diagnóstico de empleabilidad del servicio "
    "público de empleo."
)


def recording_services(model: type[ServiceEntry]) -> tuple[str, ...]:
    """The services whose entries of this model the record shows: any service for the screening."""
    if model is BasicEmployabilityScreening:
        return SERVICES
    return source_services(model.CATEGORY)


#: Every (category, recording service) pair this app adds entries to, in the record's order.
PAIRS: tuple[tuple[str, str], ...] = tuple(
    dict.fromkeys(
        (model.CATEGORY, service) for model in ENTRY_MODELS for service in recording_services(model)
    )
)
_ORDER = {c.code: i for i, c in enumerate(CATEGORIES)}
_SERVICE_ORDER = {COMMON: -1, **{s: i for i, s in enumerate(SERVICES)}}


# --- What each role records from the record page ---------------------------------------------------


def recording_actions(viewer: Viewer) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(category, own service) → the (route name, label) of the forms the viewer records in it.

    Route names are the same in the workspace and the portal namespaces."""
    if viewer.role == Role.SOCIAL_WORKER:
        return {
            ("exclusion_social", SOCIAL): [
                ("exclusion_assessment_create", _("Nueva valoración de la exclusión social"))
            ],
            ("empleabilidad", SOCIAL): [
                ("screening_create", _("Nuevo cribado básico de empleabilidad"))
            ],
        }
    if viewer.role == Role.EMPLOYMENT_COUNSELLOR:
        return {
            ("empleabilidad", EMPLOYMENT): [
                ("employability_assessment_create", _("Nuevo diagnóstico de empleabilidad"))
            ],
        }
    if viewer.role == Role.NGO_TECHNICIAN:
        return {
            ("empleabilidad", THIRD_SECTOR): [
                ("screening_create", _("Nuevo cribado básico de empleabilidad"))
            ],
        }
    return {}


# --- The merged record -------------------------------------------------------------------------------


def record_with_diagnostics(
    *,
    viewer: Viewer,
    person_id: int,
    purpose: str,
    channel: str,
    request_id: str = "",
    keep: Collection[tuple[str, str]] = (),
) -> RecordView:
    """``sharing.record.record_for`` with the diagnostics entries merged in, on the same facts.

    ``keep``: pairs of the viewer's own service shown even without entries (where the page
    offers to record one). Http404 outside the caseload, exactly as ``record_for``."""
    facts = visible_person(
        viewer=viewer, person_id=person_id, purpose=purpose, channel=channel, request_id=request_id
    )
    shown = _shown(facts, PAIRS)
    with transaction.atomic():
        # the diagnostics entries are read in the record's one statement, and the lines of both
        # are written in one append
        record, lines, rows = assemble_record(
            facts, viewer, person_id, channel, request_id, extra=_wanted(shown)
        )
        record = merge_diagnostics(
            record, facts, channel=channel, request_id=request_id, keep=keep,
            rows=rows, log=lines,
        )
        disclosure_log_append(lines)
        return record


def merge_diagnostics(
    record: RecordView,
    facts: Facts,
    *,
    channel: str,
    request_id: str = "",
    keep: Collection[tuple[str, str]] = (),
    pairs: Collection[tuple[str, str]] = PAIRS,
    rows: list[ServiceEntry] | None = None,
    log: list[LogLine] | None = None,
) -> RecordView:
    """The record with the diagnostics entries of every pair the viewer may see merged in
    (``pairs``: only these, in the record's order; the others are neither read nor logged).

    ``rows``: the entries of the shown pairs, already read (``_wanted``); otherwise read here.
    ``log``: where to add the disclosure lines; otherwise they are written here."""
    viewer = facts.viewer
    keep = keep if facts.attends else ()  # an emergency access only reads what exists
    pairs = [pair for pair in PAIRS if pair in pairs]
    decisions = {pair: decide(facts, *pair) for pair in pairs}
    shown = {pair for pair, decision in decisions.items() if decision.level != HIDDEN}
    found = _entries(facts.person_id, shown, rows)
    views = {(v.code, v.source_service): v for v in record.categories}
    merged: set[tuple[str, str]] = set()
    lines: list[LogLine] = []
    for pair in pairs:
        decision = decisions[pair]
        rows = found.get(pair, [])
        existing = views.get(pair)
        own = pair[1] in (COMMON, viewer.service)
        if decision.level == HIDDEN or not (rows or (own and pair in keep)):
            continue
        foreign_basis, foreign_withheld = "", False
        if own and facts.attends:  # another organisation's assessments need a basis of their own
            rows, foreign_basis, foreign_withheld = split_foreign_entries(facts, decision, rows)
        open_rows = [r for r in rows if own or not r.restricted]
        if existing is not None:
            earlier = existing.entries if existing.level == FULL else []
            earlier_restricted = existing.restricted_information
            earlier_any = existing.level == INDICATOR or bool(earlier) or earlier_restricted
        else:
            earlier, earlier_restricted, earlier_any = [], False, False
        level = decision.level
        if level == FULL and (rows or earlier_any) and not (open_rows or earlier):
            level = INDICATOR  # origin block: every entry was restricted by the recording service
        if level == INDICATOR and not (rows or earlier_any):
            continue  # an indicator tells that information exists: here none does
        meta = BY_CODE[pair[0]]
        view = CategoryView(
            code=pair[0],
            label=meta.label,
            source_service=pair[1],
            level=level,
            basis=decision.basis,
            sensitivity=meta.sensitivity,
            restricted_information=earlier_restricted or len(open_rows) < len(rows) or foreign_withheld,
            foreign_basis=foreign_basis or (existing.foreign_basis if existing is not None else ""),
        )
        if level == FULL:
            view.entries = [*(_entry(r) for r in open_rows), *earlier]
        views[pair] = view
        merged.add(pair)
        if existing is None or (existing.level == INDICATOR and level == FULL):
            line = category_log_line(facts, view, channel=channel, request_id=request_id)
            if line is not None:
                lines.append(line)
        if foreign_basis and not (existing is not None and existing.foreign_basis):
            line = foreign_log_line(facts, view, channel=channel, request_id=request_id)
            if line is not None:
                lines.append(line)
    if not merged:
        return record
    if log is None:
        disclosure_log_append(lines)
    else:
        log.extend(lines)
    categories = sorted(
        views.values(), key=lambda v: (_ORDER[v.code], _SERVICE_ORDER.get(v.source_service, 99))
    )
    not_visible = [
        nv for nv in record.not_visible if (nv["code"], nv["owner_service"]) not in merged
    ]
    return dataclasses.replace(record, categories=categories, not_visible=not_visible)


def diagnostics_summary(
    facts: Facts,
    *,
    channel: str,
    request_id: str = "",
    categories: Collection[str] | None = None,
) -> list[CategoryView]:
    """The diagnostics entries alone, for a page that summarises the person without the whole
    record (a referral): each pair of ``categories`` (all by default) decided, read and logged
    exactly as ``merge_diagnostics`` merges it into the record, so the two cannot diverge.

    The caller runs it in the transaction that builds its response (the disclosure lines are
    written here)."""
    wanted = [p for p in PAIRS if categories is None or p[0] in categories]
    if not wanted:
        return []
    empty = RecordView(person={"id": facts.person_id}, categories=[], not_visible=[])
    merged = merge_diagnostics(empty, facts, channel=channel, request_id=request_id, pairs=wanted)
    return merged.categories


def _shown(facts: Facts, pairs: Collection[tuple[str, str]]) -> set[tuple[str, str]]:
    return {pair for pair in pairs if decide(facts, *pair).level != HIDDEN}


def _wanted(shown: set[tuple[str, str]]) -> list[tuple[type[ServiceEntry], list[str]]]:
    """The diagnostics models and recording services to read for the shown pairs."""
    wanted = []
    for model in ENTRY_MODELS:
        sources = [s for s in recording_services(model) if (model.CATEGORY, s) in shown]
        if sources:
            wanted.append((model, sources))
    return wanted


def _entries(
    person_id: int, shown: set[tuple[str, str]], rows: list[ServiceEntry] | None = None
) -> dict[tuple[str, str], list]:
    """The entries of the shown pairs: ``rows`` if the caller read them with the record,
    otherwise one query for the three models (``section_rows``); and one query for the area
    results when there are exclusion assessments."""
    found: dict[tuple[str, str], list] = defaultdict(list)
    areas: dict[int, list[ExclusionAreaResult]] = defaultdict(list)
    if rows is None:
        rows = section_rows(person_id, _wanted(shown))
    for obj in rows:
        if (obj.CATEGORY, obj.recorded_by_service) in shown:
            found[(obj.CATEGORY, obj.recorded_by_service)].append(obj)
    assessments = [o.pk for rows in found.values() for o in rows if isinstance(o, ExclusionAssessment)]
    if assessments:
        for result in (
            ExclusionAreaResult.objects.filter(assessment_id__in=assessments)
            .select_related("area")
            .order_by("area__position", "pk")
        ):
            areas[result.assessment_id].append(result)
    for rows in found.values():
        rows.sort(key=lambda r: (getattr(r, _DATE_FIELD[type(r)]), r.created_at), reverse=True)
        for row in rows:
            if isinstance(row, ExclusionAssessment):
                row.area_rows = areas.get(row.pk, [])
    return found


def _number(value: Decimal) -> str:
    text = f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}".rstrip("0")
    return text.replace(".", ",")


def _entry(obj: ServiceEntry) -> dict:
    """An entry as the record shows it, with what explains it (area results, factors)."""
    label = f"{obj._meta.app_label}.{obj._meta.object_name}"
    data = _entry_json(obj, label)
    data["recorded_by_org_id"] = obj.recorded_by_org_id  # who may edit it: the recording organisation
    if isinstance(obj, ExclusionAssessment):
        for result in getattr(obj, "area_rows", ()):
            text = _number(result.score)
            if result.level:
                text = f"{text} ({result.get_level_display().lower()})"
            data["fields"].append(
                {
                    "name": f"area_{result.area.kind}",
                    "label": _("Área: %(area)s") % {"area": result.area.get_kind_display()},
                    "value": str(result.score),
                    "display": text,
                }
            )
    elif isinstance(obj, EmployabilityAssessment):
        factors = employability_factors(
            months_unemployed=obj.months_unemployed,
            isced_level=obj.education_level.isced_level if obj.education_level_id else None,
            occupation_major_group=obj.occupation.major_group if obj.occupation_id else None,
            age=obj.age,
            languages=list(obj.languages),
            driving_licence=obj.driving_licence,
            months_worked_last_two_years=obj.months_worked_last_two_years,
        )
        text = "; ".join(f"{f.reason} (+{f.points})" for f in factors) or _("ninguno")
        data["fields"].append(
            {
                "name": "suggestion_factors",
                "label": _("Factores que explican la sugerencia (tabla orientativa de RIS)"),
                "value": text,
                "display": text,
            }
        )
    elif isinstance(obj, BasicEmployabilityScreening):
        data["note"] = str(SCREENING_NOTE)
    return data




# --- Profiling on the record page ----------------------------------------------------------------------


def _latest_level(record: RecordView, pair: tuple[str, str], fields: dict) -> str | None:
    """The level of the newest entry of the given types that the viewer sees in full."""
    view = next(
        (v for v in record.categories if (v.code, v.source_service) == pair and v.level == FULL),
        None,
    )
    if view is None:
        return None
    by_type = {str(model._meta.verbose_name): name for model, name in fields.items()}
    candidates = []
    for entry in view.entries:
        name = by_type.get(entry.get("type"))
        if name is None:
            continue
        values = {f["name"]: f["value"] for f in entry.get("fields", ())}
        if values.get(name):
            candidates.append(
                (values.get("assessed_on") or "", entry.get("recorded_at") or "", values[name])
            )
    return max(candidates)[2] if candidates else None


def profile_of(record: RecordView) -> profiling.Profile:
    """The profiling proposal from what this record shows in full (advisory, GDPR art. 22).

    The exclusion level is the newest of the social services' assessments and exclusion
    sections; the employability level the newest diagnosis of the employment service (a basic
    screening is orientative and does not count). A level the viewer does not see in full is
    absent, and then there is no proposal."""
    exclusion = _latest_level(
        record,
        ("exclusion_social", SOCIAL),
        {ExclusionAssessment: "level", ExclusionSituation: "severity"},
    )
    employability = _latest_level(
        record,
        ("empleabilidad", EMPLOYMENT),
        {EmployabilityAssessment: "level", LegacyEmployabilityLevel: "level"},
    )
    return profiling.profile(exclusion_level=exclusion, employability_level=employability)
