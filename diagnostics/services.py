"""Writes of the diagnostics app: assessments, the alert sweep and what people do with alerts.

**System context.** Evaluating a rule reads every person's data, across services, to
decide whether the rule fires: that is the platform processing the record for the
purpose "prevención (alertas)", not a person looking at it. It runs inside
``system_context``: one transaction per rule that marks itself
(``set_config('ris.actor', 'system:alerts.<rule>', true)``, ready for row-level
security, and a context variable the code can check) and writes nothing a person
reads except through ``AlertDelivery``. What a person receives is decided per
recipient by ``sharing.policy.decide`` with purpose "prevencion" and written to the
disclosure log (event "alert", channel "job"), one bulk append per batch of alerts.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import ReferenceProfessional, ServiceEntry
from cases.services import StaleVersion
from consent.purposes import Purpose
from ris.accounts.models import Membership, Role
from ris.accounts.viewer import Viewer
from sharing.caseload import organisation_attends
from sharing.categories import BY_CODE, COMMON
from sharing.disclosure import LogLine, disclosure_log_append
from sharing.facts import load_facts_many
from sharing.models import DisclosureLogEntry, PersonGroupObjectPermission
from sharing.policy import FULL, HIDDEN, INDICATOR, Facts, decide, min_level, source_services

from . import employability, instruments
from .models import (
    UNRESOLVED,
    Alert,
    AlertDelivery,
    AlertRule,
    AlertState,
    BasicEmployabilityScreening,
    EmployabilityAssessment,
    ExclusionAnswer,
    ExclusionAreaResult,
    ExclusionAssessment,
    Instrument,
)
from .rules import (
    RULES,
    Context,
    RuleDef,
    coordination_parts_missing,
    household_minor_age,
    share_households,
    unshare_households,
)

logger = logging.getLogger(__name__)

PREVENTION = Purpose.PREVENTION.value
#: Roles that read alerts (the workspace inbox); a queue's text is built for the most
#: restricted of them present in the organisation.
INBOX_ROLES = (
    Role.SOCIAL_WORKER,
    Role.EMPLOYMENT_COUNSELLOR,
    Role.NGO_TECHNICIAN,
    Role.COORDINATOR,
)
#: Written on the alerts the sweep resolves, in the language active when it runs.
AUTO_RESOLUTION_NOTE = gettext_lazy(
    "Resuelta automáticamente: la condición de la regla ya no se cumple."
)
BATCH_SIZE = 2000
#: After opening this many alerts at once, refresh the planner's statistics of the alert table.
ANALYZE_AFTER = 5000
#: Memory for the sorts and hashes of one rule's statement (SET LOCAL: this transaction only).
SWEEP_WORK_MEM = "64MB"

_SYSTEM_JOB: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "ris_system_job", default=None
)


@contextmanager
def system_context(job: str) -> Iterator[None]:
    """A transaction in which the platform itself reads the record (see the module docstring)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('ris.actor', %s, true)", [f"system:{job}"])
        token = _SYSTEM_JOB.set(job)
        try:
            yield
        finally:
            _SYSTEM_JOB.reset(token)


def current_system_job() -> str | None:
    return _SYSTEM_JOB.get()


# --- Recording assessments --------------------------------------------------------------------


def _ensure_may_record(
    viewer: Viewer, model: type[ServiceEntry], person_id: int, *, any_service: bool = False
) -> None:
    owner = BY_CODE[model.CATEGORY].owner_service
    if not any_service and owner not in (COMMON, viewer.service):
        raise PermissionDenied(_("Solo el servicio propietario puede registrar esta información."))
    if not organisation_attends(viewer.organisation_id, person_id):
        raise PermissionDenied


def _entry_base(viewer: Viewer, person_id: int, restricted: bool) -> dict:
    return {
        "person_id": person_id,
        "recorded_by_service": viewer.service,
        "recorded_by_org_id": viewer.organisation_id,
        "recorded_by_id": viewer.user_id,
        "restricted": restricted,
    }


@transaction.atomic
def exclusion_assessment_record(
    *,
    viewer: Viewer,
    person_id: int,
    instrument: Instrument,
    present_item_ids: Sequence[int],
    assessed_on: dt.date,
    notes: str = "",
    restricted: bool = False,
) -> ExclusionAssessment:
    """Score the instrument and record the assessment with its answers and area results."""
    _ensure_may_record(viewer, ExclusionAssessment, person_id)
    scoring = _scored(instrument, present_item_ids)
    assessment = ExclusionAssessment(
        **_entry_base(viewer, person_id, restricted),
        instrument=instrument,
        assessed_on=assessed_on,
        total_score=scoring.total,
        level=scoring.level,
        notes=notes,
    )
    assessment.full_clean()
    assessment.save()
    _store_scoring(assessment, scoring)
    _queue(person_id)
    return assessment


