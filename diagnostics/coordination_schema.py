"""Where the coordination app keeps referrals and joint plans, read defensively.

The ``coordination`` app (referrals, joint plans and their actions) is written in
parallel with this one. The rules that read it (unanswered referrals, duplicated plan
actions, long-term unemployment without an active joint plan) find its tables and
columns here from the models' metadata, by the names agreed for them
(``Referral.state``/``sent_at``, ``JointPlan``, ``PlanAction``) and a few usual
alternatives. When a model or a column is missing the function returns ``None`` and
the rule skips that part (and the sweep logs it) instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import models


@dataclass(frozen=True)
class ReferralSchema:
    table: str
    person: str
    state: str
    sent_at: str
    to_organisation: str | None  # the organisation that must answer (its region's holidays count)
    from_organisation: str | None = None  # the organisation that sent it


@dataclass(frozen=True)
class JointPlanSchema:
    table: str
    person: str
    state: str | None
    end_date: str | None


@dataclass(frozen=True)
class PlanActionSchema:
    table: str
    plan: str
    kind: str
    organisation: str
    state: str | None
    start_date: str | None
    end_date: str | None


def _model(name: str) -> type[models.Model] | None:
    if not apps.is_installed("coordination"):
        return None
    try:
        return apps.get_model("coordination", name)
    except LookupError:
        return None


def _fields(model) -> dict[str, models.Field]:
    return {f.name: f for f in model._meta.concrete_fields}


def _first(fields: dict[str, models.Field], names: tuple[str, ...]) -> models.Field | None:
    for name in names:
        if name in fields:
            return fields[name]
    return None


def _fk_to(fields: dict[str, models.Field], label: str) -> list[models.Field]:
    return [
        f
        for f in fields.values()
        if f.is_relation and f.related_model is not None and f.related_model._meta.label == label
    ]


def _organisation_fk(
    fields: dict[str, models.Field], preferred: tuple[str, ...], avoid: tuple[str, ...]
):
    found = _first(fields, preferred)
    if found is not None:
        return found
    candidates = [
        f for f in _fk_to(fields, "accounts.Organisation") if not any(a in f.name for a in avoid)
    ]
    return candidates[0] if len(candidates) == 1 else None


def referral_schema() -> ReferralSchema | None:
    model = _model("Referral")
    if model is None:
        return None
    fields = _fields(model)
    person = _first(fields, ("person",)) or next(iter(_fk_to(fields, "cases.Person")), None)
    state = _first(fields, ("state", "status"))
    sent_at = _first(fields, ("sent_at",))
    if person is None or state is None or sent_at is None:
        return None
    to_org = _organisation_fk(
        fields,
        (
            "to_organisation",
            "receiving_organisation",
            "recipient_organisation",
            "to_org",
            "destination",
            "target_organisation",
        ),
        avoid=("from", "sender", "origin", "sending"),
    )
    from_org = _organisation_fk(
        fields,
        ("from_organisation", "sending_organisation", "origin_organisation", "from_org"),
        avoid=("to_", "receiv", "recipient", "destination", "target"),
    )
    return ReferralSchema(
        table=model._meta.db_table,
        person=person.column,
        state=state.column,
        sent_at=sent_at.column,
        to_organisation=to_org.column if to_org else None,
        from_organisation=from_org.column if from_org else None,
    )


def joint_plan_schema() -> JointPlanSchema | None:
    model = _model("JointPlan")
    if model is None:
        return None
    fields = _fields(model)
    person = _first(fields, ("person",)) or next(iter(_fk_to(fields, "cases.Person")), None)
    if person is None:
        return None
    state = _first(fields, ("state", "status"))
    end = _first(fields, ("end_date", "ends_on", "closed_on"))
    return JointPlanSchema(
        table=model._meta.db_table,
        person=person.column,
        state=state.column if state else None,
        end_date=end.column if end else None,
    )


def plan_action_schema() -> PlanActionSchema | None:
    model = _model("PlanAction")
    plan = joint_plan_schema()
    if model is None or plan is None:
        return None
    fields = _fields(model)
    plan_fk = _first(fields, ("plan", "joint_plan")) or next(
        iter(
            f
            for f in fields.values()
            if f.is_relation
            and f.related_model is not None
            and f.related_model._meta.model_name == "jointplan"
        ),
        None,
    )
    kind = _first(fields, ("action_type", "kind", "type", "resource", "resource_type", "category"))
    organisation = _organisation_fk(
        fields,
        (
            "owner_organisation",
            "organisation",
            "responsible_organisation",
            "provider",
            "provided_by",
            "organisation_responsible",
        ),
        avoid=(),
    )
    if plan_fk is None or kind is None or organisation is None:
        return None
    state = _first(fields, ("state", "status"))
    start = _first(fields, ("start_date", "starts_on"))
    end = _first(fields, ("end_date", "ends_on", "due_date"))
    return PlanActionSchema(
        table=model._meta.db_table,
        plan=plan_fk.column,
        kind=kind.column,
        organisation=organisation.column,
        state=state.column if state else None,
        start_date=start.column if start else None,
        end_date=end.column if end else None,
    )