def _scored(instrument: Instrument, present_item_ids: Sequence[int]):
    """The instrument's scoring of the answers, or a Spanish ValidationError."""
    try:
        scoring = instruments.score(instrument, present_item_ids)
    except ValueError as exc:
        raise ValidationError(
            _("Hay respuestas que no pertenecen a este instrumento."), code="items"
        ) from exc
    if not scoring.level:
        raise ValidationError(
            _("El instrumento no tiene puntos de corte para la puntuación total."), code="cutoffs"
        )
    return scoring


def _store_scoring(assessment: ExclusionAssessment, scoring) -> None:
    """The answers and area results of a scoring."""
    ExclusionAnswer.objects.bulk_create(
        ExclusionAnswer(assessment=assessment, item_id=item_id, present=present, score=item_score)
        for item_id, present, item_score in scoring.answers
    )
    ExclusionAreaResult.objects.bulk_create(
        ExclusionAreaResult(assessment=assessment, area_id=a.area_id, score=a.score, level=a.level)
        for a in scoring.areas
    )


@transaction.atomic
def employability_assessment_record(
    *,
    viewer: Viewer,
    person_id: int,
    assessed_on: dt.date,
    level: str,
    months_unemployed: int | None,
    education_level=None,
    occupation=None,
    age: int,
    languages: list[str],
    driving_licence: bool,
    months_worked_last_two_years: int,
    factors: str = "",
    restricted: bool = False,
) -> EmployabilityAssessment:
    """The employment service's diagnosis: the level is the counsellor's, the suggestion is stored beside it."""
    _ensure_may_record(viewer, EmployabilityAssessment, person_id)
    entry = EmployabilityAssessment(
        **_entry_base(viewer, person_id, restricted),
        **_employability_values(
            assessed_on=assessed_on, level=level, months_unemployed=months_unemployed,
            education_level=education_level, occupation=occupation, age=age, languages=languages,
            driving_licence=driving_licence,
            months_worked_last_two_years=months_worked_last_two_years, factors=factors,
        ),
    )
    entry.full_clean()
    entry.save()
    _queue(person_id)
    return entry


def _employability_values(*, education_level, occupation, **fields) -> dict:
    """A diagnosis's field values as typed, with the factors' suggested level beside them."""
    suggested = employability.suggested_employability_level(
        months_unemployed=fields["months_unemployed"],
        isced_level=education_level.isced_level if education_level else None,
        occupation_major_group=occupation.major_group if occupation else None,
        age=fields["age"],
        languages=fields["languages"],
        driving_licence=fields["driving_licence"],
        months_worked_last_two_years=fields["months_worked_last_two_years"],
    )
    return {
        **fields,
        "education_level": education_level,
        "occupation": occupation,
        "suggested_level": suggested,
    }


def _screening_values(
    *, screened_on: dt.date, answers: dict[str, bool], refer_to_employment: bool, notes: str
) -> dict:
    """A screening's field values, with its orientative result computed from the answers."""
    return {
        "screened_on": screened_on,
        **{q: answers[q] for q in employability.SCREENING_QUESTIONS},
        "result": employability.screening_result(answers),
        "refer_to_employment": refer_to_employment,
        "notes": notes,
    }


@transaction.atomic
def screening_record(
    *,
    viewer: Viewer,
    person_id: int,
    screened_on: dt.date,
    answers: dict[str, bool],
    refer_to_employment: bool = True,
    notes: str = "",
    restricted: bool = False,
) -> BasicEmployabilityScreening:
    """A basic, orientative screening: any service that attends the person may record it."""
    _ensure_may_record(viewer, BasicEmployabilityScreening, person_id, any_service=True)
    entry = BasicEmployabilityScreening(
        **_entry_base(viewer, person_id, restricted),
        **_screening_values(
            screened_on=screened_on, answers=answers,
            refer_to_employment=refer_to_employment, notes=notes,
        ),
    )
    entry.full_clean()
    entry.save()
    _queue(person_id)
    return entry


# --- Editing assessments ------------------------------------------------------------------------
#
# An entry is changed only by the organisation that recorded it (and while it attends the
# person), and every change carries the version the form was read at: the optimistic locking
# of the record's sections (``cases.services``: ``ServiceEntry.version`` and ``StaleVersion``),
# so a stale form never overwrites a newer save. The change goes through ``save()``, so the
# change history (django-auditlog) records it, and the person is re-evaluated on commit.


def _ensure_may_edit(viewer: Viewer, entry: ServiceEntry) -> None:
    if (entry.recorded_by_org_id, entry.recorded_by_service) != (
        viewer.organisation_id,
        viewer.service,
    ):
        raise PermissionDenied(
            _("Solo la organización que registró la anotación puede modificarla.")
        )
    if not organisation_attends(viewer.organisation_id, entry.person_id):
        raise PermissionDenied


def _locked_at_version(entry: ServiceEntry, version: int):
    """The entry's row, locked, if it is still at the version the user read (else StaleVersion)."""
    current = type(entry).objects.select_for_update().get(pk=entry.pk)
    if current.version != version:
        raise StaleVersion()
    return current


def _save_edit(entry: ServiceEntry, version: int) -> None:
    entry.full_clean()
    entry.version = version + 1
    entry.save()
    _queue(entry.person_id)


@transaction.atomic
def exclusion_assessment_update(
    *,
    viewer: Viewer,
    assessment: ExclusionAssessment,
    version: int,
    present_item_ids: Sequence[int],
    assessed_on: dt.date,
    notes: str = "",
    restricted: bool = False,
) -> ExclusionAssessment:
    """Change an assessment (same instrument). Answers that change are scored again with the
    instrument as it is now, as when recording; unchanged answers keep their scores and result."""
    _ensure_may_edit(viewer, assessment)
    assessment = _locked_at_version(assessment, version)
    present = set(present_item_ids)
    before = set(
        ExclusionAnswer.objects.filter(assessment=assessment, present=True).values_list(
            "item_id", flat=True
        )
    )
    if present != before:
        scoring = _scored(assessment.instrument, present)
        assessment.total_score = scoring.total
        assessment.level = scoring.level
        ExclusionAnswer.objects.filter(assessment=assessment).delete()
        ExclusionAreaResult.objects.filter(assessment=assessment).delete()
        _store_scoring(assessment, scoring)
    assessment.assessed_on = assessed_on
    assessment.notes = notes
    assessment.restricted = restricted
    _save_edit(assessment, version)
    return assessment


@transaction.atomic
def employability_assessment_update(
    *,
    viewer: Viewer,
    entry: EmployabilityAssessment,
    version: int,
    assessed_on: dt.date,
    level: str,
    months_unemployed: int | None,
    education_level=None,
    occupation=None,
    age: int,
    languages: list[str],
    driving_licence: bool,
    months_worked_last_two_years: int,
    factors: str = "",
    restricted: bool = False,
) -> EmployabilityAssessment:
    """Change a diagnosis: the counsellor's level as typed, the suggestion computed again."""
    _ensure_may_edit(viewer, entry)
    entry = _locked_at_version(entry, version)
    values = _employability_values(
        assessed_on=assessed_on, level=level, months_unemployed=months_unemployed,
        education_level=education_level, occupation=occupation, age=age, languages=languages,
        driving_licence=driving_licence,
        months_worked_last_two_years=months_worked_last_two_years, factors=factors,
    )
    for name, value in {**values, "restricted": restricted}.items():
        setattr(entry, name, value)
    _save_edit(entry, version)
    return entry


@transaction.atomic
def screening_update(
    *,
    viewer: Viewer,
    entry: BasicEmployabilityScreening,
    version: int,
    screened_on: dt.date,
    answers: dict[str, bool],
    refer_to_employment: bool = True,
    notes: str = "",
    restricted: bool = False,
) -> BasicEmployabilityScreening:
    """Change a screening: its orientative result computed again from the answers."""
    _ensure_may_edit(viewer, entry)
    entry = _locked_at_version(entry, version)
    values = _screening_values(
        screened_on=screened_on, answers=answers, refer_to_employment=refer_to_employment,
        notes=notes,
    )
    for name, value in {**values, "restricted": restricted}.items():
        setattr(entry, name, value)
    _save_edit(entry, version)
    return entry


def _queue(person_id: int) -> None:
    from .tasks import queue_person_evaluation

    queue_person_evaluation(person_id)


# --- The sweep --------------------------------------------------------------------------------


@dataclass
class RuleOutcome:
    code: str
    created: int = 0
    resolved: int = 0
    deliveries: int = 0
    #: deliveries of alerts opened earlier, to organisations that started attending the person since
    late_deliveries: int = 0
    skipped: str = ""
    #: the database error that stopped this rule (its savepoint rolled back; the others ran)
    error: str = ""
    seconds: float = 0.0  # how long the rule took, deliveries included


@dataclass
class SweepResult:
    run_id: str
    person_ids: list[int] | None
    outcomes: list[RuleOutcome] = field(default_factory=list)
    households_seconds: float = 0.0  # computing the households the household rules share

    @property
    def failed(self) -> bool:
        return any(o.error for o in self.outcomes)

    def summary(self) -> dict:
        return {
            "run_id": self.run_id,
            "created": sum(o.created for o in self.outcomes),
            "resolved": sum(o.resolved for o in self.outcomes),
            "deliveries": sum(o.deliveries for o in self.outcomes),
            "late_deliveries": sum(o.late_deliveries for o in self.outcomes),
            "skipped": {o.code: o.skipped for o in self.outcomes if o.skipped},
            "errors": {o.code: o.error for o in self.outcomes if o.error},
        }


class SweepFailed(RuntimeError):
    """Raised by the tasks after a sweep in which some rule failed (the others ran and committed),
    so that the task ends in error and monitoring sees it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)  # one argument: the exception pickles for the result backend
        self.errors = errors

    def __str__(self) -> str:
        return f"Alert rules failed: {self.errors}"


#: One statement per rule: the persons it fires for (``hits``) against its unresolved alerts
#: (``current``), compared in one full join that keeps only the differences (on a night with
#: nothing new, none); the differences resolve alerts and open new ones (unless a professional
#: resolved the person's alert within ``silence_days``).
_APPLY_SQL = """
WITH hits AS MATERIALIZED ({rule_sql}),
current AS MATERIALIZED (
    SELECT a.person_id FROM diagnostics_alert a
    WHERE a.rule_id = %(rule_id)s AND a.state IN ('open', 'acknowledged') {only_alerts}
),
changed AS MATERIALIZED (
    SELECT h.person_id AS hit, c.person_id AS gone
    FROM hits h FULL JOIN current c ON c.person_id = h.person_id
    WHERE h.person_id IS NULL OR c.person_id IS NULL
),
closed AS (
    UPDATE diagnostics_alert a
    SET state = 'resolved', resolved_at = %(now)s, resolution_note = %(auto_note)s
    WHERE a.rule_id = %(rule_id)s AND a.state IN ('open', 'acknowledged')
      AND a.person_id IN (SELECT d.gone FROM changed d WHERE d.hit IS NULL)
    RETURNING a.id
),
silenced AS (
    SELECT s.person_id FROM diagnostics_alert s
    WHERE s.rule_id = %(rule_id)s AND s.state = 'resolved' AND s.resolved_by_id IS NOT NULL
      AND s.resolved_at > %(now)s - make_interval(days => %(silence_days)s::int)
),
inserted AS (
    INSERT INTO diagnostics_alert (rule_id, person_id, state, created_at, resolution_note)
    SELECT %(rule_id)s, d.hit, 'open', %(now)s, '' FROM changed d
    WHERE d.gone IS NULL
      AND d.hit NOT IN (SELECT s.person_id FROM silenced s)
    ON CONFLICT DO NOTHING
    RETURNING id, person_id
)
SELECT i.id, i.person_id, {facts} AS facts FROM inserted i JOIN hits h ON h.person_id = i.person_id
UNION ALL
SELECT c.id, NULL, NULL FROM closed c
"""


def _json(value):
    """Django's PostgreSQL backend hands jsonb to Python as text (JSONField decodes it)."""
    return json.loads(value) if isinstance(value, str) else value


def rule_hits(
    rule: AlertRule, *, person_ids: list[int] | None = None, now: dt.datetime | None = None
) -> dict[int, dict]:
    """The persons a rule fires for, with its facts, without writing anything (tests, benchmarks)."""
    now = now or timezone.now()
    definition = RULES[rule.code]
    params = definition.parameters(rule.thresholds)
    ctx = Context(
        today=timezone.localdate(now), now=now, person_ids=person_ids, timezone=settings.TIME_ZONE
    )
    built = definition.build(params, ctx)
    if built is None:
        return {}
    sql, facts, extra = built
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT h.person_id, {facts} FROM ({sql}) h", {**ctx.params(), **params, **extra}
        )
        return {person_id: _json(facts) for person_id, facts in cursor.fetchall()}


def alerts_evaluate(
    *,
    person_ids: list[int] | None = None,
    now: dt.datetime | None = None,
    codes: Sequence[str] | None = None,
    batch_size: int = BATCH_SIZE,
) -> SweepResult:
    """Evaluate every active rule (for everybody, or for the persons given): open the alerts
    that fire and are not open yet, resolve those whose condition no longer holds, and deliver
    the new ones. Idempotent: running it again changes nothing."""
    now = now or timezone.now()
    ctx = Context(
        today=timezone.localdate(now), now=now, person_ids=person_ids, timezone=settings.TIME_ZONE
    )
    result = SweepResult(run_id=uuid.uuid4().hex[:16], person_ids=person_ids)
    rules = AlertRule.objects.filter(is_active=True).order_by("code")
    if codes is not None:
        rules = rules.filter(code__in=codes)
    rules = list(rules)
    shared = _households_to_share(rules) if person_ids is None else frozenset()
    if not shared:
        _evaluate_rules(rules, ctx, result, batch_size)
        return result
    try:
        started = time.perf_counter()
        with system_context("alerts.households"):
            for minor_age in shared:
                share_households(ctx.today, minor_age)
        result.households_seconds = time.perf_counter() - started
        _evaluate_rules(rules, replace(ctx, shared_households=shared), result, batch_size)
    finally:
        if not connection.needs_rollback:
            unshare_households(shared)
    return result


def _households_to_share(rules: Sequence[AlertRule]) -> frozenset[int]:
    """The minor ages with which two or more of the rules count every household: the sweep
    computes those households once (``rules.share_households``) instead of once per rule."""
    ages: Counter[int] = Counter()
    for rule in rules:
        definition = RULES.get(rule.code)
        if definition is None or not definition.counts_households:
            continue
        try:
            ages[household_minor_age(definition.parameters(rule.thresholds))] += 1
        except (TypeError, ValueError):
            continue  # reported when the rule itself is evaluated
    return frozenset(age for age, count in ages.items() if count > 1)


def _evaluate_rules(
    rules: Sequence[AlertRule], ctx: Context, result: SweepResult, batch_size: int
) -> None:
    """Each rule in its own transaction (``system_context``); then, for the rules that ran, the
    alerts opened earlier that an organisation attending the person has not received yet."""
    ran: list[tuple[AlertRule, RuleOutcome]] = []
    for rule in rules:
        started = time.perf_counter()
        outcome = RuleOutcome(rule.code)
        result.outcomes.append(outcome)
        _guarded(outcome, _evaluate_rule, rule, outcome, ctx, result.run_id, batch_size)
        outcome.seconds = time.perf_counter() - started
        if not (outcome.skipped or outcome.error):
            ran.append((rule, outcome))
    if not ran:
        return
    with system_context("alerts.late_deliveries"):
        missing = _missing_deliveries([rule.pk for rule, _ in ran], ctx)
    for rule, outcome in ran:
        if rule.pk in missing:
            started = time.perf_counter()
            _guarded(
                outcome,
                _deliver_late,
                rule,
                outcome,
                ctx,
                [alert_id for alert_id, _, _ in missing[rule.pk]],
                result.run_id,
                batch_size,
            )
            outcome.seconds += time.perf_counter() - started


def _guarded(outcome: RuleOutcome, step, *args) -> None:
    """Run one rule's step; a database error other than a lost connection stops that rule only.

    The step runs in ``system_context``, so its transaction (or savepoint) is already rolled back
    when the error arrives here: the error is logged and recorded, and the sweep goes on with the
    next rule (the task then ends in error, ``SweepFailed``). ``OperationalError`` (the connection
    lost, the server going away) aborts the sweep, and the task retries it, as before."""
    counted = (outcome.created, outcome.resolved, outcome.deliveries, outcome.late_deliveries)
    try:
        step(*args)
    except OperationalError:
        raise
    except DatabaseError as exc:
        logger.exception("Alert rule %s failed", outcome.code)
        outcome.error = f"{type(exc).__name__}: {exc}".strip()[:500]
        # what the step counted was rolled back with it
        outcome.created, outcome.resolved, outcome.deliveries, outcome.late_deliveries = counted


def _evaluate_rule(
    rule: AlertRule, outcome: RuleOutcome, ctx: Context, run_id: str, batch_size: int
) -> None:
    now = ctx.now
    definition = RULES.get(rule.code)
    if definition is None:
        outcome.skipped = _("no hay una regla programada con este código")
        logger.error("Alert rule %s has no definition in diagnostics.rules", rule.code)
        return
    try:
        params = definition.parameters(rule.thresholds)
    except (TypeError, ValueError) as exc:
        outcome.skipped = _("umbrales no válidos: %(error)s") % {"error": exc}
        logger.error("Alert rule %s has invalid thresholds: %s", rule.code, exc)
        return
    only_alerts = ctx.only("a")
    with system_context(f"alerts.{rule.code}"):
        built = definition.build(params, ctx)  # may read (organisations' regions): inside, too
        missing = coordination_parts_missing(definition)
        if built is None:
            outcome.skipped = _("faltan modelos de coordinación: %(models)s") % {
                "models": ", ".join(missing)
            }
            logger.warning(
                "Alert rule %s skipped: coordination models missing (%s)", rule.code, missing
            )
            return
        if missing:
            logger.info("Alert rule %s runs without %s", rule.code, ", ".join(missing))
        sql, facts, extra = built
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL work_mem = '{SWEEP_WORK_MEM}'")
            cursor.execute(
                _APPLY_SQL.format(rule_sql=sql, facts=facts, only_alerts=only_alerts),
                {
                    **ctx.params(),
                    **params,
                    **extra,
                    "rule_id": rule.pk,
                    "auto_note": str(AUTO_RESOLUTION_NOTE),
                    "silence_days": params["silence_days"],
                },
            )
            rows = cursor.fetchall()
        new = [
            (alert_id, person_id, _json(facts))
            for alert_id, person_id, facts in rows
            if person_id is not None
        ]
        outcome.resolved = len(rows) - len(new)
        outcome.created = len(new)
        if outcome.created >= ANALYZE_AFTER:
            # the planner must know the table grew before the next rule's statement is planned
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE diagnostics_alert")
        for start in range(0, len(new), batch_size):
            outcome.deliveries += _deliver(
                definition,
                params,
                new[start : start + batch_size],
                now,
                request_id=f"alerts:{run_id}",
            )


#: The nightly sweep catches up the attentions opened in the last days only: each one queued the
#: person's evaluation when it was opened, which delivers without this limit; the sweep makes up
#: for the evaluations a broker outage lost. (Without the limit it compares every attention with
#: every unresolved alert: 0.6 s a night at 100,000 persons, more than the whole sweep.)
LATE_DELIVERY_DAYS = 7

#: The unresolved alerts (opened before this run) of the persons an active organisation started
#: attending on or after the day the alert opened and that has no delivery of it: those
#: organisations were not there to be decided when the alert was delivered. Organisations that
#: attended the person then were decided then (one that saw a category hidden got nothing, and
#: is not asked again every night). One statement for every rule of the run.
_MISSING_DELIVERIES_SQL = """
SELECT a.rule_id, a.id, a.person_id,
       array_agg(DISTINCT e.organisation_id ORDER BY e.organisation_id)
FROM {enrolment} e
JOIN {organisation} o ON o.id = e.organisation_id AND o.is_active
JOIN diagnostics_alert a ON a.person_id = e.person_id
WHERE e.end_date IS NULL {recent}
  AND a.rule_id = ANY(%(rule_ids)s) AND a.state IN ('open', 'acknowledged')
  AND a.created_at < %(now)s {only_alerts} {only_ids}
  AND e.start_date >= (a.created_at AT TIME ZONE %(tz)s)::date
  AND NOT EXISTS (SELECT 1 FROM diagnostics_alertdelivery d
                  WHERE d.alert_id = a.id AND d.organisation_id = e.organisation_id)
GROUP BY a.rule_id, a.id, a.person_id
"""


def _missing_deliveries(
    rule_ids: Sequence[int], ctx: Context, *, alert_ids: Sequence[int] | None = None
) -> dict[int, list[tuple[int, int, list[int]]]]:
    """Per rule, the (alert, person, organisations) an alert has not reached yet (see the SQL):
    for the persons evaluated, or for everybody over the last ``LATE_DELIVERY_DAYS``."""
    from ris.accounts.models import Organisation
    from sharing.models import Enrolment

    whole_population = ctx.person_ids is None
    sql = _MISSING_DELIVERIES_SQL.format(
        enrolment=Enrolment._meta.db_table,
        organisation=Organisation._meta.db_table,
        recent="AND e.start_date >= %(late_since)s::date" if whole_population else "",
        only_alerts=ctx.only("a"),
        only_ids="AND a.id = ANY(%(alert_ids)s)" if alert_ids is not None else "",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                **ctx.params(),
                "rule_ids": list(rule_ids),
                "alert_ids": list(alert_ids or []),
                "late_since": ctx.today - dt.timedelta(days=LATE_DELIVERY_DAYS),
            },
        )
        rows = cursor.fetchall()
    out: dict[int, list[tuple[int, int, list[int]]]] = defaultdict(list)
    for rule_id, alert_id, person_id, organisation_ids in rows:
        out[rule_id].append((alert_id, person_id, list(organisation_ids)))
    return out


def _deliver_late(
    rule: AlertRule,
    outcome: RuleOutcome,
    ctx: Context,
    alert_ids: list[int],
    run_id: str,
    batch_size: int,
) -> None:
    """Deliver open alerts to the organisations that started attending the person since: the
    rule's facts read again for those persons (as they are now) and ``_deliver`` as for a new
    alert (the same recipients, levels, texts and disclosure log), to those organisations only."""
    definition = RULES[rule.code]
    params = definition.parameters(rule.thresholds)
    with system_context(f"alerts.{rule.code}"):
        with connection.cursor() as cursor:
            # a concurrent evaluation of the same person waits here, then finds them delivered
            cursor.execute(
                "SELECT id FROM diagnostics_alert WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
                [alert_ids],
            )
        fresh = _missing_deliveries([rule.pk], ctx, alert_ids=alert_ids).get(rule.pk, [])
        if not fresh:
            return
        person_ctx = replace(
            ctx, person_ids=sorted({p for _, p, _ in fresh}), shared_households=frozenset()
        )
        built = definition.build(params, person_ctx)
        if built is None:
            return
        sql, facts, extra = built
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT h.person_id, {facts} FROM ({sql}) h",
                {**person_ctx.params(), **params, **extra},
            )
            facts_by_person = {person_id: _json(f) for person_id, f in cursor.fetchall()}
        batch = [
            (alert_id, person_id, facts_by_person[person_id])
            for alert_id, person_id, _ in fresh
            if person_id in facts_by_person  # the rule still fires (it was just evaluated)
        ]
        organisations = {alert_id: set(orgs) for alert_id, _, orgs in fresh}
        for start in range(0, len(batch), batch_size):
            outcome.late_deliveries += _deliver(
                definition,
                params,
                batch[start : start + batch_size],
                ctx.now,
                request_id=f"alerts:{run_id}",
                organisations=organisations,
            )


# --- Delivery: who receives an alert, and what they may read of it -----------------------------


@dataclass(frozen=True)
class Recipient:
    organisation_id: int
    service: str
    user_id: int | None  # None: the organisation's queue
    viewers: tuple[Viewer, ...]

    @property
    def role(self) -> str:
        return self.viewers[0].role if self.user_id is not None else ""


def recipients_for(person_ids: Sequence[int]) -> dict[int, list[Recipient]]:
    """For each person, each organisation that attends them: its reference professional for the
    person (if they hold an inbox role there), else the organisation's queue (read by any of its
    staff, so decided for every inbox role present there)."""
    attending = list(
        PersonGroupObjectPermission.objects.filter(
            content_object_id__in=person_ids,
            permission__codename="view_person",
            group__organisation__is_active=True,
        )
        .values_list("content_object_id", "group__organisation__id")
        .distinct()
    )
    org_ids = {org for _, org in attending}
    by_user: dict[tuple[int, int], list[Viewer]] = defaultdict(list)
    by_role: dict[int, dict[str, Viewer]] = defaultdict(dict)
    for membership in (
        Membership.objects.filter(
            organisation_id__in=org_ids,
            is_active=True,
            role__in=INBOX_ROLES,
            user__is_active=True,
        )
        .select_related("organisation")
        .order_by("pk")
    ):
        viewer = Viewer.from_membership(membership)
        by_user[(membership.organisation_id, membership.user_id)].append(viewer)
        by_role[membership.organisation_id].setdefault(membership.role, viewer)
    professionals = {
        (person, org): user
        for person, org, user in ReferenceProfessional.objects.filter(
            person_id__in=person_ids,
            organisation_id__in=org_ids,
        ).values_list("person_id", "organisation_id", "professional_id")
    }
    out: dict[int, list[Recipient]] = defaultdict(list)
    for person_id, org_id in sorted(attending):
        user_id = professionals.get((person_id, org_id))
        if user_id is not None and (org_id, user_id) in by_user:
            viewers = tuple(by_user[(org_id, user_id)])
            out[person_id].append(Recipient(org_id, viewers[0].service, user_id, viewers))
        elif by_role.get(org_id):
            viewers = tuple(by_role[org_id].values())
            out[person_id].append(Recipient(org_id, viewers[0].service, None, viewers))
    return out


def category_level(facts: Facts, category: str) -> tuple[str, str]:
    """The level of a category for one viewer (the lowest over the services that record it), and the basis."""
    decisions = [decide(facts, category, source) for source in source_services(category)]
    level = min_level(*(d.level for d in decisions))
    bases = sorted({d.basis for d in decisions if d.basis})
    return level, "; ".join(bases)[:200]


def recipient_levels(
    categories: Sequence[str],
    facts_per_viewer: Sequence[Facts],
    *,
    service: str,
    blocked: Sequence[Sequence[str]] = (),
) -> tuple[dict[str, str], dict[str, str]]:
    """Each category's level for a recipient: the lowest over its viewers, capped at indicator
    where the entries read were restricted by another service (origin block)."""
    levels: dict[str, str] = {}
    bases: dict[str, str] = {}
    blocked_categories = {category for category, by_service in blocked if by_service != service}
    for category in categories:
        found = [category_level(facts, category) for facts in facts_per_viewer]
        level = min_level(*(lv for lv, _ in found)) if found else HIDDEN
        if category in blocked_categories:
            level = min_level(level, INDICATOR)
        levels[category] = level
        bases[category] = found[0][1] if found else ""
    return levels, bases


def render_for(
    definition: RuleDef, params: dict, facts: dict, levels: dict[str, str]
) -> tuple[str, str]:
    """(text, plain text): the text sees only the facts of categories at full level (the
    categories read are those of ``levels``: the rule's, or the alert's own ``_categories``)."""
    categories = tuple(levels)
    visible = {c: facts[c] for c in categories if levels[c] == FULL and c in facts}
    indicator = frozenset(c for c in categories if levels[c] == INDICATOR)
    text = definition.render(visible, indicator, params)
    plain = definition.render({}, frozenset(categories), params)
    return text, plain


def _deliver(
    definition: RuleDef,
    params: dict,
    batch: list[tuple[int, int, dict]],
    now: dt.datetime,
    *,
    request_id: str,
    organisations: dict[int, set[int]] | None = None,
) -> int:
    """Deliver a batch of (alert, person, facts): for each recipient, what the rule lets that
    organisation hear of (``RuleDef.facts_for``), at the levels it sees; ``organisations`` limits
    each alert to the organisations given (late deliveries)."""
    recipients = recipients_for([person_id for _, person_id, _ in batch])
    targets: list[tuple[int, int, Recipient, dict]] = []
    for alert_id, person_id, facts in batch:
        allowed = organisations.get(alert_id, set()) if organisations is not None else None
        for recipient in recipients.get(person_id, ()):
            if allowed is not None and recipient.organisation_id not in allowed:
                continue
            told = definition.facts_for(facts, recipient.organisation_id)
            if told is None:
                continue  # the rule concerns a relation between other organisations
            targets.append((alert_id, person_id, recipient, told))
    pairs = list(
        dict.fromkeys(
            (viewer, person_id) for _, person_id, r, _ in targets for viewer in r.viewers
        )
    )
    facts_by_pair = dict(
        zip(pairs, load_facts_many(pairs=pairs, purpose=PREVENTION, moment=now), strict=True)
    )
    deliveries: list[AlertDelivery] = []
    lines: list[LogLine] = []
    for alert_id, person_id, recipient, told in targets:
        categories = definition.categories_in(told)
        levels, bases = recipient_levels(
            categories,
            [facts_by_pair[(v, person_id)] for v in recipient.viewers],
            service=recipient.service,
            blocked=told.get("_blocked", ()),
        )
        if any(level == HIDDEN for level in levels.values()):
            continue
        text, plain = render_for(definition, params, told, levels)
        deliveries.append(
            AlertDelivery(
                alert_id=alert_id,
                organisation_id=recipient.organisation_id,
                recipient_id=recipient.user_id,
                text=text,
                plain_text=plain,
                levels=levels,
                delivered_at=now,
            )
        )
        lines.extend(
            LogLine(
                event=DisclosureLogEntry.Event.ALERT,
                channel="job",
                user_id=recipient.user_id,
                organisation_id=recipient.organisation_id,
                role=recipient.role,
                person_id=person_id,
                category=category,
                level=levels[category],
                purpose=PREVENTION,
                basis=bases[category],
                request_id=request_id,
            )
            for category in categories
        )
    AlertDelivery.objects.bulk_create(deliveries)
    disclosure_log_append(lines)
    return len(deliveries)


# --- What people do with alerts ------------------------------------------------------------------


@transaction.atomic
def alert_acknowledge(*, viewer: Viewer, delivery: AlertDelivery) -> bool:
    """Mark the organisation's delivery as seen (only while unresolved; seeing it twice changes
    nothing). The other organisations that received the alert still have it as new."""
    changed = AlertDelivery.objects.filter(
        pk=delivery.pk,
        organisation_id=viewer.organisation_id,
        seen_at__isnull=True,
        alert__state__in=UNRESOLVED,
    ).update(seen_at=timezone.now(), seen_by_id=viewer.user_id)
    return bool(changed)


@transaction.atomic
def alert_resolve(*, viewer: Viewer, delivery: AlertDelivery, note: str) -> None:
    """Resolve the alert for every organisation it was delivered to (the situation was dealt
    with), with the professional's note, which only their organisation reads."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Escriba qué se ha hecho o por qué se cierra la alerta.")})
    now = timezone.now()
    changed = Alert.objects.filter(pk=delivery.alert_id, state__in=UNRESOLVED).update(
        state=AlertState.RESOLVED,
        resolved_at=now,
        resolved_by_id=viewer.user_id,
        resolved_by_organisation_id=viewer.organisation_id,
        resolution_note=note[:4000],
    )
    if not changed:
        raise ValidationError(_("La alerta ya estaba resuelta."), code="resolved")
    # dealing with it is seeing it, for the organisation that resolved it
    AlertDelivery.objects.filter(pk=delivery.pk, seen_at__isnull=True).update(
        seen_at=now, seen_by_id=viewer.user_id
    )
